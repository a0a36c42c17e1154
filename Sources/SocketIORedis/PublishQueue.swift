import NIOCore
import Synchronization

/// The adapter's outgoing broadcasts, in the order they were made, bounded in count and bytes.
/// One reader (`RedisAdapter.run`) takes whatever has queued up at once, so a burst of
/// broadcasts costs one pipelined write to Redis, not one round trip each.
final class PublishQueue: Sendable {
    struct Item: Sendable {
        var channel: String
        var payload: ByteBuffer
    }

    private struct State {
        var items = CircularBuffer<Item>()
        var bytes = 0
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    let maximumMessages: Int
    let maximumBytes: Int

    init(maximumMessages: Int, maximumBytes: Int) {
        self.maximumMessages = maximumMessages
        self.maximumBytes = maximumBytes
    }

    /// False (and nothing queued) when the queue is full.
    func push(channel: String, _ payload: ByteBuffer) -> Bool {
        let waiter: CheckedContinuation<Void, Never>?
        do {
            waiter = try state.withLock { state throws(QueueFull) -> CheckedContinuation<Void, Never>? in
                guard !state.finished, state.items.count < maximumMessages, state.bytes + payload.readableBytes <= maximumBytes else { throw QueueFull() }
                state.items.append(Item(channel: channel, payload: payload))
                state.bytes += payload.readableBytes
                defer { state.waiter = nil }
                return state.waiter
            }
        } catch {
            return false
        }
        waiter?.resume()
        return true
    }

    private struct QueueFull: Error {}

    /// Up to `limit` items, waiting while there are none; nil once finished (what was queued
    /// before is still handed out) or when the task is cancelled.
    func next(upTo limit: Int) async -> [Item]? {
        while true {
            if Task.isCancelled { return nil }
            let (batch, finished) = state.withLock { state -> ([Item], Bool) in
                var batch: [Item] = []
                while batch.count < limit, let item = state.items.popFirst() {
                    state.bytes -= item.payload.readableBytes
                    batch.append(item)
                }
                return (batch, state.finished)
            }
            if !batch.isEmpty { return batch }
            if finished { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.items.isEmpty || state.finished { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.finish()
            }
        }
    }

    /// No more pushes; the reader gets what is queued, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
