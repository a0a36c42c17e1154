import NIOCore
import NIOPosix
import SocketIOParser

/// The signalling half a load-test client drives: an RFC 6455 client WebSocket
/// (``WebSocketClientCodec``) carrying Socket.IO (``SocketIOClientStateMachine``). It owns the
/// channel's inbound buffer and writes masked frames; WebSocket pings are answered here, so its
/// owner sees only Socket.IO outputs. Confined to the owner's event loop.
struct SignallingLink {
    private(set) var channel: (any Channel)?
    private(set) var socketIO: SocketIOClientStateMachine
    private var codec: WebSocketClientCodec
    private let key: String
    private var inbound = ByteBuffer()
    private var wrote = false

    init(token: String, using generator: inout some RandomNumberGenerator) {
        key = WebSocketClientCodec.makeKey(using: &generator)
        codec = WebSocketClientCodec(key: key)
        socketIO = SocketIOClientStateMachine(auth: ["token": .string(token)])
    }

    /// The TCP connection is up: remember it and send the WebSocket upgrade request.
    mutating func open(_ channel: any Channel, host: String, port: Int) {
        self.channel = channel
        let request = WebSocketClientCodec.handshakeRequest(host: "\(host):\(port)", path: "/socket.io/?EIO=4&transport=websocket", key: key)
        channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
    }

    /// Bytes from the server: Socket.IO's outputs (a WebSocket error or close comes out as
    /// `.closed`). Frames the outputs ask for (`.send`) are written here, not flushed.
    mutating func receive(_ buffer: inout ByteBuffer) -> [SocketIOClientStateMachine.Output] {
        inbound.writeBuffer(&buffer)
        let events: [WebSocketClientCodec.Event]
        do {
            events = try codec.feed(&inbound)
        } catch {
            return [.closed(reason: "WebSocket: \(error)")]
        }
        inbound.discardReadBytes()
        var outputs: [SocketIOClientStateMachine.Output] = []
        for event in events {
            switch event {
            case .upgraded: break
            case .text(let text): outputs += socketIO.receive(text: text)
            case .binary: outputs += socketIO.receiveBinary()
            case .ping(let payload): write(.pong, Array(payload.readableBytesView))
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
    mutating func flush() {
        guard wrote else { return }
        wrote = false
        channel?.flush()
    }

    mutating func close() {
        channel?.close(promise: nil)
        channel = nil
    }

    private mutating func write(_ opcode: WebSocketClientCodec.Opcode, _ payload: [UInt8]) {
        guard let channel else { return }
        channel.write(Self.maskedFrame(opcode, payload, allocator: channel.allocator), promise: nil)
        wrote = true
    }

    /// One client frame (RFC 6455 §5.3: a client masks every frame, with a fresh random key).
    static func maskedFrame(_ opcode: WebSocketClientCodec.Opcode, _ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: payload.count + 14)
        let mask = UInt32.random(in: 0...UInt32.max)
        WebSocketClientCodec.writeFrame(
            opcode, payload: payload,
            mask: (UInt8(mask >> 24), UInt8(truncatingIfNeeded: mask >> 16), UInt8(truncatingIfNeeded: mask >> 8), UInt8(truncatingIfNeeded: mask)),
            into: &frame)
        return frame
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
