import NIOCore

/// The speakers' 20 ms frame clock, told the time: how many frames are due now.
///
/// NIO's repeated task fires 20 ms after its previous run ended, so on a busy machine it runs
/// late, and one frame per firing sends fewer than 50 frames a second: less load on the server
/// under test than asked for, and a different load for each server (the Janus bench saw 11 to 32
/// frames a second on a loaded machine). This clock counts frames against the time since
/// `start` and catches up, at most ``maximumBurst`` frames at once; frames later than that are
/// skipped (a live sender's audio would be gone too), never sent as a flood.
struct AudioFrameClock {
    static let interval = TimeAmount.milliseconds(20)
    static let maximumBurst = 5

    let start: NIODeadline
    /// Frames handed out, and frames skipped because they were too late.
    private(set) var sent = 0
    private(set) var skipped = 0

    init(start: NIODeadline) {
        self.start = start
    }

    /// Frames to send now (0 … ``maximumBurst``).
    mutating func due(now: NIODeadline) -> Int {
        guard now >= start else { return 0 }
        let elapsed = Int((now - start).nanoseconds / Self.interval.nanoseconds) + 1
        var count = elapsed - sent - skipped
        guard count > 0 else { return 0 }
        if count > Self.maximumBurst {
            skipped += count - Self.maximumBurst
            count = Self.maximumBurst
        }
        sent += count
        return count
    }
}
