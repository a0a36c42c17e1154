import Synchronization

/// The stand-alone store: everything in this process, each operation atomic under one lock.
public final class InMemoryRoomStateStore: RoomStateStore {
    private struct RoomState {
        var seats: SeatMap?
        var version: UInt64 = 0
        var members: [String: RoomMember] = [:]
    }

    private struct State {
        var rooms: [String: RoomState] = [:]
        var userSockets: [Int: Set<String>] = [:]
        var userRoom: [Int: String] = [:]
        /// Seat versions come from one store-wide counter, so a room closed and opened again
        /// never reuses a version an older snapshot had.
        var versionCounter: UInt64 = 0
    }

    private let state = Mutex(State())
    private let limiter = RateLimiter()

    public init() {}

    public func updateSeats<R: Sendable>(room: String, seatCount: Int, _ body: @escaping @Sendable (inout SeatMap) -> R) async throws
        -> VersionedSeats<R>
    {
        state.withLock { state in
            var entry = state.rooms[room] ?? RoomState()
            let before = entry.seats ?? SeatMap(seatCount: seatCount)
            var seats = before
            let result = body(&seats)
            if seats != before {
                state.versionCounter &+= 1
                entry.version = state.versionCounter
            }
            entry.seats = seats
            state.rooms[room] = entry
            return VersionedSeats(result: result, seats: seats, version: entry.version)
        }
    }

    public func loadSeats(room: String, seatCount: Int) async throws -> VersionedSeats<Void> {
        state.withLock { state in
            let entry = state.rooms[room] ?? RoomState()
            return VersionedSeats(result: (), seats: entry.seats ?? SeatMap(seatCount: seatCount), version: entry.version)
        }
    }

    public func addMember(_ member: RoomMember, room: String) async throws -> MembershipChange {
        state.withLock { state in
            var entry = state.rooms[room] ?? RoomState()
            let isNewUser =
                !entry.members.values.contains { $0.userId == member.userId && $0.socketId != member.socketId }
                && entry.members[member.socketId] == nil
            if entry.members[member.socketId] == nil { entry.members[member.socketId] = member }
            state.rooms[room] = entry
            return MembershipChange(userChanged: isNewUser, participantCount: Self.distinctUsers(entry.members))
        }
    }

    public func removeMember(socket: String, userId: Int, room: String) async throws -> MembershipChange? {
        state.withLock { state in
            guard var entry = state.rooms[room], entry.members.removeValue(forKey: socket) != nil else { return nil }
            state.rooms[room] = entry
            let userLeft = !entry.members.values.contains { $0.userId == userId }
            return MembershipChange(userChanged: userLeft, participantCount: Self.distinctUsers(entry.members))
        }
    }

    public func setProducer(_ producerId: String?, socket: String, room: String) async throws {
        state.withLock { $0.rooms[room]?.members[socket]?.producerId = producerId }
    }

    public func members(room: String) async throws -> [RoomMember] {
        state.withLock { state in
            (state.rooms[room]?.members.values).map { $0.sorted { ($0.joinedAtMs, $0.socketId) < ($1.joinedAtMs, $1.socketId) } } ?? []
        }
    }

    public func closeRoom(_ room: String, localSockets: Set<String>) async throws -> Bool {
        state.withLock { state in
            guard state.rooms[room]?.members.keys.allSatisfy(localSockets.contains) ?? true else { return false }
            state.rooms[room] = nil
            return true
        }
    }

    public func userConnected(_ userId: Int, socket: String) async throws {
        state.withLock { _ = $0.userSockets[userId, default: []].insert(socket) }
    }

    public func userDisconnected(_ userId: Int, socket: String) async throws {
        state.withLock { state in
            state.userSockets[userId]?.remove(socket)
            if state.userSockets[userId]?.isEmpty == true { state.userSockets[userId] = nil }
        }
    }

    public func sockets(ofUser userId: Int) async throws -> Set<String> {
        state.withLock { $0.userSockets[userId] ?? [] }
    }

    public func setRoom(_ room: String, ofUser userId: Int) async throws {
        state.withLock { $0.userRoom[userId] = room }
    }

    public func clearRoom(_ room: String, ofUser userId: Int) async throws {
        state.withLock { state in
            if state.userRoom[userId] == room { state.userRoom[userId] = nil }
        }
    }

    public func room(ofUser userId: Int) async throws -> String? {
        state.withLock { $0.userRoom[userId] }
    }

    public func allow(_ key: String, limit: Int, windowMs: Int64, now: Int64) async throws -> Bool {
        limiter.allow(key, limit: limit, windowMs: windowMs, now: now)
    }

    static func distinctUsers(_ members: [String: RoomMember]) -> Int {
        Set(members.values.map(\.userId)).count
    }
}
