import Logging
import ServiceLifecycle

/// `MAX_ROOMS_PER_WORKER` × workers rooms are open on this node.
public struct RoomLimitReached: Error {}

/// Every room on this node: created on first join (concurrent joins share one creation), closed
/// by inactivity. A `Service`: its `run()` owns one child task per room that reads the room's
/// router events, and a sweeper that ticks every room (invite expiry, seat retention, close).
public actor RoomRegistry: Service {
    private let media: any MediaPlane
    private let services: RoomServices
    private var rooms: [String: Room] = [:]
    private var creating: [String: Task<Room, any Error>] = [:]
    private let newRooms: AsyncStream<Room>
    private let newRoomsContinuation: AsyncStream<Room>.Continuation
    private let tickInterval: Duration

    public init(media: any MediaPlane, services: RoomServices, tickInterval: Duration = .milliseconds(200)) {
        self.media = media
        self.services = services
        self.tickInterval = tickInterval
        (newRooms, newRoomsContinuation) = AsyncStream.makeStream(of: Room.self)
    }

    public var count: Int { rooms.count }

    public func room(_ id: String) -> Room? { rooms[id] }

    /// The room, created with its router if it does not exist yet. Creating one more than `limit`
    /// rooms (those being created included) throws ``RoomLimitReached``.
    public func openRoom(_ id: String, limit: Int = .max) async throws -> Room {
        if let room = rooms[id] { return room }
        if let pending = creating[id] { return try await pending.value }
        guard rooms.count + creating.count < limit else { throw RoomLimitReached() }
        let media = self.media
        let services = self.services
        let task = Task { () throws -> Room in
            let router = try await media.makeRouter()
            return Room(id: id, router: router, services: services)
        }
        creating[id] = task
        defer { creating[id] = nil }
        let room = try await task.value
        rooms[id] = room
        newRoomsContinuation.yield(room)
        services.logger.info("room opened", metadata: ["room": "\(id)"])
        return room
    }

    func forget(_ room: Room) {
        if rooms[room.id] === room { rooms[room.id] = nil }
        services.logger.info("room closed", metadata: ["room": "\(room.id)"])
    }

    /// Another node changed a room's seats: the room here (if any) reads them and re-applies the stage rules.
    /// Not awaited: the pub/sub reader that calls this must not wait for a busy room.
    public func seatsChanged(room id: String) {
        guard let room = rooms[id] else { return }
        Task { await room.seatsChangedElsewhere() }
    }

    /// Redis is back: every room here writes its share of the shared state again.
    public func resync() async {
        for room in rooms.values { await room.resync() }
    }

    /// The nodes any room here exchanges pipes with (the dead-node sweep checks them too: their
    /// members may already have been evicted by another node).
    public func pipePeers() async -> Set<String> {
        var nodes = Set<String>()
        for room in rooms.values { nodes.formUnion(await room.pipePeers()) }
        return nodes
    }

    /// Nodes found dead: every room closes its pipes with them.
    public func nodesGone(_ nodes: Set<String>) async {
        for room in rooms.values { await room.nodesGone(nodes) }
    }

    /// Rooms snapshot for the sweeper.
    func allRooms() -> [Room] { Array(rooms.values) }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.sweep() }
            for await room in newRooms.cancelOnGracefulShutdown() {
                // Each room's router events, for the room's lifetime (the stream ends when the router closes).
                group.addTask {
                    for await event in room.router.mediaEvents { await room.handle(event) }
                }
            }
        }
    }

    /// Ticks every room until shutdown, then closes them all so clients hear it and routers are freed.
    private func sweep() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: tickInterval)
            for room in allRooms() where await room.tick() {
                forget(room)
            }
        }
        for room in allRooms() {
            await room.close(reason: "server_shutdown")
            forget(room)
        }
        newRoomsContinuation.finish()
    }
}
