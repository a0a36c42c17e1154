/// Engine.IO server settings (engine.io's `ServerOptions` names).
public struct EngineIOConfiguration: Sendable {
    /// How often the server pings (v4: the server sends ping, the client answers pong).
    public var pingInterval: Duration = .milliseconds(25_000)
    /// How long the client has to answer a ping before the session is closed.
    public var pingTimeout: Duration = .milliseconds(20_000)
    /// The largest message/payload accepted from a client, in bytes (announced in the handshake).
    public var maxPayload: Int = 1_000_000
    /// How long a polling → WebSocket upgrade may take.
    public var upgradeTimeout: Duration = .milliseconds(10_000)
    /// Allowed `Origin`s for CORS headers; nil reflects any origin. Not a refusal: the layer above decides.
    public var allowedOrigins: [String]? = nil
    /// Whether the polling and WebSocket transports are offered.
    public var allowPolling = true
    public var allowWebSocket = true

    // Bounds per session (a client must not make the server hold unbounded memory).

    /// The most a session may have waiting to go out (the WebSocket writer's backlog, or the
    /// long-polling buffer), in bytes and in packets. A client that does not read fast enough to
    /// stay under it is disconnected as a slow consumer; the others are unaffected.
    public var maxOutboundBytes = 1_000_000
    public var maxOutboundPackets = 4_096
    /// The most received messages a session queues for the layer above, in bytes and in count.
    /// At the cap the session stops reading from the client (its WebSocket is not read, its
    /// long-poll POST is not answered) until the layer above catches up: TCP pushes back.
    public var maxInboundBytes = 1_000_000
    public var maxInboundMessages = 1_024

    /// Concurrent sessions in total and per remote address (nil: no limit). A handshake over the
    /// limit is refused with 403 `{"code":4,"message":"Too many sessions"}` (engine.io's
    /// `allowRequest` refusal shape). Behind a reverse proxy every client has the proxy's address.
    public var maxSessions: Int? = 10_000
    public var maxSessionsPerAddress: Int? = 256

    public init() {}

    public init(pingInterval: Duration, pingTimeout: Duration, maxPayload: Int) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }
}

/// engine.io's request error table (`Server.errors` / `errorMessages`): sent as HTTP 400 (403 for
/// Forbidden) with the body `{"code":N,"message":"…"}`.
///
/// The session caps (`maxSessions`, `maxSessionsPerAddress`) refuse a handshake the way
/// engine.io's `allowRequest` does: code 4 (Forbidden), HTTP 403, with its own message.
public enum EngineRequestError: Int, Error, Sendable, CaseIterable {
    case unknownTransport = 0
    case unknownSid = 1
    case badHandshakeMethod = 2
    case badRequest = 3
    case forbidden = 4
    case unsupportedProtocolVersion = 5
    /// `maxSessions` sessions are open.
    case tooManySessions = 100
    /// `maxSessionsPerAddress` sessions are open from the client's address.
    case tooManySessionsFromAddress = 101

    /// The `code` of the JSON body (engine.io's table; the caps are Forbidden).
    public var code: Int { rawValue >= 100 ? EngineRequestError.forbidden.rawValue : rawValue }

    public var message: String {
        switch self {
        case .unknownTransport: "Transport unknown"
        case .unknownSid: "Session ID unknown"
        case .badHandshakeMethod: "Bad handshake method"
        case .badRequest: "Bad request"
        case .forbidden: "Forbidden"
        case .unsupportedProtocolVersion: "Unsupported protocol version"
        case .tooManySessions: "Too many sessions"
        case .tooManySessionsFromAddress: "Too many sessions from this address"
        }
    }

    public var httpStatus: Int { code == EngineRequestError.forbidden.rawValue ? 403 : 400 }

    public var body: String { #"{"code":\#(code),"message":"\#(message)"}"# }

    /// The `result` label of `msab_engineio_handshakes_total`.
    public var metricName: String {
        switch self {
        case .unknownTransport: "unknown_transport"
        case .unknownSid: "unknown_sid"
        case .badHandshakeMethod: "bad_handshake_method"
        case .badRequest: "bad_request"
        case .forbidden: "forbidden"
        case .unsupportedProtocolVersion: "unsupported_protocol_version"
        case .tooManySessions: "too_many_sessions"
        case .tooManySessionsFromAddress: "too_many_sessions_per_address"
        }
    }
}
