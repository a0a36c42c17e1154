/// Everything the Redis client can fail with. A closed set on purpose: callers switch on it to decide
/// between "retry later" (`notConnected`, `connectionClosed`, `timeout`, `busy`), "the server said
/// no" (`server`) and "the peer sent bytes we refuse" (`protocolError`, after which the connection is
/// dropped and reconnected).
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No usable connection right now (not yet connected, reconnecting, or shut down). Commands are
    /// never parked while disconnected: a caller gets this at once and decides itself whether to retry.
    case notConnected
    /// No reply within `RedisConfiguration.commandTimeout`. The command may still run on the server;
    /// its late reply is discarded when it arrives.
    case timeout
    /// `RedisConfiguration.maxPendingCommands` replies are already outstanding on the connection.
    case busy
    /// The server answered with an error reply (`-ERR …`, `-NOSCRIPT …`, `!` blob error); the text
    /// without the leading `-`.
    case server(String)
    /// The connection was lost (or shut down) before the reply arrived.
    case connectionClosed
    /// The server's bytes violate RESP or one of the decoder's limits (the connection is then
    /// replaced), or a command that would break the one-reply-per-command pairing was refused
    /// before sending (see `RedisClient.send`).
    case protocolError(String)

    public var description: String {
        switch self {
        case .notConnected: "RedisError.notConnected"
        case .timeout: "RedisError.timeout"
        case .busy: "RedisError.busy"
        case .server(let message): "RedisError.server(\(message))"
        case .connectionClosed: "RedisError.connectionClosed"
        case .protocolError(let message): "RedisError.protocolError(\(message))"
        }
    }

    /// The label used for `msab_redis_commands_total{result}`.
    var metricName: String {
        switch self {
        case .notConnected: "not_connected"
        case .timeout: "timeout"
        case .busy: "busy"
        case .server: "error"
        case .connectionClosed: "connection_closed"
        case .protocolError: "protocol_error"
        }
    }
}
