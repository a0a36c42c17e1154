import Metrics

/// The few series the Redis client exports (created once per client, not per command).
struct RedisMetrics: Sendable {
    let succeeded: Counter
    let failed: [String: Counter]
    let connected: Gauge
    let connects: Counter

    /// `role` is `command` or `subscriber`.
    init(role: String) {
        succeeded = Counter(label: "msab_redis_commands_total", dimensions: [("result", "ok")])
        var failed: [String: Counter] = [:]
        for error: RedisError in [.notConnected, .timeout, .busy, .server(""), .connectionClosed, .protocolError("")] {
            failed[error.metricName] = Counter(label: "msab_redis_commands_total", dimensions: [("result", error.metricName)])
        }
        self.failed = failed
        connected = Gauge(label: "msab_redis_connected", dimensions: [("role", role)])
        connects = Counter(label: "msab_redis_connects_total", dimensions: [("role", role)])
    }

    func record(_ error: RedisError) {
        failed[error.metricName]?.increment()
    }
}
