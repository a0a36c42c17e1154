import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The pub/sub connection: a second connection that only (P)(UN)SUBSCRIBEs and PINGs (in RESP2 a
/// subscribed connection may run nothing else; redis-adapter.md §A.6).
///
/// Subscriptions are remembered and sent again after every reconnect, so the owner subscribes once.
/// Messages published while the connection is down are lost (Redis pub/sub is at-most-once); the
/// owner learns about gaps from `connectionStates()`. Messages go to one bounded stream; when its
/// consumer falls behind by `bufferSize` messages, newer ones are dropped and counted.
public final class RedisSubscriber: Sendable, Service {
    public let configuration: RedisConfiguration
    /// Every message from subscribed channels and patterns. Single consumer. Finishes when `run()`
    /// returns.
    public let messages: AsyncStream<RedisPubSubMessage>

    private struct Subscriptions {
        var channels: Set<String> = []
        var patterns: Set<String> = []
        /// The connection the current subscriptions were sent on; changes are written to it directly.
        var live: (any Channel)?
    }

    private let messagesContinuation: AsyncStream<RedisPubSubMessage>.Continuation
    /// Takes messages on the connection's event loop instead of the stream (see `intercept`).
    private let interceptor = Mutex<(@Sendable (RedisPubSubMessage) -> Bool)?>(nil)
    /// Messages put on `messages` whose consumer has not called `messageHandled()` yet.
    private let unhandled = Atomic<Int>(0)
    private let subscriptions = Mutex(Subscriptions())
    private let dropped = Atomic<Int>(0)
    private let droppedCounter = Counter(label: "msab_redis_pubsub_dropped_total")
    private let receivedCounter = Counter(label: "msab_redis_pubsub_messages_total")
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let pingInterval: Duration
    private let lifecycle: RedisConnectionLifecycle

    /// - Parameters:
    ///   - bufferSize: messages held for a slow consumer before newer ones are dropped.
    ///   - pingInterval: how often the idle connection is checked; a PING still unanswered at the next
    ///     tick closes and re-establishes it.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        bufferSize: Int = 65_536,
        pingInterval: Duration = .seconds(30)
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.pingInterval = pingInterval
        (messages, messagesContinuation) = AsyncStream.makeStream(
            of: RedisPubSubMessage.self, bufferingPolicy: .bufferingOldest(max(1, bufferSize)))
        lifecycle = RedisConnectionLifecycle(logger: logger, metrics: RedisMetrics(role: "subscriber"), eventLoopGroup: eventLoopGroup)
    }

    /// Messages dropped because the consumer of `messages` was `bufferSize` behind.
    public var droppedMessages: Int { dropped.load(ordering: .relaxed) }

    /// True once the (re)subscription on the current connection is confirmed.
    public var isConnected: Bool { lifecycle.readyChannel != nil }

    /// First the current state, then true after every completed (re)subscription and false on every
    /// loss. Finishes when `run()` returns.
    public func connectionStates() -> AsyncStream<Bool> {
        lifecycle.states()
    }

    /// Subscribes to channels, now if connected and again after every reconnect.
    public func subscribe(_ channels: [String]) async {
        change(command: "SUBSCRIBE", names: channels) { $0.channels.insert($1).inserted }
    }

    /// Subscribes to glob-style patterns, now if connected and again after every reconnect.
    public func psubscribe(_ patterns: [String]) async {
        change(command: "PSUBSCRIBE", names: patterns) { $0.patterns.insert($1).inserted }
    }

    public func unsubscribe(_ channels: [String]) async {
        change(command: "UNSUBSCRIBE", names: channels) { $0.channels.remove($1) != nil }
    }

    public func punsubscribe(_ patterns: [String]) async {
        change(command: "PUNSUBSCRIBE", names: patterns) { $0.patterns.remove($1) != nil }
    }

    /// Updates the remembered set and, when connected, writes the command for the names that
    /// changed. Both happen under one lock with the resubscription in `prepare`, so a change made
    /// during a reconnect is neither lost nor sent twice to no effect.
    private func change(command: String, names: [String], apply: (inout Subscriptions, String) -> Bool) {
        subscriptions.withLock { state in
            var changed: [RESPArgument] = []
            for name in Set(names) where apply(&state, name) {
                changed.append(.string(name))
            }
            // An empty UNSUBSCRIBE would mean "all of them".
            guard !changed.isEmpty, let channel = state.live else { return }
            let request = RedisOutbound.subscriberCommands([[.string(command)] + changed], barrier: nil)
            // execute keeps the writes in the order they were made under the lock.
            channel.eventLoop.execute {
                channel.writeAndFlush(request, promise: nil)
            }
        }
    }

    /// Connects, authenticates, (re)subscribes and keeps the connection alive; reconnects after a loss
    /// with backoff min(50 ms × attempt, 2 s). Returns on graceful shutdown or cancellation.
    public func run() async throws {
        let lifecycle = self.lifecycle
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await lifecycle.run {
                    try await self.connect()
                }
            } onGracefulShutdown: {
                lifecycle.stop()
            }
        } onCancel: {
            lifecycle.stop()
        }
        subscriptions.withLock { $0.live = nil }
        messagesContinuation.finish()
    }

    private func connect() async throws -> any Channel {
        let lifecycle = self.lifecycle
        return try await RedisConnection.establish(
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            // Pub/Sub ignores the selected database (§A.6), so no SELECT.
            selectDatabase: false,
            pingInterval: TimeAmount(pingInterval),
            onPubSubEvent: { [self] event in deliver(event) },
            register: { lifecycle.register($0) },
            afterHandshake: { channel in try await self.resubscribe(on: channel) }
        )
    }

    /// Sends every remembered subscription, then a PING whose pong proves they are all in place.
    private func resubscribe(on channel: any Channel) async throws {
        let barrier = channel.eventLoop.makePromise(of: Void.self)
        subscriptions.withLock { state in
            var commands: [[RESPArgument]] = []
            if !state.channels.isEmpty { commands.append(["SUBSCRIBE"] + state.channels.sorted().map { .string($0) }) }
            if !state.patterns.isEmpty { commands.append(["PSUBSCRIBE"] + state.patterns.sorted().map { .string($0) }) }
            commands.append(["PING"])
            state.live = channel
            let request = RedisOutbound.subscriberCommands(commands, barrier: barrier)
            channel.eventLoop.execute {
                channel.writeAndFlush(request, promise: nil)
            }
        }
        channel.closeFuture.whenComplete { _ in
            self.subscriptions.withLock { state in
                if state.live === channel { state.live = nil }
            }
            barrier.fail(RedisError.connectionClosed)
        }
        try await barrier.futureResult.get()
    }

    /// Lets `handler` take messages on the connection's event loop, before the stream: it returns
    /// true for a message it handled (it must not block: it runs on the event loop), false to
    /// leave it to `messages`. Taking a message there saves the hop to the stream's consumer task
    /// (what a broadcast through Redis waited for most, on a busy machine).
    ///
    /// Order is kept: the handler is only asked while no message is waiting in the stream or
    /// being handled by its consumer, which therefore calls `messageHandled()` after each message
    /// (until it does, every later message goes through the stream too).
    public func intercept(_ handler: @escaping @Sendable (RedisPubSubMessage) -> Bool) {
        interceptor.withLock { $0 = handler }
    }

    /// The consumer of `messages` has finished with one message.
    public func messageHandled() {
        _ = unhandled.subtract(1, ordering: .releasing)
    }

    private func deliver(_ event: RedisPubSubState.Event) {
        guard case .message(let message) = event else { return }
        receivedCounter.increment()
        if unhandled.load(ordering: .acquiring) == 0, let handler = interceptor.withLock({ $0 }), handler(message) { return }
        unhandled.add(1, ordering: .relaxed)
        if case .dropped = messagesContinuation.yield(message) {
            unhandled.subtract(1, ordering: .relaxed)
            dropped.add(1, ordering: .relaxed)
            droppedCounter.increment()
        }
    }
}
