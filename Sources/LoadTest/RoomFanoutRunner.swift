import NIOCore
import SocketIOParser

/// The room fan-out test (issue 12: a room spread over the nodes of a cluster): connects
/// `options.sockets` signalling-only clients round-robin over the nodes, each joining the room; then the first client (on the first node) sends `messages` chat messages
/// at `rate` per second and every client's arrival is timed against the send, per node; then
/// `burst` messages back to back, timed until the last reached every client.
///
/// Each client parses its frames as a Socket.IO client must, in Swift, so the clients cost the
/// machine far less than the servers they measure (the Python probes this replaces cost more
/// than the servers and set the figures). Each node's clients have an event loop of their own:
/// one loop reading every node's frames would time the second node's behind the first's, a
/// difference the clients made, not the cluster. A receiver stamps an arrival on its own loop;
/// the counters are confined to the first loop (the sender's), where the stamps are sent, and
/// the sequence of steps runs as a task that reads them through `loop.submit`.
public final class RoomFanoutRunner: BroadcastReceiverOwner, @unchecked Sendable {
    var eventName: String { "chat:message" }

    let options: RoomFanoutOptions
    /// The first node's loop, which also holds the counters; `loops[i]` carries node i's clients.
    private let loop: any EventLoop
    private let loops: [any EventLoop]
    private let tokens: [String]
    private var pool: ReceiverPool
    /// When each message was sent (index = its number); steady ones first, then the burst.
    private var sentAt: [NIODeadline?]
    private var nodeLatency: [LatencySamples]
    private var nodeDelivered: [Int]
    private var nodeConnected: [Int]
    /// Per steady message and node: its first arrival there (ms after the send).
    private var firstArrival: [[Double]]
    private var samples = 0
    private var untimed = 0
    private var burstDelivered = 0
    /// Receipts of the burst's last message: how many clients got it, when the last did.
    private var lastCount = 0
    private var lastAt: NIODeadline?

    private init(options: RoomFanoutOptions, tokens: [String], loops: [any EventLoop]) {
        self.options = options
        self.tokens = tokens
        self.loop = loops[0]
        self.loops = loops
        self.pool = ReceiverPool(total: options.sockets, concurrency: options.concurrency)
        self.sentAt = Array(repeating: nil, count: options.messages + options.burst)
        self.nodeLatency = Array(repeating: LatencySamples(), count: options.nodes.count)
        self.nodeDelivered = Array(repeating: 0, count: options.nodes.count)
        self.nodeConnected = Array(repeating: 0, count: options.nodes.count)
        self.firstArrival = Array(repeating: Array(repeating: .infinity, count: options.nodes.count), count: options.messages)
    }

    /// Runs the test. `tokens` holds one token per socket.
    public static func run(options: RoomFanoutOptions, tokens: [String], progress: @escaping @Sendable (String) -> Void) async throws
        -> RoomFanoutReport
    {
        precondition(tokens.count == options.sockets && !options.nodes.isEmpty, "one token per socket, one node at least")
        return try await ReceiverPool.withLoops(options.nodes.count, progress: progress) { loops in
            let runner = RoomFanoutRunner(options: options, tokens: tokens, loops: loops)
            return (runner.measure(progress:), { runner.pool.stopAll() })
        }
    }

    // MARK: - Receiver callbacks (on the receiver's loop; counted on the first loop)

    func receiverConnected(_ receiver: BroadcastReceiver) {
        guard loop.inEventLoop else { return loop.execute { self.receiverConnected(receiver) } }
        pool.receiverConnected()
        nodeConnected[receiver.node] += 1
        startMore()
    }

    func receiverFailed(_ receiver: BroadcastReceiver, reason: String, wasConnected: Bool) {
        guard loop.inEventLoop else { return loop.execute { self.receiverFailed(receiver, reason: reason, wasConnected: wasConnected) } }
        pool.receiverFailed(reason: reason, wasConnected: wasConnected)
        if wasConnected { nodeConnected[receiver.node] -= 1 }
        startMore()
    }

    func receiverGot(seq: Int, receiver: BroadcastReceiver, at time: NIODeadline) {
        // Stamped where it arrived; counted here.
        guard loop.inEventLoop else { return loop.execute { self.receiverGot(seq: seq, receiver: receiver, at: time) } }
        // Another user's chat in the same room, or a number this run never sent: not ours to time.
        guard sentAt.indices.contains(seq), let sent = sentAt[seq] else { return }
        if seq < options.messages {
            nodeDelivered[receiver.node] += 1
            let milliseconds = Double((time - sent).nanoseconds) / 1e6
            firstArrival[seq][receiver.node] = min(firstArrival[seq][receiver.node], milliseconds)
            if samples < RoomFanoutOptions.maximumSamples {
                samples += 1
                nodeLatency[receiver.node].add(milliseconds)
            } else {
                untimed += 1
            }
        } else {
            burstDelivered += 1
            if seq == sentAt.count - 1 {
                lastCount += 1
                lastAt = time
            }
        }
    }

    // MARK: - Private

    private func startMore() {
        pool.startMore { index in
            let node = index % options.nodes.count
            return BroadcastReceiver(
                token: tokens[index], node: node, host: options.nodes[node].host, port: options.nodes[node].port, room: options.room,
                owner: self, loop: loops[node])
        }
    }

    /// Sends message `seq` from the first client (node 1), stamping its send time on the loop.
    private func send(_ seq: Int) {
        guard let sender = pool.receivers.first, case .connected = sender.phase else { return }
        sentAt[seq] = .now()
        sender.send("chat:message", ["roomId": .string(options.room), "content": .string(String(seq))])
    }

    private func measure(progress: @escaping @Sendable (String) -> Void) async throws -> RoomFanoutReport {
        var report = RoomFanoutReport()
        report.sockets = options.sockets
        report.messages = options.messages
        report.rate = options.rate
        report.burst = options.burst
        try await loop.submit { self.startMore() }.get()
        report.connectSeconds = try await ReceiverPool.waitUntilSettled(on: loop, total: options.sockets, progress: progress) {
            (self.pool.settled, self.pool.connected, self.pool.failed)
        }
        let connected = try await loop.submit { () -> Int in
            // The sender must be up: it is the first client, on the first node.
            guard let sender = self.pool.receivers.first, case .connected = sender.phase else { return -1 }
            return self.pool.connected
        }.get()
        guard connected > 0 else { throw InternalEventPoster.Failure(description: "the sender (the first client) did not join the room") }
        progress(
            "room fan-out: \(connected) clients joined in \(format(report.connectSeconds, 1)) s; \(options.messages) messages at \(format(options.rate, 1))/s"
        )
        try await Task.sleep(for: .seconds(1))

        // Steady: a rate the machine sustains, so the figures are latency, not queueing.
        let interval = Int64(1e9 / max(options.rate, 0.001))
        let steadyStart = NIODeadline.now()
        for seq in 0..<options.messages {
            let due = steadyStart + .nanoseconds(interval * Int64(seq))
            let wait = due - NIODeadline.now()
            if wait > .zero { try await Task.sleep(for: .nanoseconds(wait.nanoseconds)) }
            try await loop.submit { self.send(seq) }.get()
        }
        // Stragglers: until every steady message reached everyone, or the timeout.
        let steadyExpected = options.messages * connected
        let steadyDeadline = NIODeadline.now() + .nanoseconds(Int64(options.timeout * 1e9))
        while try await loop.submit({ self.nodeDelivered.reduce(0, +) }).get() < steadyExpected, NIODeadline.now() < steadyDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        report.expected = steadyExpected

        // Burst: back to back, each message written and flushed on its own (as a client sends).
        if options.burst > 0 {
            let burstStart = try await loop.submit { () -> NIODeadline in
                let start = NIODeadline.now()
                for seq in self.options.messages..<self.sentAt.count { self.send(seq) }
                return start
            }.get()
            let deadline = burstStart + .nanoseconds(Int64(options.timeout * 1e9))
            while true {
                let (count, last) = try await loop.submit { (self.lastCount, self.lastAt) }.get()
                if count >= connected, let last {
                    report.burstSeconds = Double((last - burstStart).nanoseconds) / 1e9
                    break
                }
                if NIODeadline.now() >= deadline {
                    report.burstSeconds = options.timeout
                    break
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            // Earlier burst messages that arrive after the last one's everywhere count too.
            try await Task.sleep(for: .milliseconds(200))
            report.burstExpected = options.burst * connected
        }

        let state = try await loop.submit {
            (
                self.pool.connected, self.pool.failed, self.pool.failures.counts, self.nodeLatency, self.nodeDelivered, self.untimed,
                self.burstDelivered, self.firstArrival, self.nodeConnected
            )
        }.get()
        report.connected = state.0
        report.failed = state.1
        report.failures = state.2
        report.untimed = state.5
        report.burstDelivered = state.6
        report.nodes = options.nodes.indices.map { index in
            var node = RoomFanoutReport.Node()
            node.url = "http://\(options.nodes[index].host):\(options.nodes[index].port)"
            node.clients = state.8[index]
            node.latency = state.3[index]
            node.delivered = state.4[index]
            for arrivals in state.7 where arrivals[index].isFinite { node.firstLatency.add(arrivals[index]) }
            return node
        }
        let cpu = LoadTestRunner.cpuSeconds()
        report.clientUserCPUSeconds = cpu.user
        report.clientSystemCPUSeconds = cpu.system
        return report
    }
}
