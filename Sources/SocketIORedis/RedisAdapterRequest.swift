import MessagePack
public import NIOCore
public import SocketIOParser

/// A message on `socket.io-request#/#` (../shared/redis-adapter.md §A.3): JSON, except a
/// broadcast with acknowledgements, which is MessagePack (it may carry binary). `uid` is the
/// requesting node's adapter uid; the emitters' requests have none.
public enum RedisAdapterRequest: Sendable, Hashable {
    /// 0, legacy `sockets()`: `{uid, requestId, type: 0, rooms}` → answered with the socket ids.
    case sockets(uid: String?, requestId: String, rooms: [String])
    /// 1: `{uid, requestId, type: 1}` → answered with every room of the node.
    case allRooms(uid: String?, requestId: String)
    /// 2: `{uid, type: 2, opts: {rooms, except}, rooms}`: the targeted sockets join `rooms`. No answer.
    case remoteJoin(uid: String?, options: RedisBroadcastOptions, rooms: [String])
    /// 3: the targeted sockets leave `rooms`. No answer.
    case remoteLeave(uid: String?, options: RedisBroadcastOptions, rooms: [String])
    /// 4: `{uid, type: 4, opts, close}`: the targeted sockets disconnect (`close`: also their
    /// Engine.IO connection). No answer.
    case remoteDisconnect(uid: String?, options: RedisBroadcastOptions, close: Bool)
    /// 5: `{uid, requestId, type: 5, opts}` → answered with the targeted sockets' details.
    case remoteFetch(uid: String?, requestId: String, options: RedisBroadcastOptions)
    /// 6: `{uid, type: 6, data: [event, ...args]}`, plus `requestId` when the sender wants one
    /// acknowledgement per node.
    case serverSideEmit(uid: String?, requestId: String?, data: [JSONValue])
    /// 7 (MessagePack): `{uid, requestId, type: 7, packet, opts: {rooms, except, flags}}` →
    /// answered with a client count, then each client's acknowledgement.
    case broadcastWithAck(uid: String?, requestId: String, packet: SocketIOPacket, options: RedisBroadcastOptions)
    /// 2 without `opts` (adapters before 7.0): `{uid, requestId, type: 2, sid, room}`; the
    /// socket's node answers `{requestId}`.
    case legacyRemoteJoin(uid: String?, requestId: String?, socketId: String, room: String)
    /// 3 without `opts`: `{uid, requestId, type: 3, sid, room}`.
    case legacyRemoteLeave(uid: String?, requestId: String?, socketId: String, room: String)
    /// 4 without `opts`: `{uid, requestId, type: 4, sid, close}`.
    case legacyRemoteDisconnect(uid: String?, requestId: String?, socketId: String, close: Bool)
    /// A type this adapter does not handle (8, 9, future ones), or none: Node ignores these.
    case unknown(type: Int?)

    public var uid: String? {
        switch self {
        case .sockets(let uid, _, _), .allRooms(let uid, _), .remoteJoin(let uid, _, _), .remoteLeave(let uid, _, _),
            .remoteDisconnect(let uid, _, _), .remoteFetch(let uid, _, _), .serverSideEmit(let uid, _, _),
            .broadcastWithAck(let uid, _, _, _), .legacyRemoteJoin(let uid, _, _, _), .legacyRemoteLeave(let uid, _, _, _),
            .legacyRemoteDisconnect(let uid, _, _, _):
            return uid
        case .unknown:
            return nil
        }
    }

    public var requestId: String? {
        switch self {
        case .sockets(_, let id, _), .allRooms(_, let id), .remoteFetch(_, let id, _), .broadcastWithAck(_, let id, _, _):
            return id
        case .serverSideEmit(_, let id, _), .legacyRemoteJoin(_, let id, _, _), .legacyRemoteLeave(_, let id, _, _),
            .legacyRemoteDisconnect(_, let id, _, _):
            return id
        case .remoteJoin, .remoteLeave, .remoteDisconnect, .unknown:
            return nil
        }
    }

    public var type: RedisAdapterRequestType? {
        switch self {
        case .sockets: return .sockets
        case .allRooms: return .allRooms
        case .remoteJoin, .legacyRemoteJoin: return .remoteJoin
        case .remoteLeave, .legacyRemoteLeave: return .remoteLeave
        case .remoteDisconnect, .legacyRemoteDisconnect: return .remoteDisconnect
        case .remoteFetch: return .remoteFetch
        case .serverSideEmit: return .serverSideEmit
        case .broadcastWithAck: return .broadcast
        case .unknown(let type): return type.flatMap(RedisAdapterRequestType.init(rawValue:))
        }
    }

    // MARK: - decoding

    /// Reads a request as `onrequest` does: JSON when the payload starts with `{`, else
    /// MessagePack. A type it does not know is `.unknown`, not an error; a known type with a
    /// field of the wrong shape is a typed error.
    public static func decode(_ payload: ByteBuffer, limits: RedisAdapterLimits = .default) throws(RedisAdapterError) -> RedisAdapterRequest {
        let reader = RedisWireReader(limits: limits)
        let request = try reader.object(try reader.parse(payload), "")
        let uid = try reader.optionalString(request["uid"], "uid")
        guard let rawType = try reader.optionalInteger(request["type"], "type") else { return .unknown(type: nil) }
        guard let type = RedisAdapterRequestType(rawValue: rawType) else { return .unknown(type: rawType) }
        let hasOptions = request["opts"].map { $0 != .null } ?? false
        switch type {
        case .sockets:
            return .sockets(
                uid: uid, requestId: try reader.string(request["requestId"], "requestId"), rooms: try reader.rooms(request["rooms"], "rooms"))
        case .allRooms:
            return .allRooms(uid: uid, requestId: try reader.string(request["requestId"], "requestId"))
        case .remoteJoin where hasOptions, .remoteLeave where hasOptions:
            let options = try reader.options(request["opts"], "opts", withFlags: false)
            let rooms = try reader.rooms(request["rooms"], "rooms")
            return type == .remoteJoin
                ? .remoteJoin(uid: uid, options: options, rooms: rooms) : .remoteLeave(uid: uid, options: options, rooms: rooms)
        case .remoteJoin, .remoteLeave:
            let requestId = try reader.optionalString(request["requestId"], "requestId")
            let socketId = try reader.room(request["sid"], "sid")
            let room = try reader.room(request["room"], "room")
            return type == .remoteJoin
                ? .legacyRemoteJoin(uid: uid, requestId: requestId, socketId: socketId, room: room)
                : .legacyRemoteLeave(uid: uid, requestId: requestId, socketId: socketId, room: room)
        case .remoteDisconnect:
            let close = try reader.optionalBool(request["close"], "close") ?? false
            if hasOptions {
                return .remoteDisconnect(uid: uid, options: try reader.options(request["opts"], "opts", withFlags: false), close: close)
            }
            return .legacyRemoteDisconnect(
                uid: uid, requestId: try reader.optionalString(request["requestId"], "requestId"),
                socketId: try reader.room(request["sid"], "sid"), close: close)
        case .remoteFetch:
            return .remoteFetch(
                uid: uid, requestId: try reader.string(request["requestId"], "requestId"),
                options: try reader.options(request["opts"], "opts", withFlags: false))
        case .serverSideEmit:
            guard let data = request["data"] else { throw RedisAdapterError(.missingField, field: "data") }
            guard case .array(let arguments) = data else { throw RedisAdapterError(.wrongType(expected: "array"), field: "data") }
            return .serverSideEmit(uid: uid, requestId: try reader.optionalString(request["requestId"], "requestId"), data: arguments)
        case .broadcast:
            return .broadcastWithAck(
                uid: uid, requestId: try reader.string(request["requestId"], "requestId"),
                packet: try reader.packet(request["packet"], "packet"),
                options: try reader.options(request["opts"], "opts", withFlags: true))
        case .broadcastClientCount, .broadcastAck:
            return .unknown(type: rawType)
        }
    }

    // MARK: - encoding

    /// The bytes a Node node publishes for the same request, keys in its order: JSON for all but
    /// `broadcastWithAck`, which is MessagePack. A nil `uid` is left out (as the emitters do).
    /// In JSON, binary values are written as Node's JSON.stringify writes a Buffer
    /// (`{"type":"Buffer","data":[…]}`); `.unknown` writes `{"type":n}` (or `{}`).
    public func encoded() -> ByteBuffer {
        var object = JSONObject()
        if let uid { object["uid"] = .string(uid) }
        switch self {
        case .sockets(_, let requestId, let rooms):
            object["requestId"] = .string(requestId)
            object["type"] = Self.number(.sockets)
            object["rooms"] = Self.strings(rooms)
        case .allRooms(_, let requestId):
            object["requestId"] = .string(requestId)
            object["type"] = Self.number(.allRooms)
        case .remoteJoin(_, let options, let rooms), .remoteLeave(_, let options, let rooms):
            object["type"] = Self.number(type ?? .remoteJoin)
            object["opts"] = options.json
            object["rooms"] = Self.strings(rooms)
        case .remoteDisconnect(_, let options, let close):
            object["type"] = Self.number(.remoteDisconnect)
            object["opts"] = options.json
            object["close"] = .bool(close)
        case .remoteFetch(_, let requestId, let options):
            object["requestId"] = .string(requestId)
            object["type"] = Self.number(.remoteFetch)
            object["opts"] = options.json
        case .serverSideEmit(_, let requestId, let data):
            if let requestId { object["requestId"] = .string(requestId) }
            object["type"] = Self.number(.serverSideEmit)
            object["data"] = .array(data)
        case .broadcastWithAck(let uid, let requestId, let packet, let options):
            var map = MessagePackMap()
            if let uid { map.append("uid", .string(uid)) }
            map.append("requestId", .string(requestId))
            map.append("type", .int(Int64(RedisAdapterRequestType.broadcast.rawValue)))
            map.append("packet", RedisBroadcast.messagePack(packet))
            map.append("opts", options.messagePack(layout: .adapter))
            return MessagePackValue.map(map).encoded()
        case .legacyRemoteJoin(_, let requestId, let socketId, let room), .legacyRemoteLeave(_, let requestId, let socketId, let room):
            if let requestId { object["requestId"] = .string(requestId) }
            object["type"] = Self.number(type ?? .remoteJoin)
            object["sid"] = .string(socketId)
            object["room"] = .string(room)
        case .legacyRemoteDisconnect(_, let requestId, let socketId, let close):
            if let requestId { object["requestId"] = .string(requestId) }
            object["type"] = Self.number(.remoteDisconnect)
            object["sid"] = .string(socketId)
            object["close"] = .bool(close)
        case .unknown(let type):
            if let type { object["type"] = .number(Double(type)) }
        }
        return Self.json(.object(object))
    }

    static func number(_ type: RedisAdapterRequestType) -> JSONValue { .number(Double(type.rawValue)) }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    static func json(_ value: JSONValue) -> ByteBuffer {
        var bytes: [UInt8] = []
        value.nodeJSONCompatible.write(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }
}
