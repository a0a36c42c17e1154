import NIOCore

/// What the client writes into a Redis channel.
enum RedisOutbound: Sendable {
    /// Commands whose replies complete these promises, in order (one flush for all of them).
    case commands([[RESPArgument]], [EventLoopPromise<RESPValue>])
    /// (P)(UN)SUBSCRIBE and PING on the subscriber connection. The first one switches the handler to
    /// subscriber mode for good; `barrier` is completed by the first pong.
    case subscriberCommands([[RESPArgument]], barrier: EventLoopPromise<Void>?)
}
