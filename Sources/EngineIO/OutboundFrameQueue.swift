import EngineIOParser
import NIOCore
import Synchronization

/// The frames waiting for one WebSocket, bounded in bytes and in count.
///
/// Two ways out. With an ``EngineFrameSink`` (the server's WebSockets) the queue drains itself on
/// the sink's event loop: `push` schedules a drain when none is pending (or notes it in the
/// current ``EngineWriteBatch``), and the drain writes everything queued and flushes once.
/// Without one (tests, and any adapter that only has an async writer) a writer task pulls
/// frames with `next()` and reports each with `written(_:)`.
///
/// The backlog counts the queued frames plus those handed to the channel and not yet on the
/// wire (their write promise has not completed), so a client that does not read shows up here.
/// `push` refuses what would take the backlog past the limits and the session is then closed
/// as a slow consumer; `abort` drops everything at once and wakes `aborted()`, whose waiter ends
/// the WebSocket (also cancelling writes stuck on a full socket).
final class OutboundFrameQueue: Sendable {
    struct Limits: Sendable {
        var bytes: Int
        var frames: Int
    }

    enum PushResult: Equatable { case queued, overflow, closed }

    private struct State {
        var frames = CircularBuffer<EngineIOCodec.Frame>()
        /// Bytes queued plus those being written.
        var bytes = 0
        /// Frames being written (handed out by `next()`, or drained into the sink and not yet
        /// on the wire).
        var inFlight = 0
        var finished = false
        var aborted = false
        /// Sink mode: a drain is scheduled and has not run yet.
        var drainPending = false
        var reader: CheckedContinuation<EngineIOCodec.Frame?, Never>?
        var abortWaiters: [CheckedContinuation<Void, Never>] = []
        var drainedWaiters: [CheckedContinuation<Void, Never>] = []

        /// Finished (or aborted) and nothing left to write: `drained()` may return.
        var isDrained: Bool { aborted || (finished && frames.isEmpty && inFlight == 0) }

        var queuedCount: Int { frames.count }
    }

    let limits: Limits
    /// Where the frames go; nil: a writer task pulls them with `next()`.
    let sink: (any EngineFrameSink)?
    /// The sink's event loop, read once: asking the sink (an existential call into the channel)
    /// per push and per drain showed up in a broadcast's per-recipient cost.
    private let eventLoop: (any EventLoop)?
    private let state = Mutex(State())

    init(limits: Limits, sink: (any EngineFrameSink)? = nil) {
        self.limits = limits
        self.sink = sink
        eventLoop = sink?.eventLoop
    }

    static func size(_ frame: EngineIOCodec.Frame) -> Int {
        switch frame {
        case .text(let text): text.utf8.count
        case .binary(let bytes): bytes.readableBytes
        }
    }

    /// The backlog (queued + being written), in bytes and frames: a test hook.
    var backlog: (bytes: Int, frames: Int) { state.withLock { ($0.bytes, $0.queuedCount + $0.inFlight) } }

    /// Queues a broadcast's frames: inside a batch, the copy for this queue's event loop
    /// (see ``EngineWriteBatch/frames(of:on:)``).
    func push(broadcast: EngineBroadcastMessage) -> PushResult {
        guard let eventLoop, let batch = EngineWriteBatch.current else { return push(broadcast.frames) }
        return push(batch.frames(of: broadcast, on: eventLoop))
    }

    /// Queues frames that must go out back to back: all or none.
    func push(_ frames: [EngineIOCodec.Frame]) -> PushResult {
        let added = frames.reduce(0) { $0 &+ Self.size($1) }
        let (result, wake): (PushResult, Wake) = state.withLock { state in
            guard !state.finished, !state.aborted else { return (.closed, .none) }
            guard state.bytes &+ added <= limits.bytes, state.queuedCount + state.inFlight + frames.count <= limits.frames else {
                return (.overflow, .none)
            }
            state.bytes &+= added
            if eventLoop != nil {
                state.frames.append(contentsOf: frames)
                guard !state.drainPending, !frames.isEmpty else { return (.queued, .none) }
                state.drainPending = true
                return (.queued, .drain)
            }
            guard let reader = state.reader, !frames.isEmpty else {
                state.frames.append(contentsOf: frames)
                return (.queued, .none)
            }
            // The writer is idle and waiting: hand it the first frame directly.
            state.reader = nil
            state.inFlight = 1
            state.frames.append(contentsOf: frames.dropFirst())
            return (.queued, .reader(reader))
        }
        switch wake {
        case .none: break
        case .reader(let reader): reader.resume(returning: frames.first)
        case .drain: scheduleDrain()
        }
        return result
    }

    private enum Wake {
        case none
        case reader(CheckedContinuation<EngineIOCodec.Frame?, Never>)
        case drain
    }

    // MARK: - sink mode

    /// Schedules `drain()` on the sink's loop: in the current broadcast's batch, or on its own.
    private func scheduleDrain() {
        guard let eventLoop else { return }
        if let batch = EngineWriteBatch.current {
            batch.add(self, on: eventLoop)
        } else {
            eventLoop.execute { self.drain() }
        }
    }

    // Prefetch stages for a broadcast's drain loop (``EngineWriteBatch``), each a socket
    // closer than the one before: this queue, then its sink, then the sink's channel objects.
    // Each stage reads only what the previous one brought into cache.

    /// The queue object, its state stored inline.
    func prefetch() { enginePrefetch(self, lines: 3) }

    /// The sink object (reads `sink`, a constant).
    func prefetchSink() {
        if let sink { enginePrefetch(sink, lines: 2) }
    }

    /// What the sink's next write touches.
    func prefetchSinkTargets() { sink?.prefetch() }

    /// On the sink's event loop: writes every queued frame, flushes once, and releases their
    /// bytes when the last write completes (writes complete in order).
    func drain(memo: EngineFrameMemo? = nil) {
        guard let sink, let eventLoop else { return }
        let taken: Taken = state.withLock { state in
            state.drainPending = false
            guard !state.aborted, !state.frames.isEmpty else { return .none }
            state.inFlight &+= state.frames.count
            // Usually one frame (a broadcast's event): popped, keeping the buffer, instead
            // of swapping in a new buffer (an allocation per socket per broadcast).
            if state.frames.count == 1, let frame = state.frames.popFirst() { return .one(frame) }
            defer { state.frames = CircularBuffer() }
            return .many(state.frames)
        }
        let frames: CircularBuffer<EngineIOCodec.Frame>
        switch taken {
        case .none:
            return
        case .one(let frame):
            let promise = eventLoop.makePromise(of: Void.self)
            sink.write(frame, memo: memo, promise: promise)
            sink.flush()
            let bytes = Self.size(frame)
            promise.futureResult.whenComplete { _ in self.wrote(frames: 1, bytes: bytes) }
            return
        case .many(let many):
            frames = many
        }
        var bytes = 0
        let promise = eventLoop.makePromise(of: Void.self)
        var index = frames.startIndex
        while index != frames.endIndex {
            let frame = frames[index]
            frames.formIndex(after: &index)
            bytes &+= Self.size(frame)
            sink.write(frame, memo: memo, promise: index == frames.endIndex ? promise : nil)
        }
        sink.flush()
        let (count, total) = (frames.count, bytes)
        promise.futureResult.whenComplete { _ in self.wrote(frames: count, bytes: total) }
    }

    /// What a drain took from the queue.
    private enum Taken {
        case none
        case one(EngineIOCodec.Frame)
        case many(CircularBuffer<EngineIOCodec.Frame>)
    }

    /// Frames drained into the sink are on the wire (or failed).
    private func wrote(frames: Int, bytes: Int) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.inFlight = max(0, state.inFlight &- frames)
            state.bytes = max(0, state.bytes &- bytes)
            guard state.isDrained else { return [] }
            defer { state.drainedWaiters = [] }
            return state.drainedWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Finished (or aborted) with nothing left to write: a test hook.
    var isDrained: Bool { state.withLock { $0.isDrained } }

    /// Sink mode: returns once the queue is finished and everything in it is on the wire, or
    /// it was aborted, or the calling task is cancelled.
    func drained() async { await wait(until: \.isDrained, in: \.drainedWaiters) }

    /// The next frame for the writer, nil once finished (after the queued frames) or aborted.
    /// The writer calls `written()` after each frame.
    func next() async -> EngineIOCodec.Frame? {
        await withCheckedContinuation { continuation in
            let now: EngineIOCodec.Frame?? = state.withLock { state in
                if state.aborted { return .some(nil) }
                if let frame = state.frames.popFirst() {
                    state.inFlight = 1
                    return .some(frame)
                }
                if state.finished { return .some(nil) }
                state.reader = continuation
                return .none
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// The frame handed out by `next()` has been written (or failed).
    func written(_ frame: EngineIOCodec.Frame) {
        let size = Self.size(frame)
        state.withLock { state in
            state.inFlight = 0
            state.bytes = max(0, state.bytes &- size)
        }
    }

    /// No more frames: the writer ends after the queued ones.
    func finish() {
        let (reader, waiters) = state.withLock { state in
            state.finished = true
            let waiters = state.isDrained ? state.drainedWaiters : []
            if state.isDrained { state.drainedWaiters = [] }
            defer { state.reader = nil }
            return (state.frames.isEmpty ? state.reader : nil, waiters)
        }
        reader?.resume(returning: nil)
        for waiter in waiters { waiter.resume() }
    }

    /// Drops the queued frames now and ends the writer (the socket is closed without flushing).
    func abort() {
        let (reader, waiters) = state.withLock { state in
            state.aborted = true
            state.finished = true
            state.frames = CircularBuffer()
            state.bytes = 0
            defer {
                state.reader = nil
                state.abortWaiters = []
                state.drainedWaiters = []
            }
            return (state.reader, state.abortWaiters + state.drainedWaiters)
        }
        reader?.resume(returning: nil)
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once `abort()` was called, or when the calling task is cancelled.
    func aborted() async { await wait(until: \.aborted, in: \.abortWaiters) }

    /// Returns once `condition` holds (re-checked under the lock), or when the calling task is
    /// cancelled; otherwise parks in `waiters`, which whoever makes the condition true resumes.
    private func wait(
        until condition: any KeyPath<State, Bool> & Sendable, in waiters: any WritableKeyPath<State, [CheckedContinuation<Void, Never>]> & Sendable
    ) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if state[keyPath: condition] || Task.isCancelled { return true }
                    state[keyPath: waiters].append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let parked = state.withLock { state in
                defer { state[keyPath: waiters] = [] }
                return state[keyPath: waiters]
            }
            for waiter in parked { waiter.resume() }
        }
    }
}
