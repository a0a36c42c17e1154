/// The requests this node is waiting on an answer for (sans-I/O: no clock, no I/O; the shell
/// holds it under a lock). Bounded: a node that stops answering makes requests fail fast once
/// `capacity` are pending, instead of piling up waiters.
///
/// A slot is reserved before the request is sent, so an answer that arrives before the caller
/// starts waiting is kept (`answered`) and handed over when it does.
struct PendingRequests<Reply: Sendable, Waiter> {
    enum Slot {
        /// Sent, nobody waiting yet.
        case reserved
        /// The caller waits.
        case waiting(Waiter)
        /// Answered before the caller waited.
        case answered(Reply)
    }

    /// What `wait` tells the shell to do.
    enum WaitAction {
        /// Resume the waiter with this answer now.
        case resume(Reply)
        /// Keep the waiter: an answer or a timeout will resume it.
        case keep
        /// Unknown id (timed out already): fail the waiter.
        case fail
    }

    let capacity: Int
    private(set) var nextId: UInt64 = 1
    private(set) var slots: [UInt64: Slot] = [:]

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { slots.count }

    /// A fresh id, or nil when `capacity` requests are pending.
    mutating func reserve() -> UInt64? {
        guard slots.count < capacity else { return nil }
        let id = nextId
        nextId &+= 1
        slots[id] = .reserved
        return id
    }

    mutating func wait(_ id: UInt64, _ waiter: Waiter) -> WaitAction {
        switch slots[id] {
        case .reserved?:
            slots[id] = .waiting(waiter)
            return .keep
        case .answered(let reply)?:
            slots[id] = nil
            return .resume(reply)
        case .waiting?, nil:
            return .fail
        }
    }

    /// An answer came: the waiter to resume, if any. An answer for an unknown id (late, forged,
    /// duplicate) is dropped.
    mutating func answer(_ id: UInt64, _ reply: Reply) -> Waiter? {
        switch slots[id] {
        case .reserved?:
            slots[id] = .answered(reply)
            return nil
        case .waiting(let waiter)?:
            slots[id] = nil
            return waiter
        case .answered?, nil:
            return nil
        }
    }

    /// Gives up on a request (timeout, send failure): the waiter to fail, if one waits.
    mutating func cancel(_ id: UInt64) -> Waiter? {
        guard case .waiting(let waiter)? = slots.removeValue(forKey: id) else { return nil }
        return waiter
    }
}
