/// When to hand freed heap back to the system (glibc's malloc_trim) after sessions close.
///
/// A wave of closes (a reconnect storm, 10,000 abandoned handshakes expiring together) leaves
/// glibc holding the freed pages, so without a trim the process keeps its peak footprint. A trim
/// walks the whole heap, so it runs once per wave: after at least `threshold` closes, and only
/// once no session has closed for `quietPeriod`, when the wave's objects (sessions and their
/// buffers) have all been released. Trimming in the middle of a
/// wave would find most of that memory still referenced.
///
/// A value type told the time, so its decisions are testable without a clock.
struct MemoryTrimPolicy: Sendable {
    var threshold: Int
    var quietPeriod: Duration
    private(set) var closedSinceTrim = 0
    private var lastClose: ContinuousClock.Instant?

    init(threshold: Int = 1_000, quietPeriod: Duration = .milliseconds(500)) {
        self.threshold = threshold
        self.quietPeriod = quietPeriod
    }

    mutating func sessionClosed(at now: ContinuousClock.Instant) {
        closedSinceTrim += 1
        lastClose = now
    }

    /// True once per wave: the caller trims now; the count starts again.
    mutating func shouldTrim(now: ContinuousClock.Instant) -> Bool {
        guard closedSinceTrim >= threshold, let lastClose, now - lastClose >= quietPeriod else { return false }
        closedSinceTrim = 0
        self.lastClose = nil
        return true
    }
}
