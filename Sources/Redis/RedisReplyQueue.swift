import NIOCore

/// The replies one connection still owes, oldest first. Redis answers commands strictly in order, so
/// the n-th reply belongs to the n-th command written; this FIFO is the whole correlation mechanism.
///
/// A sans-I/O state machine, told the time and returning what to do. A command that times out keeps
/// its slot: its reply will still come and must be thrown away, otherwise every later caller would
/// get its predecessor's reply. Because all commands share one timeout, deadlines grow along the
/// FIFO, so timed-out entries always form a prefix of it (`timedOutPrefix`).
struct RedisReplyQueue<Waiter> {
    private struct Entry {
        /// nil once timed out: the reply is still due but nobody waits for it any more.
        var waiter: Waiter?
        let sentAt: NIODeadline
    }

    private var entries = CircularBuffer<Entry>()
    /// The first `timedOutPrefix` entries have timed out.
    private var timedOutPrefix = 0
    /// When the owner's timer is due, if it has one.
    private(set) var timerDeadline: NIODeadline?

    let maxPending: Int
    let commandTimeout: TimeAmount
    let deadConnectionTimeout: TimeAmount

    init(maxPending: Int, commandTimeout: TimeAmount, deadConnectionTimeout: TimeAmount) {
        self.maxPending = max(1, maxPending)
        self.commandTimeout = commandTimeout
        self.deadConnectionTimeout = deadConnectionTimeout
    }

    /// Replies still due, including those nobody waits for any more.
    var count: Int { entries.count }
    /// Commands whose callers still wait.
    var waiting: Int { entries.count - timedOutPrefix }

    enum EnqueueResult: Equatable {
        /// Write the commands; (re)arm the timer for this deadline when it is given.
        case accepted(armTimerAt: NIODeadline?)
        /// Too many replies outstanding: fail these waiters with `.busy` and write nothing.
        case busy
    }

    mutating func enqueue(_ waiters: some Collection<Waiter>, now: NIODeadline) -> EnqueueResult {
        guard waiters.count <= maxPending - entries.count else { return .busy }
        for waiter in waiters {
            entries.append(Entry(waiter: waiter, sentAt: now))
        }
        let deadline = now + commandTimeout
        if let timerDeadline, timerDeadline <= deadline { return .accepted(armTimerAt: nil) }
        timerDeadline = deadline
        return .accepted(armTimerAt: deadline)
    }

    enum ReplyAction {
        /// Complete this waiter with the reply.
        case deliver(Waiter)
        /// The reply of a command that already timed out: drop it.
        case discardLate
        /// A reply nobody asked for: the stream is out of step, close the connection.
        case unsolicited
    }

    mutating func receive() -> ReplyAction {
        guard let entry = entries.popFirst() else { return .unsolicited }
        if timedOutPrefix > 0 {
            timedOutPrefix -= 1
            return .discardLate
        }
        guard let waiter = entry.waiter else { return .discardLate }
        return .deliver(waiter)
    }

    struct TimerAction {
        /// Fail these with `.timeout`.
        var expired: [Waiter] = []
        /// Arm the timer again for this deadline.
        var rearmAt: NIODeadline?
        /// The oldest reply is `deadConnectionTimeout` late: close the connection.
        var connectionDead = false
    }

    mutating func timerFired(now: NIODeadline) -> TimerAction {
        var action = TimerAction()
        while timedOutPrefix < entries.count {
            let index = entries.index(entries.startIndex, offsetBy: timedOutPrefix)
            guard entries[index].sentAt + commandTimeout <= now else { break }
            if let waiter = entries[index].waiter { action.expired.append(waiter) }
            entries[index].waiter = nil
            timedOutPrefix += 1
        }
        var next: NIODeadline?
        if timedOutPrefix < entries.count {
            next = entries[entries.index(entries.startIndex, offsetBy: timedOutPrefix)].sentAt + commandTimeout
        }
        if timedOutPrefix > 0, let oldest = entries.first {
            let deadAt = oldest.sentAt + deadConnectionTimeout
            if deadAt <= now {
                action.connectionDead = true
            } else {
                next = next.map { min($0, deadAt) } ?? deadAt
            }
        }
        timerDeadline = action.connectionDead ? nil : next
        action.rearmAt = timerDeadline
        return action
    }

    /// Empties the queue (connection gone); returns the waiters to fail.
    mutating func removeAll() -> [Waiter] {
        let waiters = entries.compactMap(\.waiter)
        entries.removeAll()
        timedOutPrefix = 0
        timerDeadline = nil
        return waiters
    }
}
