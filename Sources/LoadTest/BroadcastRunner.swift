import NIOCore
import SocketIOParser

/// The broadcast test (issue 14: one event to 10,000 WebSocket clients): connects
/// `options.sockets` signalling-only clients on ONE event loop (`concurrency` connects in
/// flight), measures the server's idle CPU for the same clients, then posts `options.events`
/// backend events to everyone, one after another — each waits until every connected client
/// received it or `eventTimeout` passed — and reports the server's CPU per delivered frame, user
/// and system apart, and each event's POST → last delivery time.
///
/// The receivers and their counters are confined to the loop; the sequence of steps runs as a
/// task that reads them through `loop.submit`.
public final class BroadcastRunner: BroadcastReceiverOwner, @unchecked Sendable {
    static let eventName = "loadtest.broadcast"
    var eventName: String { Self.eventName }

    let options: BroadcastOptions
    private let loop: any EventLoop
    private let tokens: [String]
    private var pool: ReceiverPool
    /// Receipts of the event in flight: its seq, how many clients got it, when the last did.
    private var current: (seq: Int, count: Int, last: NIODeadline?) = (-1, 0, nil)

    private init(options: BroadcastOptions, tokens: [String], loop: any EventLoop) {
        self.options = options
        self.tokens = tokens
        self.loop = loop
        self.pool = ReceiverPool(total: options.sockets, concurrency: options.concurrency)
    }

    /// Runs the test. `tokens` holds one token per socket.
    public static func run(options: BroadcastOptions, tokens: [String], progress: @escaping @Sendable (String) -> Void) async throws
        -> BroadcastReport
    {
        precondition(tokens.count == options.sockets, "one token per socket")
        return try await ReceiverPool.withLoops(1, progress: progress) { loops in
            let runner = BroadcastRunner(options: options, tokens: tokens, loop: loops[0])
            return (runner.measure(progress:), { runner.pool.stopAll() })
        }
    }

    // MARK: - Receiver callbacks (on the loop)

    func receiverConnected(_ receiver: BroadcastReceiver) {
        pool.receiverConnected()
        startMore()
    }

    func receiverFailed(_ receiver: BroadcastReceiver, reason: String, wasConnected: Bool) {
        pool.receiverFailed(reason: reason, wasConnected: wasConnected)
        startMore()
    }

    func receiverGot(seq: Int, receiver: BroadcastReceiver, at time: NIODeadline) {
        // A late copy of an earlier event (after its timeout) does not count for the current one.
        guard seq == current.seq else { return }
        current.count += 1
        current.last = time
    }

    // MARK: - Private

    private func startMore() {
        pool.startMore { index in
            BroadcastReceiver(token: tokens[index], node: 0, host: options.host, port: options.port, owner: self, loop: loop)
        }
    }

    private func measure(progress: @escaping @Sendable (String) -> Void) async throws -> BroadcastReport {
        var report = BroadcastReport()
        report.sockets = options.sockets
        report.events = options.events
        try await loop.submit { self.startMore() }.get()
        report.connectSeconds = try await ReceiverPool.waitUntilSettled(on: loop, total: options.sockets, progress: progress) {
            (self.pool.settled, self.pool.connected, self.pool.failed)
        }
        progress(
            "broadcast: \(try await loop.submit { self.pool.connected }.get()) clients connected in \(format(report.connectSeconds, 1)) s; idle 2 s, then \(options.events) events"
        )

        // The idle rate of the same clients (heartbeats), to subtract from the burst.
        try await Task.sleep(for: .milliseconds(500))
        let idleStart = (NIODeadline.now(), options.serverPID.flatMap(ProcessCPUTime.of(pid:)))
        try await Task.sleep(for: .seconds(2))
        let idleEnd = (NIODeadline.now(), options.serverPID.flatMap(ProcessCPUTime.of(pid:)))
        if let a = idleStart.1, let b = idleEnd.1 { report.serverIdleCPU = b.since(a) }
        report.idleSeconds = Double((idleEnd.0 - idleStart.0).nanoseconds) / 1e9

        let padding = String(repeating: "x", count: max(0, min(options.payloadBytes, BroadcastOptions.maximumPayloadBytes) - 20))
        let burstStart = (NIODeadline.now(), options.serverPID.flatMap(ProcessCPUTime.of(pid:)))
        for seq in 0..<options.events {
            let expected = try await loop.submit { () -> Int in
                self.current = (seq, 0, nil)
                return self.pool.connected
            }.get()
            let body: JSONValue = [
                "event": .string(Self.eventName), "user_id": .null, "room_id": .null,
                "payload": ["seq": .number(Double(seq)), "pad": .string(padding)], "correlation_id": "loadtest",
            ]
            let postedAt = NIODeadline.now()
            let status = try await InternalEventPoster.post(
                host: options.host, port: options.port, internalKey: options.internalKey, body: body.jsonString, on: loop)
            guard status == 202 else {
                throw InternalEventPoster.Failure(
                    description: "POST /internal/events answered \(status) (is --internal-key the server's MSAB_INTERNAL_KEY?)")
            }
            let deadline = postedAt + .nanoseconds(Int64(options.eventTimeout * 1e9))
            while true {
                let (count, last) = try await loop.submit { (self.current.count, self.current.last) }.get()
                if count >= expected, let last {
                    report.latency.add(Double((last - postedAt).nanoseconds) / 1e6)
                    report.delivered += count
                    break
                }
                if NIODeadline.now() >= deadline {
                    report.delivered += count
                    break
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            report.expected += expected
        }
        let burstEnd = (NIODeadline.now(), options.serverPID.flatMap(ProcessCPUTime.of(pid:)))
        if let a = burstStart.1, let b = burstEnd.1 { report.serverBurstCPU = b.since(a) }
        report.burstSeconds = Double((burstEnd.0 - burstStart.0).nanoseconds) / 1e9
        let (up, down, reasons) = try await loop.submit { (self.pool.connected, self.pool.failed, self.pool.failures.counts) }.get()
        report.connected = up
        report.failed = down
        report.failures = reasons
        let cpu = LoadTestRunner.cpuSeconds()
        report.clientUserCPUSeconds = cpu.user
        report.clientSystemCPUSeconds = cpu.system
        return report
    }
}
