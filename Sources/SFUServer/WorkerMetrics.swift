import Metrics
import SFU

/// The swift-metrics handles of one worker, created once.
struct WorkerMetrics {
    let packetsIn = Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "in")])
    let packetsOut = Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "out")])
    let drops = DropReason.allCases.map { Counter(label: "msab_sfu_drops_total", dimensions: [("reason", $0.description)]) }
}
