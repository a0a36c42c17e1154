public import NIOCore

/// Converting a span of monotonic time into a media clock's units (RTP timestamp ticks, RTCP's
/// 1/65,536 s): whole seconds × rate plus the rest scaled on its own. A plain
/// `nanoseconds * rate / 1e9` passes 2^64 (after about 78 h at 65,536/s; sooner at high RTP
/// clock rates) and traps.
///
/// The media plane keeps time as `NIODeadline` instants and `TimeAmount` spans; this is where
/// a span becomes a wire unit (RFC 3550's timestamp and DLSR fields).
public enum MediaClock {
    /// `elapsed` in units of 1/`rate` s, rounded down; a negative span counts as zero. The
    /// seconds term wraps (`&*`, `&+`), as RTP timestamps do; a caller that must saturate
    /// bounds the seconds first. `rate` must be at most 2^32 (every clock here is), so the rest
    /// term stays under 2^62.
    @inlinable
    public static func ticks(_ elapsed: TimeAmount, rate: UInt64) -> UInt64 {
        let nanoseconds = UInt64(clamping: elapsed.nanoseconds)
        return (nanoseconds / 1_000_000_000) &* rate &+ (nanoseconds % 1_000_000_000) * rate / 1_000_000_000
    }

    /// `instant` in units of 1/`rate` s since the monotonic clock's origin (wrapping), the
    /// "arrival time in timestamp units" of RFC 3550 A.8.
    @inlinable
    public static func ticks(at instant: NIODeadline, rate: UInt64) -> UInt64 {
        ticks(instant - .distantPast, rate: rate)
    }
}
