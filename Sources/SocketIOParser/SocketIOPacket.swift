public import NIOCore

// Socket.IO protocol v5 packets (docs/socket.io-protocol/v5-current.md, "Packet format"):
//
//   <packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment id>][JSON-stringified payload]
//
//   type          | id | payload
//   --------------+----+--------------------------------------------------------------
//   CONNECT       |  0 | (client) auth object, (server) {"sid": …}
//   DISCONNECT    |  1 | none
//   EVENT         |  2 | ["name", …args]
//   ACK           |  3 | [...args]
//   CONNECT_ERROR |  4 | {"message": …, "data"?: …}
//   BINARY_EVENT  |  5 | like EVENT, binary parts replaced by {"_placeholder":true,"num":N}
//   BINARY_ACK    |  6 | like ACK, idem
//
// The namespace "/" is omitted; any other is written followed by a comma. A binary packet is
// followed by its attachments, one Engine.IO binary message each, in placeholder order.

public enum SocketIOPacketType: UInt8, Sendable, Hashable {
    case connect = 0, disconnect, event, ack, connectError, binaryEvent, binaryAck
}

public struct SocketIOPacket: Sendable, Hashable {
    public var type: SocketIOPacketType
    public var namespace: String
    public var id: Int?
    public var data: JSONValue?

    public init(type: SocketIOPacketType, namespace: String = "/", id: Int? = nil, data: JSONValue? = nil) {
        self.type = type
        self.namespace = namespace
        self.id = id
        self.data = data
    }

    /// The event name of an EVENT packet as socket.io dispatches it: the first element when it is
    /// a string; when it is a number (socket.io-parser accepts one), the number as JavaScript's
    /// `String(n)` writes it, since EventEmitter keys are strings: `[1e300]` is "1e+300", `[3]` is "3".
    public var eventName: String? {
        guard case .array(let items)? = data, let first = items.first else { return nil }
        switch first {
        case .string(let name): return name
        case .number(let n): return JavaScriptNumber.string(n)
        default: return nil
        }
    }
}

public struct SocketIOParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "Socket.IO parse error: \(reason)" }
}

/// Event names a client may not emit, as socket.io reserves them.
public let socketIOReservedEvents: Set<String> = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]

public enum SocketIOCodec {
    /// At most this many attachments in one packet: socket.io-parser's `maxAttachments` default
    /// (it answers "too many attachments" and the server closes the connection).
    public static let maximumAttachments = 10

    /// The largest ack id accepted: JavaScript's Number.MAX_SAFE_INTEGER. A larger id cannot be
    /// echoed back exactly by a JavaScript peer, so it makes the packet invalid.
    public static let maximumAckId = 9_007_199_254_740_991

    // MARK: - encoding

    /// Encodes a packet: the text part, then the binary attachments (Engine.IO binary messages).
    /// Packets whose data holds binary become BINARY_EVENT / BINARY_ACK automatically.
    public static func encode(_ packet: SocketIOPacket) -> (text: String, attachments: [ByteBuffer]) {
        var type = packet.type
        var attachments: [ByteBuffer] = []
        var data = packet.data
        if let d = data, d.containsBinary {
            data = deconstruct(d, into: &attachments)
            if type == .event { type = .binaryEvent }
            if type == .ack { type = .binaryAck }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        out.append(UInt8(ascii: "0") + type.rawValue)
        if type == .binaryEvent || type == .binaryAck {
            out.append(contentsOf: String(attachments.count).utf8)
            out.append(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            out.append(contentsOf: packet.namespace.utf8)
            out.append(UInt8(ascii: ","))
        }
        if let id = packet.id { out.append(contentsOf: String(id).utf8) }
        data?.write(into: &out)
        return (String(decoding: out, as: UTF8.self), attachments)
    }

    /// Replaces binary values by placeholders, depth first (socket.io-parser's deconstructPacket).
    static func deconstruct(_ value: JSONValue, into attachments: inout [ByteBuffer]) -> JSONValue {
        switch value {
        case .binary(let bytes):
            attachments.append(bytes)
            return .object(JSONObject([("_placeholder", .bool(true)), ("num", .number(Double(attachments.count - 1)))]))
        case .array(let array):
            return .array(array.map { deconstruct($0, into: &attachments) })
        case .object(let object):
            return .object(JSONObject(object.entries.map { ($0.key, deconstruct($0.value, into: &attachments)) }))
        default:
            return value
        }
    }

    // MARK: - decoding

    /// The text part of a packet; for binary packets, `attachments` says how many binary messages follow.
    public struct Header: Sendable, Hashable {
        public var packet: SocketIOPacket
        public var attachments: Int
    }

    public static func decode(_ text: String) throws(SocketIOParseError) -> Header {
        var utf8 = Array(text.utf8)
        return try utf8.withUnsafeMutableBufferPointer { buffer throws(SocketIOParseError) -> Header in
            try decode(UnsafeBufferPointer(buffer))
        }
    }

    /// Linear in the packet's length and never traps, whatever a peer sends: counts and ids are
    /// read digit by digit with a bound checked before each step; the JSON goes through
    /// `JSONParseLimits.wire`.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(SocketIOParseError) -> Header {
        var i = 0
        guard bytes.count > 0, bytes[0] >= UInt8(ascii: "0"), let type = SocketIOPacketType(rawValue: bytes[0] &- UInt8(ascii: "0")) else {
            throw SocketIOParseError("unknown packet type")
        }
        i = 1
        var attachments = 0
        if type == .binaryEvent || type == .binaryAck {
            let start = i
            var count = 0
            while i < bytes.count, bytes[i] != UInt8(ascii: "-") {
                guard let digit = Self.digit(bytes[i]) else { throw SocketIOParseError("illegal attachments") }
                count = count &* 10 &+ digit
                guard count <= maximumAttachments else { throw SocketIOParseError("too many attachments") }
                i += 1
            }
            guard i < bytes.count, i > start else { throw SocketIOParseError("illegal attachments") }
            attachments = count
            i += 1
        }
        var namespace = "/"
        if i < bytes.count, bytes[i] == UInt8(ascii: "/") {
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: ",") { i += 1 }
            namespace = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            if i < bytes.count { i += 1 }
        }
        var id: Int?
        if i < bytes.count, Self.digit(bytes[i]) != nil {
            var value = 0
            while i < bytes.count, let digit = Self.digit(bytes[i]) {
                // value ≤ 2^53 - 1 here, so value * 10 + 9 cannot overflow.
                value = value &* 10 &+ digit
                guard value <= maximumAckId else { throw SocketIOParseError("illegal id") }
                i += 1
            }
            id = value
        }
        var data: JSONValue?
        if i < bytes.count {
            do {
                data = try JSONValue.parse(buffer: UnsafeBufferPointer(rebasing: bytes[i...]), limits: .wire)
            } catch {
                throw SocketIOParseError("invalid payload")
            }
        }
        let packet = SocketIOPacket(type: type, namespace: namespace, id: id, data: data)
        guard isPayloadValid(packet) else { throw SocketIOParseError("invalid payload") }
        return Header(packet: packet, attachments: attachments)
    }

    static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte &- UInt8(ascii: "0")) : nil
    }

    /// socket.io-parser's `isPayloadValid`.
    static func isPayloadValid(_ packet: SocketIOPacket) -> Bool {
        switch packet.type {
        case .connect:
            guard let data = packet.data else { return true }
            if case .object = data { return true }
            return false
        case .disconnect:
            return packet.data == nil
        case .connectError:
            guard let data = packet.data else { return false }
            if case .object = data { return true }
            if case .string = data { return true }
            return false
        case .event, .binaryEvent:
            guard case .array(let array)? = packet.data, let first = array.first else { return false }
            if case .number = first { return true }
            if case .string(let name) = first { return !socketIOReservedEvents.contains(name) }
            return false
        case .ack, .binaryAck:
            guard case .array? = packet.data else { return false }
            return packet.id != nil
        }
    }

    /// Puts attachments back in place of their placeholders. Throws on a placeholder that points nowhere.
    public static func reconstruct(_ value: JSONValue, attachments: [ByteBuffer]) throws(SocketIOParseError) -> JSONValue {
        switch value {
        case .object(let object):
            if object.count == 2, object["_placeholder"] == .bool(true), let num = object["num"]?.intValue {
                guard attachments.indices.contains(num) else { throw SocketIOParseError("illegal attachment index") }
                return .binary(attachments[num])
            }
            var entries: [(key: String, value: JSONValue)] = []
            entries.reserveCapacity(object.count)
            for entry in object.entries { entries.append((entry.key, try reconstruct(entry.value, attachments: attachments))) }
            return .object(JSONObject(entries))
        case .array(let array):
            var out: [JSONValue] = []
            out.reserveCapacity(array.count)
            for element in array { out.append(try reconstruct(element, attachments: attachments)) }
            return .array(out)
        default:
            return value
        }
    }
}
