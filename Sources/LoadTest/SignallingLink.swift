import NIOCore
import NIOPosix
import SocketIOParser

/// The signalling half a load-test client drives: Socket.IO (``SocketIOClientStateMachine``)
/// over an RFC 6455 client WebSocket (``WebSocketClientLink``, which answers pings), so its
/// owner sees only Socket.IO outputs. Confined to the owner's event loop.
struct SignallingLink {
    private(set) var socketIO: SocketIOClientStateMachine
    private let webSocket: WebSocketClientLink

    init(token: String, using generator: inout some RandomNumberGenerator) {
        webSocket = WebSocketClientLink(using: &generator)
        socketIO = SocketIOClientStateMachine(auth: ["token": .string(token)])
    }

    /// The TCP connection is up: remember it and send the WebSocket upgrade request.
    func open(_ channel: any Channel, host: String, port: Int) {
        webSocket.attach(channel)
        webSocket.requestUpgrade(host: host, port: port, path: Self.path)
    }

    /// Engine.IO 4 over a WebSocket from the start (no polling).
    static let path = "/socket.io/?EIO=4&transport=websocket"

    /// Bytes from the server: Socket.IO's outputs (a WebSocket error or close comes out as
    /// `.closed`). Frames the outputs ask for (`.send`) are written here, not flushed.
    mutating func receive(_ buffer: inout ByteBuffer) -> [SocketIOClientStateMachine.Output] {
        let (events, failure) = webSocket.receive(&buffer)
        if let failure { return [.closed(reason: failure)] }
        var outputs: [SocketIOClientStateMachine.Output] = []
        for event in events {
            switch event {
            case .upgraded, .ping: break  // a ping is answered by the WebSocket link
            case .text(let text): outputs += socketIO.receive(text: text)
            case .binary: outputs += socketIO.receiveBinary()
            case .close: outputs.append(.closed(reason: "server closed the WebSocket"))
            }
        }
        for case .send(let text) in outputs { write(.text, Array(text.utf8)) }
        return outputs
    }

    /// Emits an event without an ack (false when not connected).
    mutating func emit(_ name: String, _ payload: JSONValue) -> Bool {
        guard let text = socketIO.emitWithoutAck(name, payload) else { return false }
        write(.text, Array(text.utf8))
        return true
    }

    /// Emits an event asking for an ack: its id (nil when not connected or too many acks are pending).
    mutating func emitWithAck(_ name: String, _ payload: JSONValue) -> Int? {
        guard let (id, text) = socketIO.emit(name, payload) else { return nil }
        write(.text, Array(text.utf8))
        return id
    }

    /// Flushes what was written since the last flush.
    func flush() {
        webSocket.flush()
    }

    func close() {
        webSocket.close()
    }

    /// Writes one frame, flushed with the batch (``flush()``).
    private func write(_ opcode: WebSocketClientCodec.Opcode, _ payload: [UInt8]) {
        webSocket.write(opcode, payload)
    }

    /// A TCP client for a signalling connection: its bytes go to `peer` (``WebSocketConnectionHandler``).
    static func bootstrap(on loop: any EventLoop, peer: any SignallingPeer & Sendable) -> ClientBootstrap {
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WebSocketConnectionHandler(participant: peer))
                }
            }
    }
}
