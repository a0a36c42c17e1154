import NIOCore
import Synchronization

/// The messages a session received and the layer above has not taken yet, bounded in bytes and
/// in count by back-pressure: `push` waits while the queue is at a limit, so the transport stops
/// reading from the client (an unread WebSocket, an unanswered POST) and TCP slows the client
/// down. A message is admitted while the queue is under both limits, so the queue holds at most
/// `limits.bytes` plus one message (≤ maxPayload).
final class InboundMessageQueue: Sendable {
    struct Limits: Sendable {
        var bytes: Int
        var messages: Int
    }

    private struct State {
        var messages = CircularBuffer<EngineMessage>()
        var bytes = 0
        var finished = false
        var reader: CheckedContinuation<EngineMessage?, Never>?
        /// Producers waiting for room (one per transport reader at most, in practice).
        var writers: [CheckedContinuation<Void, Never>] = []

        var count: Int { messages.count }
    }

    let limits: Limits
    private let state = Mutex(State())

    init(limits: Limits) { self.limits = limits }

    static func size(_ message: EngineMessage) -> Int {
        switch message {
        case .text(let text): text.utf8.count
        case .binary(let bytes): bytes.readableBytes
        }
    }

    /// Queued bytes and messages: a test hook.
    var depth: (bytes: Int, messages: Int) { state.withLock { ($0.bytes, $0.count) } }

    /// The stream the layer above reads (one reader).
    func stream() -> AsyncStream<EngineMessage> {
        AsyncStream(unfolding: { await self.pop() })
    }

    /// Waits until the queue is under its limits (or finished).
    func waitForRoom() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.finished || (state.bytes < limits.bytes && state.count < limits.messages) { return true }
                state.writers.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Queues a message without waiting (the caller waited for room first). Dropped once finished.
    func push(_ message: EngineMessage) {
        let reader = state.withLock { state -> CheckedContinuation<EngineMessage?, Never>? in
            guard !state.finished else { return nil }
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.messages.append(message)
            state.bytes &+= Self.size(message)
            return nil
        }
        reader?.resume(returning: message)
    }

    /// No more messages: the reader gets the queued ones, then nil; waiting producers go on.
    func finish() {
        let (reader, writers) = state.withLock { state in
            state.finished = true
            defer {
                state.writers = []
                if state.count == 0 { state.reader = nil }
            }
            return (state.count == 0 ? state.reader : nil, state.writers)
        }
        reader?.resume(returning: nil)
        for writer in writers { writer.resume() }
    }

    func pop() async -> EngineMessage? {
        await withCheckedContinuation { continuation in
            let (now, writers): (EngineMessage??, [CheckedContinuation<Void, Never>]) = state.withLock { state in
                guard let message = state.messages.popFirst() else {
                    if state.finished { return (.some(nil), []) }
                    state.reader = continuation
                    return (.none, [])
                }
                state.bytes = max(0, state.bytes &- Self.size(message))
                var wake: [CheckedContinuation<Void, Never>] = []
                if state.bytes < limits.bytes, state.count < limits.messages {
                    wake = state.writers
                    state.writers = []
                }
                return (.some(message), wake)
            }
            for writer in writers { writer.resume() }
            if let now { continuation.resume(returning: now) }
        }
    }
}
