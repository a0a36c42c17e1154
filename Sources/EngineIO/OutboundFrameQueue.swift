import NIOCore
import EngineIOParser
import Synchronization

/// The frames waiting for one WebSocket's writer, bounded in bytes and in count.
///
/// The backlog counts the queued frames plus the one being written: the socket write suspends
/// while the channel is not writable (NIO's watermarks), so a client that does not read shows up
/// here. `push` refuses what would take the backlog past the limits and the session is then closed
/// as a slow consumer; `abort` drops everything at once and wakes `aborted()`, whose waiter ends
/// the WebSocket (cancelling a write stuck on a full socket).
final class OutboundFrameQueue: Sendable {
    struct Limits: Sendable {
        var bytes: Int
        var frames: Int
    }

    enum PushResult: Equatable { case queued, overflow, closed }

    private struct State {
        var frames = CircularBuffer<EngineIOCodec.Frame>()
        /// Bytes queued plus the frame being written.
        var bytes = 0
        var inFlight = 0
        var finished = false
        var aborted = false
        var reader: CheckedContinuation<EngineIOCodec.Frame?, Never>?
        var abortWaiters: [CheckedContinuation<Void, Never>] = []

        var queuedCount: Int { frames.count }
    }

    let limits: Limits
    private let state = Mutex(State())

    init(limits: Limits) { self.limits = limits }

    static func size(_ frame: EngineIOCodec.Frame) -> Int {
        switch frame {
        case .text(let text): text.utf8.count
        case .binary(let bytes): bytes.readableBytes
        }
    }

    /// The backlog (queued + being written), in bytes and frames: a test hook.
    var backlog: (bytes: Int, frames: Int) { state.withLock { ($0.bytes, $0.queuedCount + $0.inFlight) } }

    /// Queues frames that must go out back to back: all or none.
    func push(_ frames: [EngineIOCodec.Frame]) -> PushResult {
        let added = frames.reduce(0) { $0 &+ Self.size($1) }
        let (result, reader): (PushResult, CheckedContinuation<EngineIOCodec.Frame?, Never>?) = state.withLock { state in
            guard !state.finished, !state.aborted else { return (.closed, nil) }
            guard state.bytes &+ added <= limits.bytes, state.queuedCount + state.inFlight + frames.count <= limits.frames else {
                return (.overflow, nil)
            }
            state.bytes &+= added
            guard let reader = state.reader, !frames.isEmpty else {
                state.frames.append(contentsOf: frames)
                return (.queued, nil)
            }
            // The writer is idle and waiting: hand it the first frame directly.
            state.reader = nil
            state.inFlight = 1
            state.frames.append(contentsOf: frames.dropFirst())
            return (.queued, reader)
        }
        reader?.resume(returning: frames.first)
        return result
    }

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
        let reader = state.withLock { state -> CheckedContinuation<EngineIOCodec.Frame?, Never>? in
            state.finished = true
            defer { state.reader = nil }
            return state.frames.isEmpty ? state.reader : nil
        }
        reader?.resume(returning: nil)
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
            }
            return (state.reader, state.abortWaiters)
        }
        reader?.resume(returning: nil)
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once `abort()` was called, or when the calling task is cancelled.
    func aborted() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if state.aborted || Task.isCancelled { return true }
                    state.abortWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.abortWaiters = [] }
                return state.abortWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }
}
