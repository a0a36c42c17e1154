public import EngineIO
public import SocketIOParser

/// What a namespace connection carries (socket.io's `socket.handshake`).
public struct SocketHandshake: Sendable {
    /// The Engine.IO request that opened the session (headers, query, address).
    public var engine: EngineHandshake
    /// The CONNECT packet's payload (`auth` in the client's options), if any.
    public var auth: JSONValue?
    /// The namespace being connected.
    public var namespace: String

    public func header(_ name: String) -> String? { engine.header(name) }
    public func headerValues(_ name: String) -> [String] { engine.headerValues(name) }
    public var query: [String: String] { engine.query }
    public var address: String? { engine.remoteAddress }
    public var issued: Int64 { engine.issuedAtMs }
}

/// A namespace middleware's decision (socket.io's `next()` / `next(err)`).
public enum MiddlewareResult: Sendable {
    /// Accept, attaching data the handlers read as `socket.data`.
    case accept((any Sendable)?)
    /// Refuse: the client gets CONNECT_ERROR `{"message": message, "data"?: data}`.
    case refuse(String, data: JSONValue? = nil)

    public static func refuse(_ message: String) -> MiddlewareResult { .refuse(message, data: nil) }
}

/// socket.io's disconnect reasons.
public enum DisconnectReason: String, Sendable, Hashable {
    case clientNamespaceDisconnect = "client namespace disconnect"
    case serverNamespaceDisconnect = "server namespace disconnect"
    case transportClose = "transport close"
    case transportError = "transport error"
    case pingTimeout = "ping timeout"
    case parseError = "parse error"
    case serverShuttingDown = "server shutting down"
    case forcedClose = "forced close"
    /// msab's own: the client sent events faster than its handlers ran (`InboundLimits`).
    case inboundOverflow = "inbound overflow"

    init(_ engine: EngineCloseReason) {
        switch engine {
        case .serverClose: self = .forcedClose
        case .clientClose: self = .transportClose
        case .pingTimeout: self = .pingTimeout
        case .transportError: self = .transportError
        case .parseError: self = .parseError
        case .serverShuttingDown: self = .serverShuttingDown
        }
    }
}
