public import NIOCore

/// A JSON value as Socket.IO carries it: standard JSON plus binary attachments (which travel as
/// separate Engine.IO messages and are referenced by `{"_placeholder":true,"num":N}` on the wire).
///
/// Objects keep their key order (what the peer sent, or what the server wrote), because clients
/// print and compare payloads and reordering them would be surprising.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
    case binary(ByteBuffer)

    /// The value under `key` of an object; nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The element at `index` of an array; nil otherwise.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The number as an Int, only when it is integral and exactly representable.
    public var intValue: Int? {
        guard case .number(let n) = self, n.rounded() == n, abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int(n)
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Whether the value holds a binary attachment anywhere (it must go as a BINARY_* packet).
    public var containsBinary: Bool {
        switch self {
        case .binary: return true
        case .array(let a): return a.contains { $0.containsBinary }
        case .object(let o): return o.values.contains { $0.containsBinary }
        default: return false
        }
    }
}

/// A JSON object that keeps key order; lookups are linear, which is faster than hashing for the
/// handful of keys a signalling payload has.
public struct JSONObject: Sendable, Hashable, Sequence {
    public var entries: [(key: String, value: JSONValue)]

    public init(_ entries: [(key: String, value: JSONValue)] = []) {
        self.entries = entries
    }

    public subscript(key: String) -> JSONValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    public var keys: [String] { entries.map(\.key) }
    public var values: [JSONValue] { entries.map(\.value) }
    public var count: Int { entries.count }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { entries.makeIterator() }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        // JSON objects are unordered for equality.
        guard lhs.entries.count == rhs.entries.count else { return false }
        return lhs.entries.allSatisfy { entry in rhs[entry.key] == entry.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for key in keys.sorted() {
            hasher.combine(key)
            hasher.combine(self[key])
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}
