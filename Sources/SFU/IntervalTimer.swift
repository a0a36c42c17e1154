import NIOCore

/// A speaker observer's interval (mediasoup's `RtpObserver` timer), told the time by the worker's
/// tick rather than scheduled on the loop.
struct IntervalTimer {
    let interval: TimeAmount
    /// When the next tick is due; nil until the first call arms it.
    private var nextAt: NIODeadline?

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Whether a tick is due at `now`, moving the deadline on by one interval when it is. The
    /// first call only arms the timer; after a stall the next tick is one interval from now (we
    /// fell behind: do not burst).
    mutating func fire(now: NIODeadline) -> Bool {
        guard let due = nextAt else {
            nextAt = now + interval
            return false
        }
        guard now >= due else { return false }
        let next = due + interval
        nextAt = next <= now ? now + interval : next
        return true
    }
}
