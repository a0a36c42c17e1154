// MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md), hand-written: no msgpack
// package is available on these machines (../shared/redis-adapter.md, "Facts that shape the
// design"), and the Socket.IO Redis adapter only needs the subset notepack.io speaks
// (darrachequesne/notepack `lib/encode.js` / `lib/decode.js`, 3.0.x). The encoder writes exactly
// what notepack writes for the same JavaScript value; the decoder reads every format byte of the
// spec plus notepack's legacy extensions, and treats its input as hostile (MessagePackLimits).

public import NIOCore

/// One MessagePack value.
///
/// Integers: the decoder yields `.int` for every integer that fits in Int64 (whatever format it
/// arrived in) and `.uint` only above Int64.max, so one number has one decoded representation;
/// the encoder writes both cases in the smallest format, as notepack does.
public enum MessagePackValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    /// Always written as float64 (0xcb), as notepack writes every non-integer number; a float32
    /// (0xca) from another encoder is decoded into this case too.
    case float(Double)
    case string(String)
    /// A zero-copy slice of the decoded message (bin 8/16/32, and notepack's legacy ext type 0).
    case binary(ByteBuffer)
    case array([MessagePackValue])
    case map(MessagePackMap)
    /// An extension type the codec does not interpret (everything except −1 and notepack's 0).
    case ext(type: Int8, data: [UInt8])
    /// The timestamp extension (type −1); `nanoseconds` is below 1,000,000,000 in a valid value.
    case timestamp(seconds: Int64, nanoseconds: UInt32)

    /// The integer as an Int64, from either integer case; nil for anything else or above Int64.max.
    public var int64Value: Int64? {
        switch self {
        case .int(let value): return value
        case .uint(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    /// Any number as a Double (as JavaScript sees it after notepack decodes it).
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .uint(let value): return Double(value)
        case .float(let value): return value
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [MessagePackValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var mapValue: MessagePackMap? {
        if case .map(let value) = self { return value }
        return nil
    }

    public var isNil: Bool { self == .nil }

    /// The value under a string key of a map; nil otherwise.
    public subscript(key: String) -> MessagePackValue? {
        if case .map(let map) = self { return map[key] }
        return nil
    }
}

extension MessagePackValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .nil }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: MessagePackValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (MessagePackValue, MessagePackValue)...) {
        self = .map(MessagePackMap(elements.map { (key: $0.0, value: $0.1) }))
    }
}
