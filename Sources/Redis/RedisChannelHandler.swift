import Logging
import NIOCore
import NIOSSL

/// The thin NIO shell around `RESPDecoder`, `RedisReplyQueue` and `RedisPubSubState`: bytes in,
/// values out, promises completed in FIFO order, one timer.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisOutbound
    typealias OutboundOut = ByteBuffer

    private var decoder: RESPDecoder
    private var queue: RedisReplyQueue<EventLoopPromise<RESPValue>>
    private var timer: Scheduled<Void>?
    /// Non-nil once the connection is a subscriber.
    private var pubsub: RedisPubSubState?
    private var barrier: EventLoopPromise<Void>?
    private var pingTask: Scheduled<Void>?
    private let pingInterval: TimeAmount
    private let onPubSubEvent: @Sendable (RedisPubSubState.Event) -> Void
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var isActive = true

    init(
        configuration: RedisConfiguration,
        pingInterval: TimeAmount = .seconds(30),
        logger: Logger,
        onPubSubEvent: @escaping @Sendable (RedisPubSubState.Event) -> Void = { _ in }
    ) {
        decoder = RESPDecoder(limits: configuration.decoderLimits)
        queue = RedisReplyQueue(
            maxPending: configuration.maxPendingCommands,
            commandTimeout: TimeAmount(configuration.commandTimeout),
            deadConnectionTimeout: TimeAmount(configuration.deadConnectionTimeout)
        )
        self.pingInterval = pingInterval
        self.logger = logger
        self.onPubSubEvent = onPubSubEvent
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown(.connectionClosed)
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer that closes without close_notify (Redis does on shutdown and CLIENT KILL) or
        // an error after we gave up on the connection is routine, not worth a warning.
        if !isActive || (error as? NIOSSLError) == .uncleanShutdown {
            logger.debug("redis connection error, closing", metadata: ["error": "\(error)"])
        } else {
            logger.warning("redis connection error, closing", metadata: ["error": "\(error)"])
        }
        shutDown(.connectionClosed)
        context.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.feed(unwrapInboundIn(data))
        while isActive {
            let value: RESPValue
            do {
                guard let next = try decoder.next() else { return }
                value = next
            } catch {
                logger.error("redis protocol error, closing the connection", metadata: ["error": "\(error)"])
                shutDown(error)
                context.close(promise: nil)
                return
            }
            dispatch(value, context: context)
        }
    }

    private func dispatch(_ value: RESPValue, context: ChannelHandlerContext) {
        if var state = pubsub {
            let event = state.receive(value)
            pubsub = state
            switch event {
            case .ready:
                barrier?.succeed(())
                barrier = nil
            case .none:
                return
            case .serverError(let message):
                logger.warning("redis subscriber got an error reply", metadata: ["error": "\(message)"])
            case .unexpected(let value):
                logger.debug("redis subscriber ignored a value", metadata: ["value": "\(value)"])
                return
            case .message:
                break
            }
            onPubSubEvent(event)
            return
        }
        if case .push = value.withoutAttributes {
            // RESP3 out-of-band data never answers a command; we do not ask for any (no HELLO 3).
            logger.debug("redis push ignored on the command connection")
            return
        }
        switch queue.receive() {
        case .deliver(let promise):
            promise.succeed(value)
        case .discardLate:
            logger.debug("redis late reply of a timed-out command discarded")
        case .unsolicited:
            logger.error("redis reply without a command, closing the connection")
            shutDown(.protocolError("unsolicited reply"))
            context.close(promise: nil)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The handler takes charge of the reply promises from here on, so the write itself succeeds;
        // a failure on the socket closes the channel, which fails the promises once (shutDown).
        defer { promise?.succeed(()) }
        switch unwrapOutboundIn(data) {
        case .commands(let commands, let promises):
            guard isActive else {
                for reply in promises { reply.fail(RedisError.connectionClosed) }
                return
            }
            guard pubsub == nil else {
                for reply in promises { reply.fail(RedisError.protocolError("commands on a subscriber connection")) }
                return
            }
            switch queue.enqueue(promises, now: .now()) {
            case .busy:
                for reply in promises { reply.fail(RedisError.busy) }
                return
            case .accepted(let armTimerAt):
                if let armTimerAt { armTimer(at: armTimerAt, context: context) }
            }
            writeCommands(commands, context: context)
        case .subscriberCommands(let commands, let barrier):
            guard isActive else {
                barrier?.fail(RedisError.connectionClosed)
                return
            }
            if pubsub == nil {
                pubsub = RedisPubSubState()
                startPinging(context: context)
            }
            for command in commands where command.first.map({ $0.description.uppercased() == "PING" }) == true {
                pubsub?.sentPing()
            }
            if let barrier {
                self.barrier?.fail(RedisError.connectionClosed)
                self.barrier = barrier
            }
            writeCommands(commands, context: context)
        }
    }

    private func writeCommands(_ commands: [[RESPArgument]], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: commands.reduce(0) { $0 + RESPEncoder.encodedSize($1) })
        for command in commands {
            RESPEncoder.encodeCommand(command, into: &buffer)
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    // MARK: Timers

    private func armTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        guard isActive, let context else { return }
        let action = queue.timerFired(now: .now())
        for promise in action.expired {
            promise.fail(RedisError.timeout)
        }
        if action.connectionDead {
            logger.warning("redis connection unresponsive, closing it", metadata: ["outstanding": "\(queue.count)"])
            shutDown(.connectionClosed)
            context.close(promise: nil)
            return
        }
        if let rearmAt = action.rearmAt { armTimer(at: rearmAt, context: context) }
    }

    private func startPinging(context: ChannelHandlerContext) {
        pingTask = context.eventLoop.assumeIsolated().scheduleTask(in: pingInterval) {
            self.pingTick()
        }
    }

    private func pingTick() {
        guard isActive, let context, var state = pubsub else { return }
        let action = state.pingTick()
        pubsub = state
        switch action {
        case .sendPing:
            writeCommands([["PING"]], context: context)
            context.flush()
            startPinging(context: context)
        case .closeDeadConnection:
            logger.warning("redis subscriber did not answer PING, closing the connection")
            shutDown(.connectionClosed)
            context.close(promise: nil)
        }
    }

    /// Fails everything still waiting, once; later calls find nothing left.
    private func shutDown(_ error: RedisError) {
        isActive = false
        timer?.cancel()
        timer = nil
        pingTask?.cancel()
        pingTask = nil
        barrier?.fail(error)
        barrier = nil
        for promise in queue.removeAll() {
            promise.fail(error)
        }
    }
}
