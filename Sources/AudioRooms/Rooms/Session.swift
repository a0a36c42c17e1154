import Synchronization

/// Every connected socket's identity, and the indexes the rooms need across sockets: a user's
/// sockets (for `→ user` deliveries such as `seat:invite:received`) and the room each user is
/// in (`user:getRoom`). In-memory and node-local here; ``RoomStateStore`` keeps the same indexes
/// for every node (`user:{id}:sockets`, `user:{id}:room`; in Redis when clustered).
public final class SessionDirectory: Sendable {
    private struct State {
        var users: [String: AuthenticatedUser] = [:]
        var socketsByUser: [Int: Set<String>] = [:]
        var roomBySocket: [String: String] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func connected(socket: String, user: AuthenticatedUser) {
        state.withLock { state in
            state.users[socket] = user
            state.socketsByUser[user.id, default: []].insert(socket)
        }
    }

    public func disconnected(socket: String) {
        state.withLock { state in
            guard let user = state.users.removeValue(forKey: socket) else { return }
            state.socketsByUser[user.id]?.remove(socket)
            if state.socketsByUser[user.id]?.isEmpty == true { state.socketsByUser[user.id] = nil }
            state.roomBySocket[socket] = nil
        }
    }

    public func user(of socket: String) -> AuthenticatedUser? { state.withLock { $0.users[socket] } }

    public func sockets(of userId: Int) -> Set<String> { state.withLock { $0.socketsByUser[userId] ?? [] } }

    public var socketCount: Int { state.withLock { $0.users.count } }

    /// The room a socket has joined (the membership gate of design.md §2 fix 1).
    public func room(of socket: String) -> String? { state.withLock { $0.roomBySocket[socket] } }

    public func setRoom(_ room: String?, for socket: String) {
        state.withLock { $0.roomBySocket[socket] = room }
    }

    /// Every connected socket with its user (to write this node's share of the user indexes
    /// again after Redis lost them).
    public var connectedSockets: [(socket: String, userId: Int)] {
        state.withLock { $0.users.map { ($0.key, $0.value.id) }.sorted { $0.socket < $1.socket } }
    }

    /// Of a user's sockets, those that have joined `room`.
    public func sockets(of userId: Int, in room: String) -> [String] {
        state.withLock { state in
            (state.socketsByUser[userId] ?? []).filter { state.roomBySocket[$0] == room }.sorted()
        }
    }
}
