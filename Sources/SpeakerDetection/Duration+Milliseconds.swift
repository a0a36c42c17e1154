extension Duration {
    /// Whole milliseconds (truncated), the unit mediasoup's observers count in.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// RFC 6464 §3: the audio level is "the magnitude of the audio level … in -dBov", 0 (loudest)
/// to 127 (−127 dBov, silence). Callers pass dBov (0 … −127); values outside are clamped so a
/// bad header extension cannot push the arithmetic out of range.
func clampedDBov(_ dBov: Int) -> Int {
    min(0, max(-127, dBov))
}
