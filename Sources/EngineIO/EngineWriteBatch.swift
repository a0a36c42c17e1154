import EngineIOParser
import NIOCore
import Synchronization

/// Groups the socket writes of one broadcast by event loop.
///
/// Without a batch, a frame queued for an idle WebSocket schedules that socket's drain on its
/// event loop at once (one `execute` per socket). Inside ``collect(_:)`` the drains are only
/// noted, and each event loop gets one task per ``chunk`` of its sockets (the last when the body
/// returns): a room of 1,000 sockets on two loops costs 32 hops instead of 1,000.
///
/// Order is kept: a socket's frames stay in its own queue, in `send` order, and a drain that is
/// already scheduled (batched or not) picks up frames queued after it was scheduled.
public final class EngineWriteBatch: Sendable {
    @TaskLocal static var current: EngineWriteBatch?

    private struct Loop {
        let id: ObjectIdentifier
        let eventLoop: any EventLoop
        var queues: [OutboundFrameQueue]
        /// The broadcast whose frames this loop's sockets last queued, and this loop's copy of them.
        var broadcast: ObjectIdentifier?
        var frames: [EngineIOCodec.Frame] = []
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

    /// Sockets per event loop handed over at once (32 read better than 128 in the cluster bench: 0.25–0.97 ms
    /// against 1.65 ms added by crossing nodes, same window). A big room's first sockets are then written
    /// while the rest are still being queued (by this thread, or by the Redis loop for another
    /// node's broadcast), instead of after the last one: the fan-out starts a chunk's queueing
    /// time after the event, not the whole room's.
    static let chunk = 32

    /// Notes that `queue` needs a drain on `eventLoop`.
    func add(_ queue: OutboundFrameQueue, on eventLoop: any EventLoop) {
        let full: [OutboundFrameQueue]? = loops.withLock { loops in
            let index = Self.index(of: eventLoop, in: &loops)
            loops[index].queues.append(queue)
            guard loops[index].queues.count >= Self.chunk else { return nil }
            defer { loops[index].queues = [] }
            return loops[index].queues
        }
        guard let full else { return }
        handOver([Loop(id: ObjectIdentifier(eventLoop), eventLoop: eventLoop, queues: full)])
    }

    /// `broadcast`'s frames for the sockets of `eventLoop`: the broadcast's own for the first
    /// loop, a copy with its own storage for each other loop.
    ///
    /// Every socket's queue holds (retains) the frame's string, and each loop's drain retains
    /// and releases it again per socket: with one string for all loops, the loops' threads
    /// fight over its reference count (one cache line bouncing between cores, per recipient),
    /// which made `swift_retain` the fan-out's hottest symbol. A copy per loop keeps each
    /// count on one core; a loop's sockets still share one string, so ``EngineFrameMemo``
    /// still encodes once per loop.
    func frames(of broadcast: EngineBroadcastMessage, on eventLoop: any EventLoop) -> [EngineIOCodec.Frame] {
        let id = ObjectIdentifier(broadcast.identity)
        return loops.withLock { loops in
            let index = Self.index(of: eventLoop, in: &loops)
            if loops[index].broadcast == id { return loops[index].frames }
            let first = !loops.contains { $0.broadcast == id }
            let frames = first ? broadcast.frames : broadcast.frames.map(Self.ownCopy)
            loops[index].broadcast = id
            loops[index].frames = frames
            return frames
        }
    }

    /// The entry of `eventLoop`, added when missing. A linear scan: a handful of loops.
    private static func index(of eventLoop: any EventLoop, in loops: inout [Loop]) -> Int {
        let id = ObjectIdentifier(eventLoop)
        if let index = loops.firstIndex(where: { $0.id == id }) { return index }
        loops.append(Loop(id: id, eventLoop: eventLoop, queues: []))
        return loops.count - 1
    }

    /// A text frame with its own string storage (a binary frame, rare in a broadcast, is shared).
    private static func ownCopy(_ frame: EngineIOCodec.Frame) -> EngineIOCodec.Frame {
        guard case .text(let text) = frame else { return frame }
        let count = text.utf8.count
        return .text(
            String(unsafeUninitializedCapacity: count) { buffer in
                _ = buffer.initialize(from: text.utf8)
                return count
            })
    }

    private func schedule() {
        let groups = loops.withLock { loops in
            defer { loops = [] }
            return loops
        }
        guard !groups.isEmpty else { return }
        handOver(groups)
    }

    /// Schedules `groups`' drains: from the gate when there is one (after what it has queued), else now.
    private func handOver(_ groups: [Loop]) {
        if let gate = gate.withLock({ $0 }) {
            gate.execute { Self.schedule(groups) }
        } else {
            Self.schedule(groups)
        }
    }

    private static func schedule(_ groups: [Loop]) {
        for group in groups where !group.queues.isEmpty {
            let queues = group.queues
            group.eventLoop.execute {
                let memo = EngineFrameMemo()
                let count = queues.count
                for index in 0..<count {
                    // The objects of the next sockets, out of cache with thousands of them.
                    if index &+ 3 < count { queues[index &+ 3].prefetch() }
                    if index &+ 2 < count { queues[index &+ 2].prefetchSink() }
                    if index &+ 1 < count { queues[index &+ 1].prefetchSinkTargets() }
                    queues[index].drain(memo: memo)
                }
            }
        }
    }
}
