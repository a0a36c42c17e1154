public import MessagePack
import NIOCore
public import SocketIOParser

// Between Socket.IO's JSON values and MessagePack, as a Node peer converts: notepack encodes the
// JavaScript value that socket.io holds, and decodes into one.

extension MessagePackValue {
    /// The MessagePack form notepack gives the same JavaScript value.
    ///
    /// Numbers: an integral number within ±2^53 (JavaScript's exact integers) becomes the
    /// smallest integer format, as notepack writes it; anything else is float64. notepack also
    /// writes integral numbers beyond 2^53 as (u)int64, and for 2^64 or more it writes garbage
    /// (`1e300` → `cf 00…00`); float64 decodes to the same JavaScript number on every peer.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .nil
        case .bool(let value): self = .bool(value)
        case .number(let value):
            if value.rounded(.towardZero) == value, abs(value) <= 9_007_199_254_740_992, let integer = Int64(exactly: value) {
                self = .int(integer)
            } else {
                self = .float(value)
            }
        case .string(let value): self = .string(value)
        case .binary(let value): self = .binary(value)
        case .array(let elements): self = .array(elements.map(MessagePackValue.init))
        case .object(let object):
            self = .map(MessagePackMap(object.entries.map { (key: .string($0.key), value: MessagePackValue($0.value)) }))
        }
    }
}

extension JSONValue {
    /// The JavaScript value notepack decodes `value` into, as socket.io then holds it:
    /// integers and floats → number (above 2^53 with a double's precision, as in JavaScript);
    /// binary (and the legacy ArrayBuffer ext) → binary, which goes to clients as an attachment;
    /// a timestamp → its `Date.toJSON()` text (`"2000-06-13T00:00:00.000Z"`, null outside the
    /// Date range), which is what a Node node would send its clients;
    /// ext type 1 (notepack's BigInt as decimal text) → that text as a string;
    /// any other ext → `[type, binary]`, the array notepack returns for it;
    /// map keys → strings as JavaScript writes them (`1` → "1", `true` → "true"), the last of a
    /// repeated key winning at the first one's place (JavaScript assignment order).
    public init(messagePack value: MessagePackValue) throws(RedisAdapterError) {
        switch value {
        case .nil: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let n): self = .number(Double(n))
        case .uint(let n): self = .number(Double(n))
        case .float(let n): self = .number(n)
        case .string(let s): self = .string(s)
        case .binary(let b): self = .binary(b)
        case .array(let elements):
            var out: [JSONValue] = []
            out.reserveCapacity(elements.count)
            for element in elements { out.append(try JSONValue(messagePack: element)) }
            self = .array(out)
        case .map(let map):
            self = .object(try Self.object(from: map))
        case .ext(let type, let data):
            if type == 1 {
                self = .string(String(decoding: data, as: UTF8.self))
            } else {
                self = .array([.number(Double(type)), .binary(ByteBuffer(bytes: data))])
            }
        case .timestamp(let seconds, let nanoseconds):
            if let text = JavaScriptDate.isoString(seconds: seconds, nanoseconds: nanoseconds) {
                self = .string(text)
            } else {
                self = .null
            }
        }
    }

    /// Objects with more keys than this find repeated keys through a hash table.
    static let linearKeyScan = 8

    static func object(from map: MessagePackMap) throws(RedisAdapterError) -> JSONObject {
        var entries: [(key: String, value: JSONValue)] = []
        entries.reserveCapacity(map.count)
        var positions: [String: Int] = [:]
        for entry in map.entries {
            let key: String
            switch entry.key {
            case .string(let s): key = s
            case .int(let n): key = JavaScriptNumber.string(Double(n))
            case .uint(let n): key = JavaScriptNumber.string(Double(n))
            case .float(let n): key = JavaScriptNumber.string(n)
            case .bool(let b): key = b ? "true" : "false"
            case .nil: key = "null"
            default: throw RedisAdapterError(.unsupportedMapKey)
            }
            let value = try JSONValue(messagePack: entry.value)
            // Linear for the usual handful of keys, hashed beyond, so a 500,000-key map costs
            // linear time, not quadratic.
            let existing: Int?
            if positions.isEmpty, entries.count < linearKeyScan {
                existing = entries.firstIndex { $0.key == key }
            } else {
                if positions.isEmpty {
                    for (position, e) in entries.enumerated() { positions[e.key] = position }
                }
                existing = positions[key]
            }
            if let existing {
                entries[existing].value = value
            } else {
                if !positions.isEmpty { positions[key] = entries.count }
                entries.append((key, value))
            }
        }
        return JSONObject(entries)
    }

    /// The value as JSON.stringify writes it on a Node peer, for messages that travel as JSON:
    /// a binary value becomes `{"type":"Buffer","data":[…]}` (Buffer.prototype.toJSON) instead
    /// of JSONValue's `null`.
    var nodeJSONCompatible: JSONValue {
        switch self {
        case .binary(let bytes):
            return .object(
                JSONObject([
                    (key: "type", value: .string("Buffer")),
                    (key: "data", value: .array(bytes.readableBytesView.map { .number(Double($0)) })),
                ]))
        case .array(let elements):
            return .array(elements.map(\.nodeJSONCompatible))
        case .object(let object):
            return .object(JSONObject(object.entries.map { (key: $0.key, value: $0.value.nodeJSONCompatible) }))
        default:
            return self
        }
    }
}
