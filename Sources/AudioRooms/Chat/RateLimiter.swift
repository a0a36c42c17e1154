import Synchronization

/// The reference's fixed-window limiter (contract §9: `INCR` + `EXPIRE NX` per key): at most
/// `limit` hits per window, the window starting at the first hit. In-memory here; the Redis
/// store uses the same algorithm with the same keys.
public final class RateLimiter: Sendable {
    private struct Window {
        var start: Int64
        var count: Int
    }
    private let windows = Mutex<[String: Window]>([:])

    public init() {}

    /// Counts a hit and says whether it is allowed (count ≤ limit).
    public func allow(_ key: String, limit: Int, windowMs: Int64, now: Int64) -> Bool {
        windows.withLock { windows in
            if windows.count > 50_000 { windows = windows.filter { now - $0.value.start < windowMs } }
            var window = windows[key] ?? Window(start: now, count: 0)
            if now - window.start >= windowMs { window = Window(start: now, count: 0) }
            window.count += 1
            windows[key] = window
            return window.count <= limit
        }
    }
}
