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
/// A `Service`: `run()` writes the publish queue to Redis in order, pipelining whatever has
/// queued up. The queue is bounded; past it a broadcast is dropped and counted (as Redis itself
/// drops a subscriber that falls too far behind).
public final class RedisAdapter: SocketIOAdapter, Service {
    public let uid: String
    public let channels: RedisAdapterChannels
    let redis: RedisClient
    let logger: Logger
    let limits: RedisAdapterLimits
    let local = InMemoryAdapter()
    let namespace = Mutex<Namespace?>(nil)
    let queue: PublishQueue
    let received = Counter(label: "msab_redis_adapter_messages_total", dimensions: [("direction", "in")])
    let published = Counter(label: "msab_redis_adapter_messages_total", dimensions: [("direction", "out")])
    let droppedOut = Counter(label: "msab_redis_adapter_dropped_total", dimensions: [("reason", "queue_full")])
    let droppedIn = Counter(label: "msab_redis_adapter_dropped_total", dimensions: [("reason", "malformed")])

    public init(uid: String, namespace name: String = "/", redis: RedisClient, limits: RedisAdapterLimits = .default,
                maximumQueuedMessages: Int = 65_536, maximumQueuedBytes: Int = 64 << 20, logger: Logger) {
        self.uid = uid
        self.channels = RedisAdapterChannels(namespace: name)
        self.redis = redis
        self.limits = limits
        self.logger = logger
        self.queue = PublishQueue(maximumMessages: maximumQueuedMessages, maximumBytes: maximumQueuedBytes)
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

    public func publish(_ packet: SocketIOPacket, rooms: Set<String>, except: Set<String>, flags: BroadcastFlags) {
        let message = RedisBroadcast(uid: uid, packet: packet,
                                     options: RedisBroadcastOptions(rooms: rooms.sorted(), except: except.sorted(),
                                                                    flags: RedisBroadcastFlags(volatile: flags.volatile ? true : nil,
                                                                                               compress: flags.compress)))
        enqueue(channel: message.channel(in: channels), message.encoded())
    }

    func enqueue(channel: String, _ payload: ByteBuffer) {
        if !queue.push(channel: channel, payload) { droppedOut.increment() }
    }

    // MARK: - the publish loop

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.publishLoop()
        } onGracefulShutdown: {
            self.queue.finish()
        }
    }

    func publishLoop() async {
        while let batch = await queue.next(upTo: 256) {
            let results: [Result<RESPValue, RedisError>]
            do {
                results = try await redis.pipeline(batch.map { ["PUBLISH", .string($0.channel), .bytes($0.payload)] })
            } catch {
                logger.debug("adapter publish failed", metadata: ["error": "\(error)", "messages": "\(batch.count)"])
                continue
            }
            published.increment(by: results.count)
        }
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
              let namespace = namespace.withLock({ $0 }) else { return }
        namespace.deliverLocally(broadcast.packet, rooms: Set(broadcast.options.rooms), except: Set(broadcast.options.except))
    }
}
