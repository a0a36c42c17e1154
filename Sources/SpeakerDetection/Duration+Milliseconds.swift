extension Duration {
    /// Whole milliseconds (truncated), the unit mediasoup's observers count in.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        // Saturating: a Duration can hold more milliseconds than Int64 (monotonic time cannot,
        // but this must not trap on any input).
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        let (total, overflowAgain) = milliseconds.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflowAgain ? (seconds < 0 ? Int64.min : Int64.max) : total
    }
}

/// RFC 6464 §3: the audio level is "the magnitude of the audio level … in -dBov", 0 (loudest)
/// to 127 (−127 dBov, silence). Callers pass dBov (0 … −127); values outside are clamped so a
/// bad header extension cannot push the arithmetic out of range.
func clampedDBov(_ dBov: Int) -> Int {
    min(0, max(-127, dBov))
}
