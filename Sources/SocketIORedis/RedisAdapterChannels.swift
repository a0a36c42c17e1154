// The classic @socket.io/redis-adapter channel names (socketio/socket.io-redis-adapter 8.x
// `lib/index.ts`, constructor; ../shared/redis-adapter.md §A.1), per namespace:
//
//   broadcasts           <prefix>#<nsp>#            (everything, or zero / several rooms)
//   one room             <prefix>#<nsp>#<room>#     (exactly one target room: a cheap pre-filter)
//   pattern subscription <prefix>#<nsp>#*           (PSUBSCRIBE: every node receives every broadcast)
//   requests             <prefix>-request#<nsp>#
//   responses            <prefix>-response#<nsp>#   and <prefix>-response#<nsp>#<uid>#

/// The channel names of one namespace.
public struct RedisAdapterChannels: Sendable, Hashable {
    public let prefix: String
    public let namespace: String
    /// `socket.io#/#`
    public let broadcast: String
    /// `socket.io#/#*`, the one pattern a node PSUBSCRIBEs to.
    public let pattern: String
    /// `socket.io-request#/#`
    public let request: String
    /// `socket.io-response#/#`
    public let response: String

    /// `prefix` is the adapter's `key` option.
    public init(prefix: String = "socket.io", namespace: String = "/") {
        self.prefix = prefix
        self.namespace = namespace
        self.broadcast = prefix + "#" + namespace + "#"
        self.pattern = broadcast + "*"
        self.request = prefix + "-request#" + namespace + "#"
        self.response = prefix + "-response#" + namespace + "#"
    }

    /// `socket.io#/#<room>#`
    public func room(_ room: String) -> String { broadcast + room + "#" }

    /// `socket.io-response#/#<uid>#`, the responses meant for the node `uid` only.
    public func response(for uid: String) -> String { response + uid + "#" }

    /// Where a broadcast to `rooms` is published: the room's channel when there is exactly one
    /// room, else the base channel (as `RedisAdapter.broadcast` and the emitter choose).
    public func broadcastChannel(rooms: [String]) -> String {
        rooms.count == 1 ? room(rooms[0]) : broadcast
    }

    /// Whether `channel` belongs to this namespace's broadcasts (what `onmessage` checks first;
    /// anything else delivered to the pattern subscription is ignored).
    public func isBroadcast(channel: String) -> Bool {
        channel.utf8.starts(with: broadcast.utf8)
    }

    /// The room a `pmessage` channel names: `socket.io#/#42#` → "42". Nil for the base channel
    /// (and for anything that is not `<base><room>#`): the message is then not pre-filtered by
    /// room, only by its `opts`, which is always correct; the room is only a shortcut that lets a
    /// node drop messages for rooms it does not have (`onmessage`'s `hasRoom` check) before decoding.
    public func room(fromChannel channel: String) -> String? {
        let bytes = channel.utf8
        guard bytes.starts(with: broadcast.utf8) else { return nil }
        let rest = bytes.dropFirst(broadcast.utf8.count)
        guard rest.count > 1, rest.last == UInt8(ascii: "#") else { return nil }
        return String(decoding: rest.dropLast(), as: UTF8.self)
    }
}
