import Synchronization

/// Wakes each session at its state machine's next deadline (a ping due, a pong overdue, a probe
/// too slow, a GET's upgrade wait over): one min-heap of deadlines driven by one task
/// (``run()``), instead of sweeping every session every 25 ms. One task, not one per session: a
/// cancelled sleeping task keeps its timer (and memory) until its deadline, so per-session sleeps
/// that are re-armed on every pong would pile up.
///
/// A session pushes an entry only when its deadline moves earlier than the one it has
/// scheduled (``EngineSession`` keeps that); an entry whose deadline moved later fires early,
/// finds nothing due and schedules the new one. Entries hold the session through its
/// ``SessionTimerSlot``, which lets go of it when it closes: a closed, forgotten session is
/// freed at once and its entry is dropped when it comes up.
final class SessionTimers: Sendable {
    typealias Instant = ContinuousClock.Instant

    struct Entry {
        let deadline: Instant
        let slot: SessionTimerSlot
    }

    /// A binary min-heap on `deadline`.
    struct Heap {
        private(set) var entries: [Entry] = []

        var count: Int { entries.count }
        var earliest: Instant? { entries.first?.deadline }

        mutating func push(_ entry: Entry) {
            entries.append(entry)
            var child = entries.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard entries[child].deadline < entries[parent].deadline else { break }
                entries.swapAt(child, parent)
                child = parent
            }
        }

        /// The earliest entry if it is due at `now`.
        mutating func popDue(_ now: Instant) -> Entry? {
            guard let first = entries.first, first.deadline <= now else { return nil }
            let last = entries.removeLast()
            guard !entries.isEmpty else { return first }
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
                if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
                guard smallest != parent else { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
            return first
        }
    }

    struct State {
        var heap = Heap()
        /// Until when ``run()`` sleeps (nil: it is not sleeping).
        var sleepingUntil: Instant?
        /// Ends the sleep early (an earlier deadline arrived, or the server stops).
        var wake: CheckedContinuation<Void, Never>?
        var wakeRequested = false
        var stopped = false
    }

    let state = Mutex(State())
    /// The longest sleep: housekeeping (memory trim, straggler table) runs at least this often.
    static let maxSleep = Duration.seconds(1)

    /// Entries in the heap (a test hook).
    var count: Int { state.withLock { $0.heap.count } }
    /// The earliest deadline scheduled (what the timer task wakes for next, unless it is past the 1 s bound).
    var earliestDeadline: Instant? { state.withLock { $0.heap.earliest } }

    func schedule(_ session: EngineSession, at deadline: Instant) {
        let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.heap.push(Entry(deadline: deadline, slot: session.timerSlot))
            guard let until = state.sleepingUntil, deadline < until else { return nil }
            state.sleepingUntil = deadline
            return state.takeWake()
        }
        wake?.resume()
    }

    /// Ends ``run()``.
    func stop() {
        let wake = state.withLock { state in
            state.stopped = true
            return state.takeWake()
        }
        wake?.resume()
    }

    /// Fires sessions as their deadlines come, until ``stop()`` or cancellation; `housekeeping`
    /// runs after each wake-up.
    func run(housekeeping: (Instant) -> Void) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let now = clock.now
            while let entry = state.withLock({ $0.heap.popDue(now) }) {
                entry.slot.session?.timerFired(scheduledFor: entry.deadline, now: now)
            }
            housekeeping(now)
            let until: Instant? = state.withLock { state in
                guard !state.stopped else { return nil }
                let until = min(state.heap.earliest ?? now + Self.maxSleep, now + Self.maxSleep)
                state.sleepingUntil = until
                state.wakeRequested = false
                return until
            }
            guard let until else { return }
            if until > clock.now { await sleep(until: until) }
            state.withLock { $0.sleepingUntil = nil }
        }
    }

    /// Sleeps until `deadline` or until woken.
    private func sleep(until deadline: Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            group.addTask { await self.waitForWake() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.wakeRequested || state.stopped || Task.isCancelled { return true }
                    state.wake = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.takeWake() }?.resume()
        }
    }
}

extension SessionTimers.State {
    /// The sleeper's continuation, or a note that it must not sleep (it has not parked yet).
    mutating func takeWake() -> CheckedContinuation<Void, Never>? {
        wakeRequested = true
        defer { wake = nil }
        return wake
    }
}

/// What a timer entry holds instead of a weak reference to its session.
///
/// A weak reference gives the session a side table, and every retain and release of an object
/// with one takes the runtime's slow path through it (one more cache line per socket): that
/// showed in a broadcast's per-recipient cost, which retains each recipient's session. The slot
/// holds the session strongly while it is open (the session holds the slot: a cycle, broken by
/// ``release()`` when the session closes or is discarded, so a closed session is freed at once).
final class SessionTimerSlot: Sendable {
    private let held = Mutex<EngineSession?>(nil)

    init() {}

    var session: EngineSession? { held.withLock { $0 } }

    func hold(_ session: EngineSession) { held.withLock { $0 = session } }

    func release() { held.withLock { $0 = nil } }
}
