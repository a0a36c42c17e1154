/// The state a room shares with every node that serves it (design.md §4): seats, the room's
/// members, the user indexes (`user:{id}:sockets`, `user:{id}:room`) and the rate-limit windows.
/// One node keeps it in memory (`InMemoryRoomStateStore`); a cluster keeps it in Redis under the
/// reference's keys (`RedisRoomStateStore`, contract §6.2). The room logic is the same for both:
/// each mode is a choice of implementation, not an `if` in the handlers.
///
/// Every operation can fail (Redis unreachable): the caller answers the event's contract error
/// and changes nothing locally.
public protocol RoomStateStore: Sendable {
    /// Applies `body` to the room's seats atomically for the whole cluster. `body` must be pure:
    /// the Redis store runs it again when another node changed the seats meanwhile.
    func updateSeats<R: Sendable>(room: String, seatCount: Int, _ body: @escaping @Sendable (inout SeatMap) -> R) async throws -> VersionedSeats<R>
    /// The room's seats as they are now.
    func loadSeats(room: String, seatCount: Int) async throws -> VersionedSeats<Void>

    /// A socket joined the room: returns whether it is the user's first socket there, and the
    /// number of distinct users in the room afterwards.
    func addMember(_ member: RoomMember, room: String) async throws -> MembershipChange
    /// A socket left the room: nil when it was not a member (someone else removed it first).
    func removeMember(socket: String, userId: Int, room: String) async throws -> MembershipChange?
    /// The socket's producer changed (for `existingProducers` and `isSpeaker` on other nodes).
    func setProducer(_ producerId: String?, socket: String, room: String) async throws
    /// Every member of the room, on every node, in join order.
    func members(room: String) async throws -> [RoomMember]
    /// Closes the room for good when nobody but `localSockets` (this node's, leaving with it) is
    /// a member anywhere: its seats, locks, invites, mutes and members go (design.md §2 fix 13)
    /// and the answer is true. False, and nothing changed, while other nodes still serve members.
    func closeRoom(_ room: String, localSockets: Set<String>) async throws -> Bool

    /// `user:{id}:sockets`: the user's connected sockets on every node.
    func userConnected(_ userId: Int, socket: String) async throws
    func userDisconnected(_ userId: Int, socket: String) async throws
    func sockets(ofUser userId: Int) async throws -> Set<String>
    /// `user:{id}:room`: the room the user last joined (nil once they left it).
    func setRoom(_ room: String, ofUser userId: Int) async throws
    /// Clears the user's room if it is still `room` (a join elsewhere meanwhile wins).
    func clearRoom(_ room: String, ofUser userId: Int) async throws
    func room(ofUser userId: Int) async throws -> String?

    /// The reference's fixed window (contract §9): counts a hit on `key`, true while ≤ `limit`.
    func allow(_ key: String, limit: Int, windowMs: Int64, now: Int64) async throws -> Bool
}

/// A result of a seat operation with the seats it left and their version (versions only grow,
/// so a room can tell a newer snapshot from an older one that arrived later).
public struct VersionedSeats<Result: Sendable>: Sendable {
    public var result: Result
    public var seats: SeatMap
    public var version: UInt64

    public init(result: Result, seats: SeatMap, version: UInt64) {
        self.result = result
        self.seats = seats
        self.version = version
    }
}

/// One socket in a room, as every node sees it.
public struct RoomMember: Sendable, Equatable {
    public var socketId: String
    public var profile: UserProfile
    public var joinedAtMs: Int64
    public var producerId: String?
    /// The node that holds the socket (its adapter uid; "" on a single node).
    public var node: String

    public init(socketId: String, profile: UserProfile, joinedAtMs: Int64, producerId: String? = nil, node: String = "") {
        self.socketId = socketId
        self.profile = profile
        self.joinedAtMs = joinedAtMs
        self.producerId = producerId
        self.node = node
    }

    public var userId: Int { profile.id }
}

public struct MembershipChange: Sendable, Equatable {
    /// The user's first socket in the room (on join) or their last one (on leave).
    public var userChanged: Bool
    /// Distinct users in the room afterwards.
    public var participantCount: Int

    public init(userChanged: Bool, participantCount: Int) {
        self.userChanged = userChanged
        self.participantCount = participantCount
    }
}
