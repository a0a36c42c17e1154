import NIOCore

/// One reply (or push) from a Redis server, RESP2 and RESP3 (the grammar is next to `RESPDecoder`).
///
/// RESP2's two nulls (`$-1`, `*-1`) and RESP3's `_` all decode to `.null`: no caller has a reason
/// to tell them apart. Values are trees of bounded depth when they come from `RESPDecoder`.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR …` and the RESP3 blob error `!`: the text after the type byte.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5 hello`: binary-safe.
    case bulkString(ByteBuffer)
    /// `$-1`, `*-1`, `_`
    case null
    /// `*N …`
    case array([RESPValue])
    /// RESP3 `,3.14`, `,inf`, `,-inf`, `,nan`
    case double(Double)
    /// RESP3 `#t` / `#f`
    case boolean(Bool)
    /// RESP3 `(3492890328409238509324850943850943825024385`: kept as its decimal text (optional `-`).
    case bigNumber(String)
    /// RESP3 `=15 txt:Some string`: the text after the three-letter format and its `:` (the format
    /// only tells a terminal how to show it).
    case verbatimString(String)
    /// RESP3 `%N` key/value pairs, in wire order.
    case map([RESPPair])
    /// RESP3 `~N`
    case set([RESPValue])
    /// RESP3 `>N`: out-of-band data (pub/sub messages, invalidations), never a command's reply.
    case push([RESPValue])
    /// RESP3 `|N` attributes followed by the value they describe; the attribute map comes first.
    indirect case attribute([RESPPair], RESPValue)

    /// The value without any attributes wrapped around it.
    public var withoutAttributes: RESPValue {
        var value = self
        while case .attribute(_, let inner) = value { value = inner }
        return value
    }

    /// Text of a simple, bulk or verbatim string (bulk bytes that are not UTF-8 are repaired with
    /// U+FFFD; use `bytes` for binary data).
    public var string: String? {
        switch withoutAttributes {
        case .simpleString(let text), .verbatimString(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        default: nil
        }
    }

    /// An integer reply, or a string reply that is a decimal integer (`GET` of a counter).
    public var int: Int64? {
        switch withoutAttributes {
        case .integer(let value): value
        case .simpleString(let text): Int64(text)
        case .bulkString(let buffer): Int64(String(buffer: buffer))
        default: nil
        }
    }

    /// The elements of an array, set or push.
    public var array: [RESPValue]? {
        switch withoutAttributes {
        case .array(let elements), .set(let elements), .push(let elements): elements
        default: nil
        }
    }

    /// The bytes of a bulk string (or of a simple string's text).
    public var bytes: ByteBuffer? {
        switch withoutAttributes {
        case .bulkString(let buffer): buffer
        case .simpleString(let text): ByteBuffer(string: text)
        default: nil
        }
    }

    /// The pairs of a RESP3 map, or of a RESP2 flat array of even length (`HGETALL`, `CONFIG GET`).
    public var pairs: [RESPPair]? {
        switch withoutAttributes {
        case .map(let pairs): return pairs
        case .array(let elements) where elements.count % 2 == 0:
            return stride(from: 0, to: elements.count, by: 2).map { RESPPair(key: elements[$0], value: elements[$0 + 1]) }
        default: return nil
        }
    }

    /// `.null` (any of the three wire forms).
    public var isNull: Bool { withoutAttributes == .null }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case .error(let message) = withoutAttributes { message } else { nil }
    }
}

extension RESPValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let text): return "+\(text)"
        case .error(let text): return "-\(text)"
        case .integer(let value): return ":\(value)"
        case .bulkString(let buffer): return "$\(buffer.readableBytes):\(String(buffer: buffer).debugDescription)"
        case .null: return "_"
        case .array(let elements): return "*[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .double(let value): return ",\(value)"
        case .boolean(let value): return value ? "#t" : "#f"
        case .bigNumber(let text): return "(\(text)"
        case .verbatimString(let text): return "=\(text.debugDescription)"
        case .map(let pairs): return "%{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .set(let elements): return "~[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .push(let elements): return ">[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .attribute(let pairs, let value): return "|{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "} \(value)"
        }
    }
}
