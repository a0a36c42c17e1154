public import NIOCore

// The seam between the Engine.IO layer and the Socket.IO layer above it (socket.io's
// `engine.io` → `socket.io` split). Socket.IO sees a session only as an `EngineConnection`
// (below) with the value types of this file, so its tests can drive it with an in-memory
// fake (SocketIOTests' `MemoryConnection`), and the Engine.IO transports (long-polling,
// WebSocket, the upgrade between them) stay invisible to it. Its one other use of EngineIO
// is `EngineWriteBatch`, which groups a broadcast's writes by event loop.

/// One Engine.IO message: the payload of a `4` (message) packet.
public enum EngineMessage: Sendable, Hashable {
    /// A text message (the Engine.IO packet `4<text>`).
    case text(String)
    /// A binary message (a WebSocket binary frame, or `b<base64>` over long-polling).
    case binary(ByteBuffer)
}

/// What the server learnt from the HTTP request that opened the session.
public struct EngineHandshake: Sendable {
    /// Request headers, names lower-cased, in arrival order.
    public var headers: [(name: String, value: String)]
    /// Query parameters of the handshake request (`EIO`, `transport`, anything the client added).
    public var query: [String: String]
    /// The peer's address as text (`127.0.0.1:53422`), when known.
    public var remoteAddress: String?
    /// When the handshake was accepted, in milliseconds since the Unix epoch.
    public var issuedAtMs: Int64

    public init(headers: [(name: String, value: String)], query: [String: String], remoteAddress: String?, issuedAtMs: Int64) {
        self.headers = headers
        self.query = query
        self.remoteAddress = remoteAddress
        self.issuedAtMs = issuedAtMs
    }

    /// Every value of a header, case-insensitively, in arrival order.
    public func headerValues(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name == lower }.map(\.value)
    }

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }
}

/// Why an Engine.IO session ended (the reasons of the engine.io `close` event).
public enum EngineCloseReason: String, Sendable, Hashable {
    /// The server closed it (`forced close`).
    case serverClose = "forced close"
    /// The client sent a close packet (`transport close` as socket.io reports it).
    case clientClose = "transport close"
    /// No pong within pingInterval + pingTimeout.
    case pingTimeout = "ping timeout"
    /// The transport failed (connection reset, write error).
    case transportError = "transport error"
    /// The client sent something the parser rejected.
    case parseError = "parse error"
    /// The server is shutting down.
    case serverShuttingDown = "server shutting down"
}

/// An open Engine.IO session, as the layer above sees it.
///
/// `send` never blocks and never fails: a message for a session that is closing is dropped.
/// Messages are delivered in the order of the `send` calls; `send(contentsOf:)` keeps a group
/// (a Socket.IO binary event and its attachments) together.
public protocol EngineConnection: AnyObject, Sendable {
    /// The Engine.IO session id (`sid`).
    var id: String { get }
    /// The request that opened the session.
    var handshake: EngineHandshake { get }
    /// Inbound messages in arrival order; finishes when the session closes.
    var inbound: AsyncStream<EngineMessage> { get }
    /// Queues one message.
    func send(_ message: EngineMessage)
    /// Queues several messages that must go out back to back.
    func send(contentsOf messages: [EngineMessage])
    /// Queues one broadcast's messages (encoded once for all its recipients), as
    /// ``send(contentsOf:)`` would. A default implementation does exactly that.
    func send(broadcast: EngineBroadcastMessage)
    /// Closes the session (flushes what is queued, then sends a close packet).
    func close()
    /// Completes when the session has closed, with the reason.
    func closed() async -> EngineCloseReason
}
