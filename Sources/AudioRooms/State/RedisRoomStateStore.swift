import Foundation
import Redis

/// The cluster's store: the reference's Redis keys (contract §6.2) plus msab's own.
///
/// Seats: the rules stay in `SeatMap` (one implementation for both modes). An update reads the
/// room's seat keys atomically (one Lua script), applies the operation in Swift, and writes the
/// result back with a compare-and-set script that refuses the write when the room's seat version
/// moved meanwhile; the update then starts again from the fresh state. So two nodes racing for
/// one seat each run `take` on the state the other left, and exactly one wins.
///
/// | key | type | content |
/// |---|---|---|
/// | `room:{id}:seats` | hash | seat index → `{"userId":"<id>","muted":bool}` (+ `retainedUntil` ms while held for a dropped speaker) |
/// | `room:{id}:locked_seats` | set | seat indexes |
/// | `room:{id}:invite:{i}` | string, PX | `{targetUserId, invitedBy, seatIndex, createdAt, expiresAt}`; kept 30 s past expiry so one node announces it |
/// | `room:{id}:muted_users` | set | users a moderator muted (msab: the mute follows the user) |
/// | `room:{id}:seats_version` | string | the version of the seat keys, from the store-wide counter `msab:seats:version` |
/// | `room:{id}:members` | hash | socket id → `{userId, joinedAt, node, profile}` (public profile fields only) |
/// | `room:{id}:producers` | hash | socket id → producer id |
/// | `room:{id}:users` | hash | user id → sockets in the room (its length is the participant count) |
/// | `room:state:{id}` | string, 24 h | the reference's `{id, status, participantCount, createdAt, lastActivityAt, speakers}` |
/// | `room:{id}:activity` | string, PX | last join (ms) |
/// | `msab:rooms` | set | rooms with members (what the dead-node sweep walks) |
/// | `user:{id}:sockets` | set, 24 h | the user's sockets on every node |
/// | `user:{id}:room` | string, 24 h | the room the user last joined |
/// | `ratelimit:{key}` | counter, PX | fixed windows |
///
/// Every change of the seat keys is announced on `msab:seats` (`<node> <room>`), so the nodes
/// holding the room apply the stage rules to their own producers.
extension RESPValue: RESPLike {}

public final class RedisRoomStateStore: RoomStateStore {
    let redis: RedisClient
    let node: String
    let inactivityTimeoutMs: Int
    /// Milliseconds since the epoch (invite TTLs, timestamps in `room:state`); told, not read.
    let now: @Sendable () -> Int64
    /// An update that keeps losing the race gives up (the caller answers its event's error).
    static let maxAttempts = 32
    public static let seatsChannel = "msab:seats"

    public init(
        redis: RedisClient, node: String, inactivityTimeoutMs: Int,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.now = now
        self.redis = redis
        self.node = node
        self.inactivityTimeoutMs = inactivityTimeoutMs
    }

    enum Keys {
        static func seats(_ room: String) -> String { "room:\(room):seats" }
        static func locked(_ room: String) -> String { "room:\(room):locked_seats" }
        static func muted(_ room: String) -> String { "room:\(room):muted_users" }
        static func version(_ room: String) -> String { "room:\(room):seats_version" }
        static func invitePrefix(_ room: String) -> String { "room:\(room):invite:" }
        static func members(_ room: String) -> String { "room:\(room):members" }
        static func producers(_ room: String) -> String { "room:\(room):producers" }
        static func users(_ room: String) -> String { "room:\(room):users" }
        static func state(_ room: String) -> String { "room:state:\(room)" }
        static func activity(_ room: String) -> String { "room:\(room):activity" }
        static let rooms = "msab:rooms"
        static let versionCounter = "msab:seats:version"
        static func userSockets(_ user: Int) -> String { "user:\(user):sockets" }
        static func userRoom(_ user: Int) -> String { "user:\(user):room" }
    }

    // MARK: - seats

    public func loadSeats(room: String, seatCount: Int) async throws -> VersionedSeats<Void> {
        let (seats, version) = try await readSeats(room: room, seatCount: seatCount)
        return VersionedSeats(result: (), seats: seats, version: version)
    }

    public func updateSeats<R: Sendable>(room: String, seatCount: Int, _ body: @escaping @Sendable (inout SeatMap) -> R) async throws
        -> VersionedSeats<R>
    {
        for _ in 0..<Self.maxAttempts {
            let (before, version) = try await readSeats(room: room, seatCount: seatCount)
            var after = before
            let result = body(&after)
            if after == before { return VersionedSeats(result: result, seats: after, version: version) }
            if let written = try await writeSeats(room: room, expected: version, after) {
                _ = try? await redis.send(["PUBLISH", .string(Self.seatsChannel), .string("\(node) \(room)")])
                return VersionedSeats(result: result, seats: after, version: written)
            }
            // Another node wrote first: run the operation again on what it left.
        }
        throw RoomStoreError.contention
    }

    func readSeats(room: String, seatCount: Int) async throws -> (SeatMap, UInt64) {
        let reply = try await redis.eval(
            Self.loadSeatsScript, keys: [Keys.seats(room), Keys.locked(room), Keys.muted(room), Keys.version(room)],
            args: [.string(Keys.invitePrefix(room)), .int(seatCount)])
        guard let parts = reply.array, parts.count == 5 else { throw RoomStoreError.malformed("seat snapshot") }
        let version = parts[0].string.flatMap { UInt64($0) } ?? 0
        return (
            try SeatRecords.decode(
                seatCount: seatCount, seats: parts[1].array ?? [], locked: parts[2].array ?? [],
                muted: parts[3].array ?? [], invites: parts[4].array ?? []), version
        )
    }

    /// The compare-and-set: nil when the version moved.
    func writeSeats(room: String, expected: UInt64, _ seats: SeatMap) async throws -> UInt64? {
        let records = SeatRecords.encode(seats, now: now())
        var args: [RESPArgument] = [.string(String(expected)), .string(Keys.invitePrefix(room)), .int(seats.seatCount), .int(records.seats.count)]
        for (field, json) in records.seats {
            args.append(.string(field))
            args.append(.string(json))
        }
        args.append(.int(records.locked.count))
        args.append(contentsOf: records.locked.map { .string($0) })
        args.append(.int(records.muted.count))
        args.append(contentsOf: records.muted.map { .string($0) })
        args.append(.int(records.invites.count))
        for invite in records.invites {
            args.append(.string(invite.field))
            args.append(.string(invite.json))
            args.append(.int(Int(invite.ttlMs)))
        }
        let reply = try await redis.eval(
            Self.writeSeatsScript,
            keys: [Keys.seats(room), Keys.locked(room), Keys.muted(room), Keys.version(room), Keys.versionCounter],
            args: args)
        if case .null = reply { return nil }
        guard let version = reply.int, let exact = UInt64(exactly: version) else { throw RoomStoreError.malformed("seat version") }
        return exact
    }

    // MARK: - members

    public func addMember(_ member: RoomMember, room: String) async throws -> MembershipChange {
        let now = self.now()
        let reply = try await redis.eval(
            Self.addMemberScript,
            keys: [Keys.members(room), Keys.users(room), Keys.state(room), Keys.activity(room), Keys.rooms],
            args: [
                .string(member.socketId), .string(MemberRecord.encode(member)), .string(String(member.userId)),
                .string(room), .string(MemberRecord.jsonString(room)), .string(String(now)),
                .int(max(1, inactivityTimeoutMs)),
            ])
        return try Self.membershipChange(reply) ?? MembershipChange(userChanged: false, participantCount: 0)
    }

    public func removeMember(socket: String, userId: Int, room: String) async throws -> MembershipChange? {
        let now = self.now()
        let reply = try await redis.eval(
            Self.removeMemberScript,
            keys: [Keys.members(room), Keys.users(room), Keys.state(room), Keys.rooms, Keys.producers(room)],
            args: [
                .string(socket), .string(String(userId)), .string(room), .string(MemberRecord.jsonString(room)),
                .string(String(now)),
            ])
        return try Self.membershipChange(reply)
    }

    static func membershipChange(_ reply: RESPValue) throws -> MembershipChange? {
        if case .null = reply { return nil }
        guard let parts = reply.array, parts.count == 2, let changed = parts[0].int, let count = parts[1].int,
            let exactCount = Int(exactly: count)
        else { throw RoomStoreError.malformed("membership") }
        return MembershipChange(userChanged: changed == 1, participantCount: exactCount)
    }

    public func setProducer(_ producerId: String?, socket: String, room: String) async throws {
        if let producerId {
            _ = try await redis.eval(
                Self.setProducerScript, keys: [Keys.members(room), Keys.producers(room)],
                args: [.string(socket), .string(producerId)])
        } else {
            _ = try await redis.send(["HDEL", .string(Keys.producers(room)), .string(socket)])
        }
    }

    public func members(room: String) async throws -> [RoomMember] {
        let replies = try await redis.pipeline([["HGETALL", .string(Keys.members(room))], ["HGETALL", .string(Keys.producers(room))]])
        let members = try replies[0].get().array ?? []
        let producers = try replies[1].get().array ?? []
        var producerOf: [String: String] = [:]
        for pair in stride(from: 0, to: producers.count - 1, by: 2) {
            if let socket = producers[pair].string, let producer = producers[pair + 1].string { producerOf[socket] = producer }
        }
        var out: [RoomMember] = []
        for pair in stride(from: 0, to: members.count - 1, by: 2) {
            guard let socket = members[pair].string, let json = members[pair + 1].string,
                var member = MemberRecord.decode(socket: socket, json: json)
            else { continue }
            member.producerId = producerOf[socket]
            out.append(member)
        }
        return out.sorted { ($0.joinedAtMs, $0.socketId) < ($1.joinedAtMs, $1.socketId) }
    }

    public func closeRoom(_ room: String, localSockets: Set<String>) async throws -> Bool {
        let reply = try await redis.eval(
            Self.closeRoomScript,
            keys: [
                Keys.seats(room), Keys.locked(room), Keys.muted(room), Keys.version(room), Keys.versionCounter,
                Keys.members(room), Keys.producers(room), Keys.users(room), Keys.state(room), Keys.rooms,
            ],
            args: [.string(Keys.invitePrefix(room)), .int(SeatRecords.maxSeats), .string(room)]
                + localSockets.sorted().map { .string($0) })
        guard reply.int == 1 else { return false }
        _ = try? await redis.send(["PUBLISH", .string(Self.seatsChannel), .string("\(node) \(room)")])
        return true
    }

    /// Rooms that have members somewhere (for the dead-node sweep).
    public func roomsWithMembers(limit: Int = 100_000) async throws -> [String] {
        let reply = try await redis.send(["SRANDMEMBER", .string(Keys.rooms), .int(limit)])
        return (reply.array ?? []).compactMap(\.string)
    }

    // MARK: - users

    static let day = 86_400

    public func userConnected(_ userId: Int, socket: String) async throws {
        let key = Keys.userSockets(userId)
        for result in try await redis.pipeline([["SADD", .string(key), .string(socket)], ["EXPIRE", .string(key), .int(Self.day)]]) {
            _ = try result.get()
        }
    }

    public func userDisconnected(_ userId: Int, socket: String) async throws {
        _ = try await redis.send(["SREM", .string(Keys.userSockets(userId)), .string(socket)])
    }

    public func sockets(ofUser userId: Int) async throws -> Set<String> {
        let reply = try await redis.send(["SMEMBERS", .string(Keys.userSockets(userId))])
        return Set((reply.array ?? []).compactMap(\.string).prefix(10_000))
    }

    public func setRoom(_ room: String, ofUser userId: Int) async throws {
        _ = try await redis.send(["SET", .string(Keys.userRoom(userId)), .string(room), "EX", .int(Self.day)])
    }

    public func clearRoom(_ room: String, ofUser userId: Int) async throws {
        _ = try await redis.eval(Self.compareAndDeleteScript, keys: [Keys.userRoom(userId)], args: [.string(room)])
    }

    public func room(ofUser userId: Int) async throws -> String? {
        try await redis.send(["GET", .string(Keys.userRoom(userId))]).string
    }

    public func allow(_ key: String, limit: Int, windowMs: Int64, now: Int64) async throws -> Bool {
        let reply = try await redis.eval(Self.rateLimitScript, keys: ["ratelimit:\(key)"], args: [.int(Int(clamping: windowMs))])
        guard let count = reply.int else { throw RoomStoreError.malformed("rate limit") }
        return count <= Int64(limit)
    }
}

public enum RoomStoreError: Error, Sendable, Equatable {
    /// Too many nodes changed the room's seats at once; the update gave up.
    case contention
    /// Redis answered something no script returns.
    case malformed(String)
}
