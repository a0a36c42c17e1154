/// Latency samples (one per participant, so bounded by the participant count) and their
/// nearest-rank percentiles.
public struct LatencySamples: Sendable, Hashable {
    public private(set) var milliseconds: [Double] = []
    private var sorted = true

    public init() {}

    public mutating func add(_ value: Double) {
        if let last = milliseconds.last, value < last { sorted = false }
        milliseconds.append(value)
    }

    public var count: Int { milliseconds.count }

    /// The nearest-rank percentile `p` (0…100); nil without samples.
    public mutating func percentile(_ p: Double) -> Double? {
        guard !milliseconds.isEmpty else { return nil }
        if !sorted {
            milliseconds.sort()
            sorted = true
        }
        let rank = Int((p / 100 * Double(milliseconds.count)).rounded(.up))
        return milliseconds[min(max(rank, 1), milliseconds.count) - 1]
    }
}
