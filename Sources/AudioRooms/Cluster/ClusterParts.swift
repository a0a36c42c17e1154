import Logging
import NIOPosix
import Redis
import ServiceLifecycle
import SocketIO
import SocketIORedis

/// What scale-out mode adds to the object graph (built by `MSABApplication.run` when `REDIS_HOST`
/// is set): the two Redis connections, the Socket.IO adapter of "/", the Redis store, and this
/// node's uid (the adapter's `uid`, also the `node` of its members in the store).
struct ClusterParts: Sendable {
    let uid: String
    let redis: RedisClient
    let subscriber: RedisSubscriber
    let mainAdapter: RedisAdapter
    let store: RedisRoomStateStore
    let pipeLink: PipeLink
    let logger: Logger

    init(configuration: Configuration, logger: Logger, now: @escaping @Sendable () -> Int64) {
        let redisConfiguration = RedisConfiguration(
            host: configuration.redisHost ?? "127.0.0.1", port: configuration.redisPort,
            database: configuration.redisDB, username: configuration.redisUsername,
            password: configuration.redisPassword, tls: configuration.redisTLS)
        // socket.io-redis-adapter's uid is `uid2(6)`; peers only need it unique.
        var ids = SocketIdGenerator()
        uid = String(ids.next().prefix(6))
        var redisLogger = Logger(label: "msab.redis")
        redisLogger.logLevel = logger.logLevel
        // The Redis connections get an event loop of their own, not one shared with the WebSocket
        // sockets: a broadcast's PUBLISH then goes out while this node's own fan-out is still
        // queued on the socket loops, and another node's broadcast is read while they are busy.
        redis = RedisClient(configuration: redisConfiguration, eventLoopGroup: Self.redisLoop, logger: redisLogger)
        subscriber = RedisSubscriber(configuration: redisConfiguration, eventLoopGroup: Self.redisLoop, logger: redisLogger)
        mainAdapter = RedisAdapter(uid: uid, redis: redis, logger: Logger(label: "msab.adapter"))
        store = RedisRoomStateStore(redis: redis, node: uid, inactivityTimeoutMs: configuration.roomInactivityTimeoutMs, now: now)
        pipeLink = PipeLink(uid: uid, redis: redis)
        self.logger = logger
    }

    /// One thread for both Redis connections, for the life of the process (like NIO's singleton group).
    static let redisLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// msab serves "/" only; another namespace keeps its rooms on this node.
    func adapter(for namespace: String) -> any SocketIOAdapter {
        namespace == "/" ? mainAdapter : InMemoryAdapter()
    }

    /// In start order (shutdown runs backwards: the node's goodbye, the adapter's last
    /// publishes, then the connections).
    func services(node: ClusterNode) -> [any Service] {
        [redis, subscriber, mainAdapter, node]
    }

    func node(registry: RoomRegistry, relay: BackendEventRelay, roomServices: RoomServices) -> ClusterNode {
        ClusterNode(parts: self, registry: registry, relay: relay, services: roomServices)
    }
}
