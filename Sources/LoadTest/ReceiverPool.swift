import NIOCore
import NIOPosix

/// The clients of a broadcast test and their connect bookkeeping: at most `concurrency` connects
/// in flight, failures tallied (bounded). Confined to the test's event loop; its owner forwards
/// the receivers' connect results here.
struct ReceiverPool {
    let total: Int
    let concurrency: Int
    private(set) var receivers: [BroadcastReceiver] = []
    private(set) var connected = 0
    private(set) var failed = 0
    private(set) var failures = FailureTally()
    private var started = 0
    private var inFlight = 0

    init(total: Int, concurrency: Int) {
        self.total = total
        self.concurrency = max(1, concurrency)
        receivers.reserveCapacity(total)
    }

    /// Every client was started and none is still connecting.
    var settled: Bool { started == total && inFlight == 0 }

    /// Starts clients (`make(index)`) until `concurrency` are in flight or all were started.
    mutating func startMore(_ make: (Int) -> BroadcastReceiver) {
        while started < total, inFlight < concurrency {
            let receiver = make(started)
            receivers.append(receiver)
            started += 1
            inFlight += 1
            receiver.start()
        }
    }

    mutating func receiverConnected() {
        connected += 1
        inFlight -= 1
    }

    mutating func receiverFailed(reason: String, wasConnected: Bool) {
        failed += 1
        if wasConnected { connected -= 1 } else { inFlight -= 1 }
        failures.add(reason)
    }

    func stopAll() {
        for receiver in receivers { receiver.stop() }
    }

    /// Waits until every connect settled, printing a progress line each second; throws after a hard
    /// stop (60 s + 20 ms per client) in case connects neither finish nor fail.
    static func waitUntilSettled(
        on loop: any EventLoop, total: Int, progress: @escaping @Sendable (String) -> Void,
        _ state: @escaping @Sendable () -> (settled: Bool, connected: Int, failed: Int)
    ) async throws -> Double {
        let begin = NIODeadline.now()
        var lastLine = begin
        while true {
            let (done, up, down) = try await loop.submit(state).get()
            let now = NIODeadline.now()
            if done { break }
            if now - lastLine >= .seconds(1) {
                lastLine = now
                progress("[\(format(Double((now - begin).nanoseconds) / 1e9, 0)) s] connected \(up)/\(total) failed \(down)")
            }
            guard now - begin < .seconds(Int64(60 + total / 50)) else {
                throw InternalEventPoster.Failure(description: "connects did not settle")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Double((NIODeadline.now() - begin).nanoseconds) / 1e9
    }

    /// Runs a test on `count` event loops of its own: `make` builds the test on them and returns
    /// its measurement and how to stop its clients (run on the first loop). The clients are
    /// stopped and the loops shut down afterwards, also when the measurement throws.
    static func withLoops<Report: Sendable>(
        _ count: Int, progress: @escaping @Sendable (String) -> Void,
        _ make: ([any EventLoop]) -> (measure: (@escaping @Sendable (String) -> Void) async throws -> Report, stop: @Sendable () -> Void)
    ) async throws -> Report {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, count))
        let loops = Array(group.makeIterator())
        let (measure, stop) = make(loops)
        let report: Report
        do {
            report = try await measure(progress)
        } catch {
            try? await loops[0].submit(stop).get()
            try? await group.shutdownGracefully()
            throw error
        }
        try await loops[0].submit(stop).get()
        try? await Task.sleep(for: .milliseconds(200))
        try await group.shutdownGracefully()
        return report
    }
}
