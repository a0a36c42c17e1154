// A strict RFC 8259 JSON reader and writer for `JSONValue`, on UTF-8 bytes. Hand-written: Foundation's
// JSONSerialization yields `Any` (losing the distinction between `true` and `1`, and key order),
// and the broadcast path wants to serialize without a detour through it.

public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "JSON parse error at byte \(offset): \(reason)" }
}

/// Bounds on what one JSON document may make the parser build. Parsing is linear in the input
/// whatever the limits (duplicate keys are found through a hash table); the limits bound the
/// recursion and the size of any single object a peer can make us hold.
public struct JSONParseLimits: Sendable, Hashable {
    /// The deepest nesting accepted (a "depth bomb" is refused, never a stack overflow).
    public var maximumDepth: Int
    /// The most distinct keys one object may have.
    public var maximumKeysPerObject: Int

    public init(maximumDepth: Int, maximumKeysPerObject: Int) {
        self.maximumDepth = maximumDepth
        self.maximumKeysPerObject = maximumKeysPerObject
    }

    /// For JSON the server produced itself (`JSONValue(encoding:)`): only the recursion is bounded.
    public static let `default` = JSONParseLimits(maximumDepth: 128, maximumKeysPerObject: .max)
    /// For JSON from peers (Socket.IO packets): no signalling payload nests 64 deep or has
    /// 1,000 keys in one object; an 80,000-key CONNECT is refused after its 1,001st key.
    public static let wire = JSONParseLimits(maximumDepth: 64, maximumKeysPerObject: 1_000)
}

extension JSONValue {
    /// Parses one JSON document (trailing whitespace allowed, nothing else).
    public static func parse<Bytes: Collection>(_ bytes: Bytes, limits: JSONParseLimits = .default) throws(JSONParseError) -> JSONValue
    where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(JSONParseError) -> JSONValue in
            try parse(buffer: buffer, limits: limits)
        }
    }

    public static func parse(_ text: String, limits: JSONParseLimits = .default) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Parses bytes in place (no copy).
    public static func parse(buffer: UnsafeBufferPointer<UInt8>, limits: JSONParseLimits) throws(JSONParseError) -> JSONValue {
        var parser = JSONReader(bytes: buffer, limits: limits)
        parser.skipWhitespace()
        let value = try parser.readValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.error("trailing characters") }
        return value
    }

    /// Compact JSON text. Binary values are written as `{"_placeholder":true,"num":N}` only by the
    /// Socket.IO encoder; here they are an error of the caller and written as null.
    public var jsonString: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): Self.writeNumber(n, into: &out)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in o.entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                entry.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .binary: out.append(contentsOf: "null".utf8)
        }
    }

    static func writeNumber(_ n: Double, into out: inout [UInt8]) {
        guard n.isFinite else {
            // JSON has no NaN/Infinity; JSON.stringify writes null.
            out.append(contentsOf: "null".utf8)
            return
        }
        if n.rounded() == n, abs(n) < 1e17, let integer = Int64(exactly: n) {
            out.append(contentsOf: String(integer).utf8)
        } else {
            // As JSON.stringify writes it (1e+21, 1.5, 1e-7): valid JSON, and what a Node server sent.
            out.append(contentsOf: JavaScriptNumber.string(n).utf8)
        }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A string with JSON's escapes. Runs of bytes that need none (nearly all of them) are
    /// copied at once; the escaped ones are the quote, the backslash and the controls below 0x20.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                writeEscaped(byte, into: &out)
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        default:
            out.append(contentsOf: "u00".utf8)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
}

struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONParseLimits
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONParseLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func readValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < limits.maximumDepth else { throw error("nesting too deep") }
        guard index < bytes.count else { throw error("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try readObject(depth: depth)
        case UInt8(ascii: "["): return try readArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        default: throw error("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { throw error("invalid literal") }
        index += count
    }

    /// Objects with more keys than this find duplicates through a hash table; smaller ones by a scan.
    static let linearKeyScan = 8

    mutating func readObject(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var entries: [(key: String, value: JSONValue)] = []
        // key → position in `entries`, built once the object outgrows a linear scan: duplicate
        // detection stays O(1) per key, so an 80,000-key object costs linear time, not quadratic.
        var positions: [String: Int] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(entries))
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let key = try readString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try readValue(depth: depth + 1)
            let existing: Int?
            if positions.isEmpty, entries.count < Self.linearKeyScan {
                existing = entries.firstIndex { $0.key == key }
            } else {
                if positions.isEmpty {
                    positions.reserveCapacity(entries.count * 2)
                    for (position, entry) in entries.enumerated() { positions[entry.key] = position }
                }
                existing = positions[key]
            }
            if let existing {
                // Duplicate keys: the last value wins at the first key's place, as JSON.parse does.
                entries[existing].value = value
            } else {
                guard entries.count < limits.maximumKeysPerObject else { throw error("too many keys in one object") }
                if !positions.isEmpty { positions[key] = entries.count }
                entries.append((key, value))
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(JSONObject(entries))
            }
            throw error("expected ',' or '}'")
        }
    }

    mutating func readArray(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw error("expected ',' or ']'")
        }
    }

    mutating func readNumber() throws(JSONParseError) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error("bad number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        } else {
            throw error("bad number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw error("bad fraction") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw error("bad exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text) else { throw error("bad number") }
        return value
    }

    mutating func readHex4() throws(JSONParseError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error("bad escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw error("bad hex digit")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    mutating func readString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            guard c >= 0x20 else { throw error("control character in string") }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let c = bytes[index]
            switch c {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("bad escape") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalarValue = UInt32(try readHex4())
                    if (0xD800...0xDBFF).contains(scalarValue) {
                        // A high surrogate must be followed by \u and a low one; a lone one becomes U+FFFD.
                        if index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                            let save = index
                            index += 2
                            let low = UInt32(try readHex4())
                            if (0xDC00...0xDFFF).contains(low) {
                                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                index = save
                                scalarValue = 0xFFFD
                            }
                        } else {
                            scalarValue = 0xFFFD
                        }
                    } else if (0xDC00...0xDFFF).contains(scalarValue) {
                        scalarValue = 0xFFFD
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalarValue) ?? "\u{FFFD}").utf8)
                default: throw error("bad escape")
                }
            default:
                guard c >= 0x20 else { throw error("control character in string") }
                out.append(c)
                index += 1
            }
        }
        throw error("unterminated string")
    }
}
