public import SocketIOParser

/// One socket in a REMOTE_FETCH answer (`fetchSockets()` on a Node node builds a
/// `RemoteSocket` from it): `{id, handshake, rooms, data}`. `handshake` should look like Node's
/// (`{headers, time, address, xdomain, secure, issued, url, query, auth}`, socket.io
/// `Socket.buildHandshake`); `data` is the socket's `socket.data`.
public struct RedisRemoteSocket: Sendable, Hashable {
    public var id: String
    public var handshake: JSONValue
    public var rooms: [String]
    public var data: JSONValue

    public init(id: String, handshake: JSONValue, rooms: [String], data: JSONValue = .null) {
        self.id = id
        self.handshake = handshake
        self.rooms = rooms
        self.data = data
    }

    var json: JSONValue {
        ["id": .string(id), "handshake": handshake, "rooms": .array(rooms.map { .string($0) }), "data": data]
    }
}
