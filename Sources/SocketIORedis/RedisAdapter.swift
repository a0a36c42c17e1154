import Logging
import Metrics
import NIOCore
import Redis
import ServiceLifecycle
public import SocketIO
public import SocketIOParser
import Synchronization

/// `@socket.io/redis-adapter`'s classic protocol for one namespace (../shared/redis-adapter.md):
/// this node's rooms are kept in memory (socket.io's in-memory adapter), every broadcast made
/// here is also published on `socket.io#/#[<room>#]` as msgpack `[uid, packet, opts]`, and the
/// broadcasts other nodes (Node.js ones and the Redis emitters too) publish are delivered to
/// this node's sockets. Requests on `socket.io-request#/#` are answered as a Node node would.
///
/// A broadcast's PUBLISH is written at once from the broadcasting task (`RedisClient.start`),
/// before the local fan-out is scheduled: a publish handed to a task first would reach the wire
/// after this node's own fan-out on a busy machine, and the other nodes' sockets would hear it
/// that much later. Publishes awaiting their reply are bounded in count and bytes; past that a
/// broadcast is dropped and counted (as Redis itself drops a subscriber that falls too far
/// behind). A `Service` only so that it lives as long as the server.
public final class RedisAdapter: SocketIOAdapter, Service {
    public let uid: String
    public let channels: RedisAdapterChannels
    let redis: RedisClient
    let logger: Logger
    let limits: RedisAdapterLimits
    let local = InMemoryAdapter()
    let namespace = Mutex<Namespace?>(nil)
    /// PUBLISHes written and not yet answered: (count, bytes).
    let inFlight = Mutex((count: 0, bytes: 0))
    let maximumInFlightMessages: Int
    let maximumInFlightBytes: Int
    let received = Counter(label: "msab_redis_adapter_messages_total", dimensions: [("direction", "in")])
    let published = Counter(label: "msab_redis_adapter_messages_total", dimensions: [("direction", "out")])
    let droppedOut = Counter(label: "msab_redis_adapter_dropped_total", dimensions: [("reason", "queue_full")])
    let droppedIn = Counter(label: "msab_redis_adapter_dropped_total", dimensions: [("reason", "malformed")])

    public init(
        uid: String, namespace name: String = "/", redis: RedisClient, limits: RedisAdapterLimits = .default,
        maximumQueuedMessages: Int = 65_536, maximumQueuedBytes: Int = 64 << 20, logger: Logger
    ) {
        self.uid = uid
        self.channels = RedisAdapterChannels(namespace: name)
        self.redis = redis
        self.limits = limits
        self.logger = logger
        self.maximumInFlightMessages = maximumQueuedMessages
        self.maximumInFlightBytes = maximumQueuedBytes
    }

    /// The plain channels to SUBSCRIBE: requests (so Node nodes count this one with PUBSUB
    /// NUMSUB), the shared responses and this node's own responses.
    public var subscriptions: [String] { [channels.request, channels.response, channels.response(for: uid)] }
    /// The pattern to PSUBSCRIBE: every broadcast of the namespace.
    public var patterns: [String] { [channels.pattern] }

    // MARK: - SocketIOAdapter (this node's rooms)

    public func attach(to namespace: Namespace) { self.namespace.withLock { $0 = namespace } }
    public func add(_ sid: String, to room: String) { local.add(sid, to: room) }
    public func remove(_ sid: String, from room: String) { local.remove(sid, from: room) }
    public func removeAll(_ sid: String) { local.removeAll(sid) }
    public func rooms(of sid: String) -> Set<String> { local.rooms(of: sid) }
    public func sockets(in rooms: Set<String>, except: Set<String>) -> Set<String> { local.sockets(in: rooms, except: except) }
    public func allRooms() -> Set<String> { local.allRooms() }

    public func publish(_ packet: SocketIOPacket, rooms: Set<String>, except: Set<String>, flags: BroadcastFlags) -> (any EventLoop)? {
        let message = RedisBroadcast(
            uid: uid, packet: packet,
            options: RedisBroadcastOptions(
                rooms: rooms.sorted(), except: except.sorted(),
                flags: RedisBroadcastFlags(
                    volatile: flags.volatile ? true : nil,
                    compress: flags.compress)))
        return enqueue(channel: message.channel(in: channels), message.encoded())
    }

    /// PUBLISHes `payload` on `channel`; the event loop the command went to (nil when dropped).
    @discardableResult
    func enqueue(channel: String, _ payload: ByteBuffer) -> (any EventLoop)? {
        let size = payload.readableBytes
        let admitted = inFlight.withLock { inFlight in
            guard inFlight.count < maximumInFlightMessages, inFlight.bytes + size <= maximumInFlightBytes else { return false }
            inFlight.count += 1
            inFlight.bytes += size
            return true
        }
        guard admitted else {
            droppedOut.increment()
            return nil
        }
        let future: EventLoopFuture<RESPValue>
        do {
            future = try redis.start(["PUBLISH", .string(channel), .bytes(payload)])
        } catch {
            release(size)
            logger.debug("adapter publish failed", metadata: ["error": "\(error)"])
            return nil
        }
        future.whenComplete { [self] result in
            release(size)
            switch result {
            case .success: published.increment()
            case .failure(let error): logger.debug("adapter publish failed", metadata: ["error": "\(error)"])
            }
        }
        return future.eventLoop
    }

    private func release(_ size: Int) {
        inFlight.withLock { inFlight in
            inFlight.count -= 1
            inFlight.bytes -= size
        }
    }

    // MARK: - Service

    public func run() async throws {
        try? await gracefulShutdown()
    }

    // MARK: - receiving

    /// A message on one of the adapter's channels.
    public func handle(_ message: RedisPubSubMessage) async {
        received.increment()
        guard message.payload.readableBytes <= limits.maximumMessageBytes else {
            droppedIn.increment()
            return
        }
        if channels.isBroadcast(channel: message.channel) {
            receiveBroadcast(message)
        } else if message.channel == channels.request {
            await receiveRequest(message.payload)
        }
        // Responses: this node sends no requests of its own, so there is nothing waiting for them.
    }

    /// Handles `message` now when it is a broadcast (synchronous: decode and local delivery);
    /// false for anything else. For the subscriber's interceptor: broadcasts are then delivered
    /// from the connection's event loop without a hop through a task.
    public func handleBroadcastNow(_ message: RedisPubSubMessage) -> Bool {
        guard channels.isBroadcast(channel: message.channel) else { return false }
        received.increment()
        guard message.payload.readableBytes <= limits.maximumMessageBytes else {
            droppedIn.increment()
            return true
        }
        receiveBroadcast(message)
        return true
    }

    func receiveBroadcast(_ message: RedisPubSubMessage) {
        // The room pre-filter of `onmessage`: a room this node does not have is not decoded.
        if let room = channels.room(fromChannel: message.channel), local.sockets(in: [room], except: []).isEmpty { return }
        let broadcast: RedisBroadcast
        do {
            broadcast = try RedisBroadcast.decode(message.payload, limits: limits)
        } catch {
            droppedIn.increment()
            logger.debug("adapter broadcast dropped", metadata: ["channel": "\(message.channel)", "error": "\(error)"])
            return
        }
        guard broadcast.uid != uid, broadcast.packet.namespace == channels.namespace,
            let namespace = namespace.withLock({ $0 })
        else { return }
        namespace.deliverLocally(broadcast.packet, rooms: Set(broadcast.options.rooms), except: Set(broadcast.options.except))
    }
}
