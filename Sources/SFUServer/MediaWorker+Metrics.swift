import Metrics
import SFU

// What a media worker publishes from its tick: packet and drop counters as swift-metrics deltas,
// and its object counts for ``MediaServer``'s gauges.
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
        reportCounts(index, WorkerObjectCounts(routers: counts.routers, transports: counts.transports, producers: counts.producers, consumers: counts.consumers))
    }
}

/// Per-worker object counts, aggregated by ``MediaServer`` into the gauges.
struct WorkerObjectCounts: Sendable, Hashable {
    var routers = 0
    var transports = 0
    var producers = 0
    var consumers = 0
}

/// The swift-metrics handles of one worker, created once.
struct WorkerMetrics {
    let packetsIn = Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "in")])
    let packetsOut = Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "out")])
    let drops = DropReason.allCases.map { Counter(label: "msab_sfu_drops_total", dimensions: [("reason", $0.description)]) }
}
