import NIOCore
import Synchronization

/// Groups the socket writes of one broadcast by event loop.
///
/// Without a batch, a frame queued for an idle WebSocket schedules that socket's drain on its
/// event loop at once (one `execute` per socket). Inside ``collect(_:)`` the drains are only
/// noted, and when the body returns each event loop gets one task that drains all of its
/// sockets: a room of 1,000 sockets on two loops costs two hops instead of 1,000.
///
/// Order is kept: a socket's frames stay in its own queue, in `send` order, and a drain that is
/// already scheduled (batched or not) picks up frames queued after it was scheduled.
public final class EngineWriteBatch: Sendable {
    @TaskLocal static var current: EngineWriteBatch?

    private struct Loop {
        let id: ObjectIdentifier
        let eventLoop: any EventLoop
        var queues: [OutboundFrameQueue]
    }

    /// One entry per event loop, found by its identity: a linear scan over a handful of loops
    /// (one per core) costs less per socket than hashing. One task fills it; the lock is only
    /// for Sendable.
    private let loops = Mutex<[Loop]>([])
    /// Where the drains are scheduled from, when not from the collecting task itself.
    private let gate = Mutex<(any EventLoop)?>(nil)

    private init() {}

    /// Runs `body`; the socket drains it causes are scheduled, one task per event loop, when it
    /// returns — from a task on `gate` when given (so that what was queued on `gate` before, a
    /// cluster's PUBLISH, is written first). Nested calls join the outer batch (and its gate).
    public static func collect<T>(after gate: (any EventLoop)? = nil, _ body: () throws -> T) rethrows -> T {
        if let current {
            if let gate { current.gate.withLock { if $0 == nil { $0 = gate } } }
            return try body()
        }
        let batch = EngineWriteBatch()
        if let gate { batch.gate.withLock { $0 = gate } }
        let result = try $current.withValue(batch) { try body() }
        batch.schedule()
        return result
    }

    /// Notes that `queue` needs a drain on `eventLoop`.
    func add(_ queue: OutboundFrameQueue, on eventLoop: any EventLoop) {
        let id = ObjectIdentifier(eventLoop)
        loops.withLock { loops in
            if let index = loops.firstIndex(where: { $0.id == id }) {
                loops[index].queues.append(queue)
            } else {
                loops.append(Loop(id: id, eventLoop: eventLoop, queues: [queue]))
            }
        }
    }

    private func schedule() {
        let groups = loops.withLock { loops in
            defer { loops = [] }
            return loops
        }
        guard !groups.isEmpty else { return }
        if let gate = gate.withLock({ $0 }) {
            gate.execute { Self.schedule(groups) }
        } else {
            Self.schedule(groups)
        }
    }

    private static func schedule(_ groups: [Loop]) {
        for group in groups {
            let queues = group.queues
            group.eventLoop.execute {
                let memo = EngineFrameMemo()
                for queue in queues { queue.drain(memo: memo) }
            }
        }
    }
}
