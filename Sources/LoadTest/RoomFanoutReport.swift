import SocketIOParser

/// What the room fan-out test measured. `json` is the object `--json` prints as the last stdout line.
public struct RoomFanoutReport: Sendable, Hashable {
    /// One node's side: its clients and the steady messages' send → arrival times at them.
    public struct Node: Sendable, Hashable {
        public var url = ""
        public var clients = 0
        public var latency = LatencySamples()
        /// Per message, its first arrival at this node: when the node began its fan-out (as
        /// the clients saw it), apart from how long the fan-out took.
        public var firstLatency = LatencySamples()
        public var delivered = 0
    }

    public var sockets = 0
    public var connected = 0
    public var failed = 0
    public var connectSeconds = 0.0
    public var messages = 0
    public var rate = 0.0
    public var nodes: [Node] = []
    /// Deliveries expected from the steady messages (messages × connected clients).
    public var expected = 0
    public var burst = 0
    /// From the first burst message's send to the last one reaching every client.
    public var burstSeconds = 0.0
    public var burstDelivered = 0
    public var burstExpected = 0
    /// Deliveries timed beyond ``RoomFanoutOptions/maximumSamples`` (counted, not timed).
    public var untimed = 0
    public var clientUserCPUSeconds = 0.0
    public var clientSystemCPUSeconds = 0.0
    public var failures: [String: Int] = [:]

    public init() {}

    /// p50 at node `index` minus p50 at the sender's node: what crossing nodes adds.
    public func crossingAdds(_ index: Int) -> Double? {
        var other = nodes[index].latency
        var home = nodes[0].latency
        guard let a = other.percentile(50), let b = home.percentile(50) else { return nil }
        return a - b
    }

    public var json: String {
        func number(_ value: Double?, _ digits: Double = 1000) -> JSONValue { value.map { .number(($0 * digits).rounded() / digits) } ?? .null }
        let nodeObjects: [JSONValue] = nodes.indices.map { index in
            var samples = nodes[index].latency
            var first = nodes[index].firstLatency
            return [
                "url": .string(nodes[index].url), "clients": .number(Double(nodes[index].clients)),
                "delivered": .number(Double(nodes[index].delivered)),
                "latency_ms": ["p50": number(samples.percentile(50)), "p99": number(samples.percentile(99)), "max": number(samples.percentile(100))],
                "adds_p50_ms": index == 0 ? .null : number(crossingAdds(index)),
                "first_ms": ["p50": number(first.percentile(50)), "p99": number(first.percentile(99))],
            ]
        }
        let object: JSONValue = [
            "mode": "room-fanout",
            "sockets": .number(Double(sockets)),
            "connected": .number(Double(connected)),
            "failed": .number(Double(failed)),
            "connect_s": number(connectSeconds, 10),
            "messages": .number(Double(messages)),
            "rate": number(rate),
            "expected": .number(Double(expected)),
            "nodes": .array(nodeObjects),
            "burst": .number(Double(burst)),
            "burst_s": number(burstSeconds),
            "burst_delivered": .number(Double(burstDelivered)),
            "burst_expected": .number(Double(burstExpected)),
            "broadcasts_per_s": number(burstSeconds > 0 ? Double(burst) / burstSeconds : nil, 1),
            "deliveries_per_s": number(burstSeconds > 0 ? Double(burstDelivered) / burstSeconds : nil, 1),
            "untimed": .number(Double(untimed)),
            "client_cpu_user_s": number(clientUserCPUSeconds),
            "client_cpu_sys_s": number(clientSystemCPUSeconds),
            "failures": .object(JSONObject(failures.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
        ]
        return object.jsonString
    }

    public var summary: String {
        func ms(_ value: Double?) -> String { value.map { format($0, 2) } ?? "-" }
        var lines = [
            "room fan-out summary: \(connected)/\(sockets) clients in one room over \(nodes.count) node(s) (connected and joined in \(format(connectSeconds, 1)) s), \(failed) failed",
            "  steady: \(messages) chat messages at \(format(rate, 1))/s from a client on node 1, each to every client; send → arrival:",
        ]
        for index in nodes.indices {
            var samples = nodes[index].latency
            var first = nodes[index].firstLatency
            var line =
                "    node \(index + 1) (\(nodes[index].clients) clients): p50 \(ms(samples.percentile(50))) ms  p99 \(ms(samples.percentile(99))) ms  max \(ms(samples.percentile(100))) ms  (\(nodes[index].delivered) deliveries; first client p50 \(ms(first.percentile(50))) ms)"
            if index > 0 { line += "; crossing nodes adds \(ms(crossingAdds(index))) ms at p50" }
            lines.append(line)
        }
        if burst > 0 {
            lines.append(
                "  burst: \(burst) messages back to back, the last on every client after \(format(burstSeconds * 1000, 0)) ms: "
                    + "\(format(burstSeconds > 0 ? Double(burst) / burstSeconds : 0, 0)) broadcasts/s, "
                    + "\(format(burstSeconds > 0 ? Double(burstDelivered) / burstSeconds : 0, 0)) deliveries/s (\(burstDelivered)/\(burstExpected))")
        }
        lines.append("  client CPU \(format(clientUserCPUSeconds, 2)) s user + \(format(clientSystemCPUSeconds, 2)) s sys")
        for (reason, count) in failures.sorted(by: { $0.value > $1.value }) { lines.append("  failure ×\(count): \(reason)") }
        return lines.joined(separator: "\n")
    }
}
