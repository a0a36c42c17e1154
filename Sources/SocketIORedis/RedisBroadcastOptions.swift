import MessagePack
import SocketIOParser

/// Which sockets a broadcast or a remote operation targets (socket.io-adapter `BroadcastOptions`):
/// members of any room in `rooms` (every socket of the namespace when empty), minus members of
/// any room in `except`. A socket id is a room, so `except: [sid]` skips the sender.
public struct RedisBroadcastOptions: Sendable, Hashable {
    public var rooms: [String]
    public var except: [String]
    /// Only broadcasts carry flags; requests' `opts` are `{rooms, except}`.
    public var flags: RedisBroadcastFlags

    public init(rooms: [String] = [], except: [String] = [], flags: RedisBroadcastFlags = RedisBroadcastFlags()) {
        self.rooms = rooms
        self.except = except
        self.flags = flags
    }

    /// `{rooms, except, flags}` (the adapter's order, `RedisAdapter.broadcast`) or
    /// `{rooms, flags, except}` (the emitter's, `BroadcastOperator.emit`).
    func messagePack(layout: RedisBroadcast.Layout) -> MessagePackValue {
        let rooms = MessagePackValue.array(self.rooms.map { .string($0) })
        let except = MessagePackValue.array(self.except.map { .string($0) })
        switch layout {
        case .adapter: return ["rooms": rooms, "except": except, "flags": flags.messagePack]
        case .emitter: return ["rooms": rooms, "flags": flags.messagePack, "except": except]
        }
    }

    /// `{rooms, except}`, what requests carry as `opts`.
    var json: JSONValue {
        ["rooms": .array(rooms.map { .string($0) }), "except": .array(except.map { .string($0) })]
    }
}
