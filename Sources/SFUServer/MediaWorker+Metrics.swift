import Metrics
import NIOCore
import SFU

extension MediaWorker {
    /// Publishes counter deltas and object counts (cheap: integers, 50 times a second).
    func publish() {
        let counters = core.counters
        metrics.packetsIn.increment(by: Int64(counters.rtpIn &- published.rtpIn))
        metrics.packetsOut.increment(by: Int64(counters.rtpOut &- published.rtpOut))
        for reason in DropReason.allCases {
            let delta = counters[reason] &- published[reason]
            if delta > 0 { metrics.drops[reason.rawValue].increment(by: Int64(delta)) }
        }
        published = counters
        let counts = core.objectCounts
        reportCounts(
            index,
            WorkerObjectCounts(routers: counts.routers, transports: counts.transports, producers: counts.producers, consumers: counts.consumers))
    }

    /// Counters and counts of this worker, read on its loop (for tests, stats and the bench).
    func snapshot() async -> (counters: SFUCounters, datagramsWritten: UInt64) {
        (try? await eventLoop.submit { (self.core.counters, self.sink.datagramsWritten) }.get()) ?? (SFUCounters(), 0)
    }

    /// Datagrams the kernel took and `sendmmsg` calls so far (the bench compares the batches
    /// with the kernel floor's).
    func sendBatches() async -> (datagrams: UInt64, calls: UInt64) {
        (try? await eventLoop.submit { (self.sink.datagramsWritten, self.sink.sendCalls) }.get()) ?? (0, 0)
    }
}
