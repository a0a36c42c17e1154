import NIOSSL

/// Where and how to reach Redis. Defaults follow msab's contract (§8.2): `REDIS_HOST` 127.0.0.1,
/// `REDIS_PORT` 6379, `REDIS_DB` 3, `REDIS_USERNAME`/`REDIS_PASSWORD` unset, `REDIS_TLS` off;
/// connect timeout 10 s, command timeout 5 s.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Selected with `SELECT` after connecting when not 0. Pub/Sub ignores it (redis-adapter.md §A.6).
    public var database: Int
    /// With a password: `AUTH username password` (ACL user). Without a password nothing is sent, as
    /// ioredis does.
    public var username: String?
    /// `AUTH password` (the `default` user) or, with `username`, `AUTH username password`.
    public var password: String?
    /// TLS with full certificate verification (chain and host name); SNI is `host` unless it is an
    /// IP address (SNI may not carry one; the certificate's IP SAN is checked instead).
    public var tls: Bool
    /// Overrides the TLS settings (for example extra trust roots for a private CA). Used only when
    /// `tls` is true; nil means `TLSConfiguration.makeClientConfiguration()`.
    public var tlsConfiguration: TLSConfiguration?
    /// TCP connect, TLS handshake, AUTH and SELECT together must finish within this.
    public var connectTimeout: Duration
    /// A command without a reply after this fails with `RedisError.timeout`.
    public var commandTimeout: Duration
    /// Replies outstanding on the connection (including timed-out ones whose late reply is still
    /// due). Beyond it `send` fails with `RedisError.busy` instead of queueing without bound.
    public var maxPendingCommands: Int
    /// When the oldest outstanding reply is this late, the link is taken for dead (a peer that
    /// vanished without FIN/RST is otherwise noticed only by TCP keepalive, hours later) and the
    /// connection is closed and re-established.
    public var deadConnectionTimeout: Duration
    /// Bounds for replies from the server.
    public var decoderLimits: RESPDecoder.Limits

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        database: Int = 3,
        username: String? = nil,
        password: String? = nil,
        tls: Bool = false,
        tlsConfiguration: TLSConfiguration? = nil,
        connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(5),
        maxPendingCommands: Int = 10_000,
        deadConnectionTimeout: Duration = .seconds(30),
        decoderLimits: RESPDecoder.Limits = RESPDecoder.clientLimits
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.tls = tls
        self.tlsConfiguration = tlsConfiguration
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maxPendingCommands = maxPendingCommands
        self.deadConnectionTimeout = deadConnectionTimeout
        self.decoderLimits = decoderLimits
    }

    /// The reconnect delay after `attempt` consecutive failures (1-based): min(50 ms × attempt, 2 s),
    /// ioredis's `retryStrategy` that msab's contract names.
    public static func reconnectDelay(attempt: Int) -> Duration {
        let clamped = min(max(attempt, 1), 40)
        return min(.milliseconds(50 * clamped), .seconds(2))
    }
}
