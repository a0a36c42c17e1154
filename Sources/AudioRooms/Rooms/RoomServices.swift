import Logging

/// What every room shares: where to send events, the identity/money backend, the directory of
/// sockets, settings and the clock. Passed by argument to each room (mediasoup's "passed by argument").
public struct RoomServices: Sendable {
    public var outbox: any Outbox
    public var backend: any RoomBackend
    public var directory: SessionDirectory
    /// Seats, members and user indexes shared with the cluster (in memory on one node).
    public var store: any RoomStateStore
    /// This node's id in the cluster (the Socket.IO adapter's uid; "" stand-alone).
    public var node: String
    /// Requests and notices to other nodes about pipes (nil stand-alone: every producer is local).
    public var pipeLink: PipeLink?
    public var statusPoster: StatusPoster
    public var giftQueue: GiftQueue?
    public var rateLimiter: RateLimiter
    public var configuration: Configuration
    public var logger: Logger
    /// Milliseconds since the Unix epoch (payload timestamps, invite expiry, retention).
    public var now: @Sendable () -> Int64

    public init(
        outbox: any Outbox, backend: any RoomBackend, directory: SessionDirectory, statusPoster: StatusPoster,
        giftQueue: GiftQueue?, rateLimiter: RateLimiter, configuration: Configuration, logger: Logger,
        store: any RoomStateStore = InMemoryRoomStateStore(), node: String = "", pipeLink: PipeLink? = nil,
        now: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        self.node = node
        self.pipeLink = pipeLink
        self.outbox = outbox
        self.backend = backend
        self.directory = directory
        self.statusPoster = statusPoster
        self.giftQueue = giftQueue
        self.rateLimiter = rateLimiter
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }
}
