import EngineIOParser

/// One message (or a group that goes out back to back: a Socket.IO binary event and its
/// attachments) for many sessions, with its Engine.IO encoding made once.
///
/// socket.io's adapter encodes a broadcast once and writes the same bytes to every socket
/// (`socket.io-adapter` `broadcast` → `_encode`); here the Engine.IO packets and their WebSocket
/// frames (`4<text>`) are built once, every WebSocket session queues the same frames (sharing
/// one string's storage, which also lets ``EngineFrameMemo`` recognise it without comparing
/// bytes), and a polling session buffers the same packets.
public struct EngineBroadcastMessage: Sendable {
    /// The messages, as the layer above gave them.
    public let messages: [EngineMessage]
    /// Their Engine.IO packets (for long-polling and the state machine's slow path).
    let packets: [EnginePacket]
    /// Their WebSocket frames.
    let frames: [EngineIOCodec.Frame]
    /// Tells this broadcast from others (``EngineWriteBatch`` keeps a copy of its frames per loop).
    let identity = Identity()

    final class Identity: Sendable {}

    public init(_ messages: [EngineMessage]) {
        self.messages = messages
        packets = messages.map(EnginePacket.init(message:))
        frames = packets.map(EngineIOCodec.encodeForWebSocket)
    }
}

extension EnginePacket {
    /// The `4` (message) packet carrying `message`.
    init(message: EngineMessage) {
        switch message {
        case .text(let text): self.init(.message, .text(text))
        case .binary(let bytes): self.init(.message, .binary(bytes))
        }
    }
}

extension EngineConnection {
    /// Connections without a faster way queue the messages as ``send(contentsOf:)`` does.
    public func send(broadcast: EngineBroadcastMessage) {
        if broadcast.messages.count == 1 { send(broadcast.messages[0]) } else { send(contentsOf: broadcast.messages) }
    }
}
