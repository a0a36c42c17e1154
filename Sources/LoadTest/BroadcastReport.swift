import SocketIOParser

/// What the broadcast test measured. `json` is the object `--json` prints as the last stdout line.
public struct BroadcastReport: Sendable, Hashable {
    public var sockets = 0
    public var connected = 0
    public var failed = 0
    public var events = 0
    /// Deliveries expected (events × clients connected when each was posted) and received.
    public var expected = 0
    public var delivered = 0
    /// Per event: from the POST's start to the last client receiving it.
    public var latency = LatencySamples()
    /// Wall time to connect every client.
    public var connectSeconds = 0.0
    /// Server CPU while the events were broadcast, and over an idle stretch of the same clients
    /// (heartbeats) just before, with its length: the broadcast's own cost is the difference.
    public var serverBurstCPU: ProcessCPUTime?
    public var burstSeconds = 0.0
    public var serverIdleCPU: ProcessCPUTime?
    public var idleSeconds = 0.0
    public var clientUserCPUSeconds = 0.0
    public var clientSystemCPUSeconds = 0.0
    public var failures: [String: Int] = [:]

    public init() {}

    /// Server CPU per delivered frame in µs (burst minus the idle rate over the burst's length), user and system.
    public var perRecipient: (user: Double, system: Double)? {
        guard let burst = serverBurstCPU, delivered > 0 else { return nil }
        let idle = serverIdleCPU ?? ProcessCPUTime(user: 0, system: 0)
        let scale = idleSeconds > 0 ? burstSeconds / idleSeconds : 0
        let user = max(0, burst.user - idle.user * scale)
        let system = max(0, burst.system - idle.system * scale)
        return (user * 1e6 / Double(delivered), system * 1e6 / Double(delivered))
    }

    public var json: String {
        var samples = latency
        func number(_ value: Double?, _ digits: Double = 10) -> JSONValue { value.map { .number(($0 * digits).rounded() / digits) } ?? .null }
        let per = perRecipient
        let object: JSONValue = [
            "mode": "broadcast",
            "sockets": .number(Double(sockets)),
            "connected": .number(Double(connected)),
            "failed": .number(Double(failed)),
            "events": .number(Double(events)),
            "expected": .number(Double(expected)),
            "delivered": .number(Double(delivered)),
            "latency_ms": ["p50": number(samples.percentile(50)), "p95": number(samples.percentile(95)), "max": number(samples.percentile(100))],
            "connect_s": number(connectSeconds),
            "server_user_us_per_recipient": number(per?.user, 1000),
            "server_sys_us_per_recipient": number(per?.system, 1000),
            "server_burst_user_s": number(serverBurstCPU?.user, 1000),
            "server_burst_sys_s": number(serverBurstCPU?.system, 1000),
            "burst_s": number(burstSeconds, 1000),
            "server_idle_user_s": number(serverIdleCPU?.user, 1000),
            "server_idle_sys_s": number(serverIdleCPU?.system, 1000),
            "idle_s": number(idleSeconds, 1000),
            "client_cpu_user_s": number(clientUserCPUSeconds, 1000),
            "client_cpu_sys_s": number(clientSystemCPUSeconds, 1000),
            "failures": .object(JSONObject(failures.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
        ]
        return object.jsonString
    }

    public var summary: String {
        var samples = latency
        func ms(_ value: Double?) -> String { value.map { format($0, 1) } ?? "-" }
        var lines = [
            "broadcast summary: \(connected)/\(sockets) connected (in \(format(connectSeconds, 1)) s), \(failed) failed; \(events) events, \(delivered)/\(expected) deliveries",
            "  POST → last client (ms): p50 \(ms(samples.percentile(50))) p95 \(ms(samples.percentile(95))) max \(ms(samples.percentile(100)))",
            "  client CPU \(format(clientUserCPUSeconds, 2)) s user + \(format(clientSystemCPUSeconds, 2)) s sys",
        ]
        if let burst = serverBurstCPU, let per = perRecipient {
            let idle = serverIdleCPU ?? ProcessCPUTime(user: 0, system: 0)
            lines.append(
                "  server CPU: burst \(format(burst.user, 3)) s user + \(format(burst.system, 3)) s sys over \(format(burstSeconds, 2)) s; "
                    + "idle \(format(idle.user, 3)) + \(format(idle.system, 3)) s over \(format(idleSeconds, 2)) s")
            lines.append("  server CPU per recipient: \(format(per.user, 2)) µs user + \(format(per.system, 2)) µs sys (idle rate subtracted)")
        }
        for (reason, count) in failures.sorted(by: { $0.value > $1.value }) { lines.append("  failure ×\(count): \(reason)") }
        return lines.joined(separator: "\n")
    }
}
