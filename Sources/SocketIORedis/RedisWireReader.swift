import MessagePack
import NIOCore
import SocketIOParser

/// Parsing a payload into a JSONValue and reading typed fields out of it, each failure a
/// `RedisAdapterError` naming the field. Both encodings land in the same JSONValue, so requests
/// and responses are read by one set of rules whichever way they travelled.
struct RedisWireReader {
    let limits: RedisAdapterLimits

    /// The adapter's sniff (`onrequest` / `onresponse`): a payload starting with `{` is JSON,
    /// anything else MessagePack.
    func parse(_ payload: ByteBuffer) throws(RedisAdapterError) -> JSONValue {
        try checkSize(payload)
        if payload.readableBytesView.first == UInt8(ascii: "{") {
            do {
                return try JSONValue.parse(payload.readableBytesView, limits: limits.json)
            } catch {
                throw RedisAdapterError(.json(error))
            }
        }
        return try parseMessagePack(payload)
    }

    func parseMessagePack(_ payload: ByteBuffer) throws(RedisAdapterError) -> JSONValue {
        try checkSize(payload)
        let value: MessagePackValue
        do {
            value = try MessagePackValue.decode(payload, limits: limits.messagePack)
        } catch {
            throw RedisAdapterError(.messagePack(error))
        }
        return try JSONValue(messagePack: value)
    }

    func checkSize(_ payload: ByteBuffer) throws(RedisAdapterError) {
        guard payload.readableBytes <= limits.maximumMessageBytes else {
            throw RedisAdapterError(.messageTooLarge(bytes: payload.readableBytes, limit: limits.maximumMessageBytes))
        }
    }

    // MARK: - fields

    func object(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> JSONObject {
        guard let value else { throw RedisAdapterError(.missingField, field: field) }
        guard case .object(let object) = value else { throw RedisAdapterError(.wrongType(expected: "object"), field: field) }
        return object
    }

    func string(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> String {
        guard let string = try optionalString(value, field) else { throw RedisAdapterError(.missingField, field: field) }
        return string
    }

    /// Absent and null are both "not given" (notepack 2 wrote `undefined` as nil-like `d4 00 00`).
    func optionalString(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw RedisAdapterError(.wrongType(expected: "string"), field: field)
        }
    }

    func optionalBool(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw RedisAdapterError(.wrongType(expected: "boolean"), field: field)
        }
    }

    /// An integral number as an Int; nil when absent or null.
    func optionalInteger(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> Int? {
        switch value {
        case nil, .null?: return nil
        case .number(let n)?:
            guard n.rounded(.towardZero) == n, let integer = Int(exactly: n) else {
                throw RedisAdapterError(.wrongType(expected: "integer"), field: field)
            }
            return integer
        default: throw RedisAdapterError(.wrongType(expected: "integer"), field: field)
        }
    }

    /// A room list (`rooms`, `except`, a response's `rooms`): absent or null is empty; entries
    /// are strings, or numbers (a Node app may `join(42)`), canonicalised as JavaScript's
    /// `String(n)` writes them, which is how Node's `hasRoom` and Set lookups meet them.
    func rooms(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> [String] {
        switch value {
        case nil, .null?: return []
        case .array(let entries)?:
            guard entries.count <= limits.maximumListLength else {
                throw RedisAdapterError(.tooManyEntries(limit: limits.maximumListLength), field: field)
            }
            var rooms: [String] = []
            rooms.reserveCapacity(entries.count)
            for (index, entry) in entries.enumerated() { rooms.append(try room(entry, "\(field)[\(index)]")) }
            return rooms
        default: throw RedisAdapterError(.wrongType(expected: "array"), field: field)
        }
    }

    /// One room name or socket id.
    func room(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> String {
        let room: String
        switch value {
        case nil: throw RedisAdapterError(.missingField, field: field)
        case .string(let s)?: room = s
        case .number(let n)?: room = JavaScriptNumber.string(n)
        default: throw RedisAdapterError(.wrongType(expected: "string"), field: field)
        }
        guard room.utf8.count <= limits.maximumRoomLength else {
            throw RedisAdapterError(.stringTooLong(limit: limits.maximumRoomLength), field: field)
        }
        return room
    }

    /// `{rooms, except}` with `flags` when `withFlags` (only broadcasts carry them).
    func options(_ value: JSONValue?, _ field: String, withFlags: Bool) throws(RedisAdapterError) -> RedisBroadcastOptions {
        let object = try self.object(value, field)
        return RedisBroadcastOptions(
            rooms: try rooms(object["rooms"], field + ".rooms"),
            except: try rooms(object["except"], field + ".except"),
            flags: withFlags ? try flags(object["flags"], field + ".flags") : RedisBroadcastFlags()
        )
    }

    /// Flags as a map, unknown keys ignored (PHP emitters add `json`/`broadcast`); an empty
    /// array is no flags (PHP writes its empty array as a MessagePack array, 0x90).
    func flags(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> RedisBroadcastFlags {
        switch value {
        case nil, .null?: return RedisBroadcastFlags()
        case .array(let entries)? where entries.isEmpty: return RedisBroadcastFlags()
        case .object(let object)?:
            var timeout: Int?
            switch object["timeout"] {
            case nil, .null?: timeout = nil
            case .number(let n)? where n.isFinite:
                // Milliseconds; clamped to what a JavaScript timer can hold, never a trap.
                timeout = Int(min(max(n, 0), 9_007_199_254_740_991).rounded(.towardZero))
            default: throw RedisAdapterError(.wrongType(expected: "number"), field: field + ".timeout")
            }
            return RedisBroadcastFlags(
                volatile: try optionalBool(object["volatile"], field + ".volatile"),
                compress: try optionalBool(object["compress"], field + ".compress"),
                timeout: timeout
            )
        default: throw RedisAdapterError(.wrongType(expected: "object"), field: field)
        }
    }

    /// A packet object `{type, data, nsp, id?}`: `nsp` defaults to "/" (as `onmessage` does),
    /// and the binary types 5 and 6 (PHP emitters send 5) read as EVENT and ACK, since binary
    /// travels inline in MessagePack and the receiving node re-splits it for its clients.
    func packet(_ value: JSONValue?, _ field: String) throws(RedisAdapterError) -> SocketIOPacket {
        let object = try self.object(value, field)
        guard let rawType = try optionalInteger(object["type"], field + ".type") else {
            throw RedisAdapterError(.missingField, field: field + ".type")
        }
        guard let byte = UInt8(exactly: rawType), let type = SocketIOPacketType(rawValue: byte) else {
            throw RedisAdapterError(.unsupportedPacketType(rawType), field: field + ".type")
        }
        let id = try optionalInteger(object["id"], field + ".id")
        if let id, !(0...SocketIOCodec.maximumAckId).contains(id) {
            throw RedisAdapterError(.wrongType(expected: "acknowledgement id"), field: field + ".id")
        }
        return SocketIOPacket(
            type: type.withInlineBinary,
            namespace: try optionalString(object["nsp"], field + ".nsp") ?? "/",
            id: id,
            data: object["data"]
        )
    }
}

extension SocketIOPacketType {
    /// BINARY_EVENT → EVENT, BINARY_ACK → ACK: on Redis, binary is part of the value.
    var withInlineBinary: SocketIOPacketType {
        switch self {
        case .binaryEvent: return .event
        case .binaryAck: return .ack
        default: return self
        }
    }
}
