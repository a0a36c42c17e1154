import Logging
import Metrics
import NIOCore
import Synchronization

/// The reconnect loop shared by `RedisClient` and `RedisSubscriber`: one connection at a time,
/// re-established after a loss with the contract's backoff, and stopped by `stop()` (graceful
/// shutdown or cancellation), which also closes a connection still being set up and cuts a backoff
/// sleep short.
final class RedisConnectionLifecycle: Sendable {
    private struct State {
        /// The channel being set up or in use (closed by `stop`).
        var channel: (any Channel)?
        /// The channel ready for use; nil while (re)connecting.
        var ready: (any Channel)?
        var started = false
        var stopping = false
        var finished = false
        var sleeper: CheckedContinuation<Void, Never>?
        var observers: [Int: AsyncStream<Bool>.Continuation] = [:]
        var nextObserver = 0
    }

    private let state = Mutex(State())
    private let logger: Logger
    private let metrics: RedisMetrics
    private let eventLoopGroup: any EventLoopGroup

    init(logger: Logger, metrics: RedisMetrics, eventLoopGroup: any EventLoopGroup) {
        self.logger = logger
        self.metrics = metrics
        self.eventLoopGroup = eventLoopGroup
    }

    var readyChannel: (any Channel)? { state.withLock { $0.ready } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Called from the channel initializer: remembers the channel so `stop` can close it. False
    /// when stopping, and the connection attempt is then abandoned.
    func register(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.stopping else { return false }
            state.channel = channel
            return true
        }
    }

    func stop() {
        let (channel, sleeper) = state.withLock { state in
            state.stopping = true
            defer { state.sleeper = nil }
            return (state.channel, state.sleeper)
        }
        channel?.close(promise: nil)
        sleeper?.resume()
    }

    /// Runs until stopped. `establish` connects and prepares one connection (throwing when it
    /// cannot); the loop then waits for that connection to close.
    func run(establish: @Sendable () async throws -> any Channel) async {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else {
            logger.error("redis connection run() called twice; the second call returns at once")
            return
        }
        var attempt = 0
        while !isStopping {
            do {
                let channel = try await establish()
                logger.info("redis connected", metadata: ["remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                attempt = 0
                metrics.connects.increment()
                setReady(channel)
                try? await channel.closeFuture.get()
                setReady(nil)
                if !isStopping { logger.warning("redis connection lost, reconnecting") }
            } catch {
                if !isStopping {
                    logger.warning("redis connect failed", metadata: ["error": "\(error)", "attempt": "\(attempt + 1)"])
                }
            }
            state.withLock { $0.channel = nil }
            guard !isStopping else { break }
            attempt += 1
            await sleep(RedisConfiguration.reconnectDelay(attempt: attempt))
        }
        let observers = state.withLock { state in
            state.finished = true
            state.ready = nil
            defer { state.observers = [:] }
            return state.observers.values
        }
        for observer in observers {
            observer.finish()
        }
        metrics.connected.record(0)
    }

    private func setReady(_ channel: (any Channel)?) {
        state.withLock { state in
            let changed = (state.ready == nil) != (channel == nil)
            state.ready = channel
            if changed {
                for observer in state.observers.values {
                    observer.yield(channel != nil)
                }
            }
        }
        metrics.connected.record(channel == nil ? 0 : 1)
    }

    private func sleep(_ delay: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopping = state.withLock { state in
                if !state.stopping { state.sleeper = continuation }
                return state.stopping
            }
            if stopping {
                continuation.resume()
                return
            }
            eventLoopGroup.any().scheduleTask(in: TimeAmount(delay)) {
                let sleeper = self.state.withLock { state in
                    defer { state.sleeper = nil }
                    return state.sleeper
                }
                sleeper?.resume()
            }
        }
    }

    /// The connection state as it changes: first the current one, then true on every (re)connect
    /// and false on every loss. Finishes when the service stops.
    func states() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(16))
        let id: Int? = state.withLock { state in
            continuation.yield(state.ready != nil)
            guard !state.finished else { return nil }
            let id = state.nextObserver
            state.nextObserver += 1
            state.observers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { _ in
            _ = self.state.withLock { $0.observers.removeValue(forKey: id) }
        }
        return stream
    }
}
