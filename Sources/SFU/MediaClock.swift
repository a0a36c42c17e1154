/// Converting monotonic nanoseconds into a media clock's units (RTP timestamp ticks, RTCP's
/// 1/65,536 s): whole seconds × rate plus the rest scaled on its own. A plain
/// `nanoseconds * rate / 1e9` passes 2^64 (after about 78 h at 65,536/s; sooner at high RTP
/// clock rates) and traps.
enum MediaClock {
    /// `nanoseconds` in units of 1/`rate` s, rounded down. The seconds term wraps (`&*`, `&+`),
    /// as RTP timestamps do; a caller that must saturate bounds the seconds first. `rate` must be
    /// at most 2^32 (every clock here is), so the rest term stays under 2^62.
    @inline(__always)
    static func ticks(nanoseconds: UInt64, rate: UInt64) -> UInt64 {
        (nanoseconds / 1_000_000_000) &* rate &+ (nanoseconds % 1_000_000_000) * rate / 1_000_000_000
    }
}
