import Foundation
import Logging
import Metrics
import NIOCore
import Redis
import ServiceLifecycle
import SocketIORedis
import Synchronization

/// This node's part in a cluster (design.md §3, scale-out column): one Redis command connection,
/// one subscriber connection, and what runs on them —
/// - the Socket.IO Redis adapter's traffic (broadcasts and requests of every node, Node.js ones too);
/// - `msab:seats`: another node changed a room's seats, this node re-applies the stage rules;
/// - the backend's channel (`MSAB_EVENTS_CHANNEL`, contract §7.2): every node gets each message
///   and delivers it to its own sockets only, so each target socket gets it once;
/// - presence: `msab:node:{uid}` with a TTL, refreshed while this node lives; members whose node's
///   key is gone (killed, partitioned) are removed from their rooms by whichever node sees it first.
public final class ClusterNode: Service, Sendable {
    /// The Redis connections, the adapter of "/", the store, the pipe link, this node's uid and
    /// logger: built once by ``ClusterParts`` and used from here, not copied field by field.
    let parts: ClusterParts
    let registry: RoomRegistry
    let relay: BackendEventRelay
    let services: RoomServices
    let presenceTTL: Duration
    let evicted = Counter(label: "msab_cluster_members_evicted_total")
    /// Nodes whose presence key the previous sweep found missing.
    let missingBefore = Mutex<Set<String>>([])
    /// Pipe messages of other nodes being handled (bounded: a flood is dropped, counted).
    let pipeMessagesInFlight = Atomic<Int>(0)
    static let maxPipeMessagesInFlight = 64
    let pipeMessagesDropped = Counter(label: "msab_cluster_pipe_messages_dropped_total")

    init(parts: ClusterParts, registry: RoomRegistry, relay: BackendEventRelay, services: RoomServices) {
        self.parts = parts
        self.registry = registry
        self.relay = relay
        self.services = services
        self.presenceTTL = .milliseconds(services.configuration.nodePresenceTTLMs)
    }

    static func presenceKey(_ node: String) -> String { "msab:node:\(node)" }
    /// `POST /internal/events` on any node publishes here; every node delivers to its own sockets.
    public static let internalEventsChannel = "msab:internal-events"

    public func run() async throws {
        var channels = parts.mainAdapter.subscriptions + [RedisRoomStateStore.seatsChannel, Self.internalEventsChannel, parts.pipeLink.channel]
        if services.configuration.eventsEnabled { channels.append(services.configuration.eventsChannel) }
        await parts.subscriber.subscribe(channels)
        await parts.subscriber.psubscribe(parts.mainAdapter.patterns)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.route() }
            group.addTask { await self.heartbeat() }
            group.addTask { await self.resyncOnReconnect() }
        }
    }

    /// Every pub/sub message, to whom it concerns (one reader: the subscriber's stream is single-consumer).
    func route() async {
        let eventsChannel = services.configuration.eventsEnabled ? services.configuration.eventsChannel : nil
        let pipeChannel = parts.pipeLink.channel
        // Adapter broadcasts straight from the subscriber's event loop while nothing waits
        // here (cross-node delivery latency, issue 12 item 9); order is kept by the subscriber.
        let adapter = parts.mainAdapter
        let subscriber = parts.subscriber
        subscriber.intercept { adapter.handleBroadcastNow($0) }
        await withDiscardingTaskGroup { group in
            for await message in subscriber.messages.cancelOnGracefulShutdown() {
                defer { subscriber.messageHandled() }
                if message.channel == pipeChannel {
                    // Not awaited here: a request waits for this node's SFU, and the reader must not.
                    guard pipeMessagesInFlight.add(1, ordering: .relaxed).newValue <= Self.maxPipeMessagesInFlight else {
                        pipeMessagesInFlight.subtract(1, ordering: .relaxed)
                        pipeMessagesDropped.increment()
                        continue
                    }
                    group.addTask {
                        await self.handlePipeMessage(Data(message.payload.readableBytesView))
                        self.pipeMessagesInFlight.subtract(1, ordering: .relaxed)
                    }
                } else if message.channel == RedisRoomStateStore.seatsChannel {
                    let text = String(buffer: message.payload)
                    guard let space = text.firstIndex(of: " "), text[..<space] != parts.uid else { continue }
                    await registry.seatsChanged(room: String(text[text.index(after: space)...]))
                } else if message.channel == eventsChannel || message.channel == Self.internalEventsChannel {
                    switch BackendEventRelay.parse(Data(message.payload.readableBytesView)) {
                    case .success(let event): await relay.deliver(event)
                    case .failure(let rejection):
                        parts.logger.warning("backend event dropped", metadata: ["reason": "\(rejection.rawValue)"])
                    }
                } else {
                    await parts.mainAdapter.handle(message)
                }
            }
        }
    }

    /// One message of another node about pipes (issue 13 item 3; `Room+Pipes.swift`). Replies go
    /// to this node's waiters; the rest to the room named, whose answer (to a request) goes back
    /// to the sender. Anything malformed, or naming a room not open here, is dropped or refused.
    func handlePipeMessage(_ data: Data) async {
        let message: PipeMessage
        do {
            message = try PipeMessage.decode(data)
        } catch {
            pipeMessagesDropped.increment()
            parts.logger.debug("pipe message dropped", metadata: ["reason": "\(error.kind.rawValue)", "field": "\(error.field ?? "")"])
            return
        }
        let (from, room): (String, String?)
        switch message {
        case .reply(let reply): (from, room) = (reply.from, nil)
        case .failed(_, let node, _): (from, room) = (node, nil)
        case .request(let request): (from, room) = (request.from, request.room)
        case .unpipe(let node, let r, _), .producerPaused(let node, let r, _, _), .producerClosed(let node, let r, _),
            .speakerLevels(let node, let r, _, _):
            (from, room) = (node, r)
        }
        guard from != parts.uid else { return }
        guard let room else {
            parts.pipeLink.deliver(message)
            return
        }
        // A pipe is only made towards a live node of the cluster (its presence key is there):
        // a stray publisher cannot point this node's SFU at an arbitrary address by naming an
        // unknown sender.
        if case .request(let request) = message {
            let live = (try? await parts.redis.send(["EXISTS", .string(Self.presenceKey(from))]))?.int == 1
            guard live else {
                pipeMessagesDropped.increment()
                parts.logger.info("pipe request from an unknown node refused", metadata: ["node": "\(from)"])
                await parts.pipeLink.send(.failed(id: request.id, from: parts.uid, error: "unknown node"), to: from)
                return
            }
        }
        let answer: PipeMessage?
        if let target = await registry.room(room) {
            answer = await target.handlePipeMessage(message)
        } else if case .request(let request) = message {
            answer = .failed(id: request.id, from: parts.uid, error: "no such room")
        } else {
            answer = nil
        }
        if let answer { await parts.pipeLink.send(answer, to: from) }
    }

    /// After every reconnect (not the first connect): Redis may have restarted empty, so this
    /// node's presence, user indexes and room members are written again (all idempotent).
    func resyncOnReconnect() async {
        var wasConnected = false
        for await connected in parts.redis.connectionStates().cancelOnGracefulShutdown() {
            defer { if connected { wasConnected = true } }
            guard connected else { continue }
            // Presence first, on every connect: until it is written, other nodes' sweeps would
            // take this node's sockets for a dead node's.
            await refreshPresence()
            guard wasConnected else { continue }
            parts.logger.info("redis reconnected: writing this node's state again")
            for (socket, userId) in services.directory.connectedSockets {
                try? await parts.store.userConnected(userId, socket: socket)
            }
            await registry.resync()
        }
    }

    @discardableResult
    func refreshPresence() async -> Bool {
        let ttlMs = Int(services.configuration.nodePresenceTTLMs)
        return (try? await parts.redis.send(["SET", .string(Self.presenceKey(parts.uid)), .string(String(services.now())), "PX", .int(ttlMs)])) != nil
    }

    /// `/health`'s Redis check (contract §8.1: ping failed → degraded): both connections up and a
    /// PING answered within a second (a frozen Redis keeps its connections open).
    public func isHealthy() async -> Bool {
        guard parts.redis.isConnected, parts.subscriber.isConnected else { return false }
        // Not a task group: it would wait for the PING (up to the 5 s command timeout) to end.
        let answered = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            answered.withLock { $0 = continuation }
            let finish: @Sendable (Bool) -> Void = { ok in answered.withLock { $0.take() }?.resume(returning: ok) }
            Task { finish((try? await self.parts.redis.ping()) != nil) }
            Task {
                try? await Task.sleep(for: .seconds(1))
                finish(false)
            }
        }
    }

    /// Refreshes this node's presence and sweeps members of nodes that are gone, every third of the TTL.
    func heartbeat() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if await refreshPresence() { try await sweep() }
            } catch {
                parts.logger.debug("presence/sweep skipped", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: presenceTTL / 3)
        }
        // A node stopping on purpose says so at once (its sockets leave as they disconnect).
        _ = try? await parts.redis.send(["DEL", .string(Self.presenceKey(parts.uid))])
    }

    /// Members whose node no longer refreshes its presence key leave their rooms. A node counts
    /// as dead only when its key was missing at two sweeps in a row (a third of the TTL apart), so
    /// a node that has just started, or just got Redis back, has time to write it.
    func sweep() async throws {
        var alive: [String: Bool] = [parts.uid: true]
        var missing = Set<String>()
        for room in try await parts.store.roomsWithMembers() {
            for member in try await parts.store.members(room: room) {
                if alive[member.node] == nil {
                    let reply = try await parts.redis.send(["EXISTS", .string(Self.presenceKey(member.node))])
                    alive[member.node] = reply.int == 1
                    if reply.int != 1 { missing.insert(member.node) }
                }
                if alive[member.node] == false, missingBefore.withLock({ $0.contains(member.node) }) { await evict(member, from: room) }
            }
        }
        // The nodes we have pipes with, whose members another node may have evicted already.
        for node in await registry.pipePeers() where alive[node] == nil {
            let reply = try await parts.redis.send(["EXISTS", .string(Self.presenceKey(node))])
            alive[node] = reply.int == 1
            if reply.int != 1 { missing.insert(node) }
        }
        let dead = missingBefore.withLock { $0.intersection(missing) }
        missingBefore.withLock { $0 = missing }
        // Their producers' copies close here (listeners were told by the eviction's
        // `audio:producerClosed`), and our pipes to them.
        if !dead.isEmpty { await registry.nodesGone(dead) }
    }

    /// What a disconnect does, done for a socket of a dead node: it leaves the room (its seat
    /// kept for the retention grace), its producer is announced closed, its user is gone if it
    /// was their last socket. The store's remove is atomic, so only one node does this per socket.
    func evict(_ member: RoomMember, from room: String) async {
        guard let change = try? await parts.store.removeMember(socket: member.socketId, userId: member.userId, room: room) else { return }
        evicted.increment()
        parts.logger.info("member of a dead node removed", metadata: ["room": "\(room)", "socket": "\(member.socketId)", "node": "\(member.node)"])
        try? await parts.store.userDisconnected(member.userId, socket: member.socketId)
        let outbox = services.outbox
        if let producer = member.producerId {
            outbox.send("audio:producerClosed", ProducerClosedEvent(producerId: producer, userId: member.userId), to: .room(room, except: nil))
        }
        guard change.userChanged else { return }
        try? await parts.store.clearRoom(room, ofUser: member.userId)
        // As after a disconnect: the seat is kept for the retention grace.
        let seatChange = services.seatChangeForUserGone(member.userId, retainSeat: true)
        let vacated = (try? await parts.store.updateSeats(room: room, seatCount: services.configuration.defaultSeatCount, seatChange).result) ?? nil
        services.announceSeatCleared(vacated, room: room, except: nil)
        await registry.seatsChanged(room: room)
        services.announceUserLeft(member.userId, room: room, participantCount: change.participantCount, except: nil)
    }
}
