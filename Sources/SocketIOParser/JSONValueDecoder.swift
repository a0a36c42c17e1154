import Foundation

/// Decodes a `Decodable` straight from a ``JSONValue``, for the values where that gives exactly
/// what the text path (write the JSON, then Foundation's `JSONDecoder`) gives; ``JSONValue/decode(_:)``
/// falls back to the text path for everything else.
///
/// Every event payload the server receives is decoded; going through JSON text and
/// `JSONDecoder` cost more than the rest of an `audio:consume` (whose payload carries the
/// client's RTP capabilities). The text path's strictness stays the rule: a string is never an
/// Int, `true` is never a number, a missing key is an error, an integer type takes only an
/// integral number that fits.
///
/// The rule that keeps the two paths equal: this decoder only answers what it is sure the text
/// path would answer the same way. Where it is not sure (a number too large to be sure of its
/// text, `Float`, `Date`, `Data`, `URL`, `Decimal`, a binary value, `superDecoder`), it marks the
/// whole decode ``Unsure`` and throws. A failure swallowed by a payload's own `try?` (a codec
/// parameter tried as Bool, then Int, then Double) cannot hide that: the mark stays, and the
/// caller decodes the text instead. A failure the text path would also have (a type mismatch, a
/// missing key) is thrown as a plain `DecodingError`; the caller then decodes the text anyway, so
/// error messages are always Foundation's.
public enum JSONValueDecoder {
    /// Thrown (and marked) when this decoder cannot vouch for the text path's answer.
    public struct Unsure: Error {}

    /// The decoded value, or nil when the text path must decide (an error, or an unsure answer).
    public static func decodeIfSure<T: Decodable>(_ type: T.Type, from value: JSONValue) -> T? {
        let state = State()
        guard let result = try? ValueDecoder(value: value, parent: nil, key: nil, state: state).decodeValue(T.self), !state.unsure else {
            return nil
        }
        return result
    }

    /// Shared by every container of one decode: whether any answer was unsure.
    final class State {
        var unsure = false

        /// Marks the decode unsure; the error to throw from where it was found.
        func mark() -> Unsure {
            unsure = true
            return Unsure()
        }
    }

    /// A container's place in the value, linked to its parent's: made once per container, not
    /// per field (a `codingPath` array per field was most of a decode's allocations), and turned
    /// into an array only when asked (errors, which the text path describes anyway).
    final class PathNode {
        let parent: PathNode?
        let key: any CodingKey
        init(parent: PathNode?, key: any CodingKey) {
            self.parent = parent
            self.key = key
        }

        static func path(_ node: PathNode?) -> [any CodingKey] {
            var keys: [any CodingKey] = []
            var node = node
            while let current = node {
                keys.append(current.key)
                node = current.parent
            }
            return keys.reversed()
        }
    }

    /// Integers up to this magnitude are written as plain digits and parse back exactly on either
    /// path; beyond it the decoder does not guess.
    static let integerBound = 1e15

    struct ValueDecoder: Decoder {
        let value: JSONValue
        /// The enclosing container's place, and this value's key in it (nil at the top).
        let parent: PathNode?
        let key: (any CodingKey)?
        let state: State
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        var codingPath: [any CodingKey] { PathNode.path(parent) + (key.map { [$0] } ?? []) }

        /// This value's place, for a container it opens.
        private var node: PathNode? { key.map { PathNode(parent: parent, key: $0) } ?? parent }

        func unsure() -> Unsure { state.mark() }

        func mismatch(_ type: Any.Type) -> DecodingError {
            .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "type mismatch"))
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            switch value {
            case .object(let object): return KeyedDecodingContainer(Keyed<Key>(object: object, node: node, state: state))
            case .binary: throw unsure()
            default: throw mismatch([String: Any].self)
            }
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            switch value {
            case .array(let array): return Unkeyed(array: array, node: node, state: state)
            case .binary: throw unsure()
            default: throw mismatch([Any].self)
            }
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        /// `T` decoded from this value: primitives directly, Foundation's special types unsure,
        /// anything else through its own `init(from:)`.
        func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
            if T.self == String.self { return try decode(String.self) as! T }
            if T.self == Int.self { return try decode(Int.self) as! T }
            if T.self == Bool.self { return try decode(Bool.self) as! T }
            if T.self == Double.self { return try decode(Double.self) as! T }
            if case .binary = value { throw unsure() }
            if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self || T.self == Float.self {
                throw unsure()
            }
            return try T(from: self)
        }

        func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            guard case .number(let n) = value else { throw failure(type) }
            guard n.rounded() == n else { throw mismatch(type) }
            guard abs(n) < JSONValueDecoder.integerBound else { throw unsure() }
            guard let integer = I(exactly: n) else { throw mismatch(type) }
            return integer
        }

        /// A null is "not found", a binary value unsure, anything else a mismatch: as the text path
        /// would fail (never a success it would not have).
        func failure(_ type: Any.Type) -> any Error {
            switch value {
            case .null: DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "null"))
            case .binary: unsure()
            default: mismatch(type)
            }
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let node: PathNode?
        let state: State
        var codingPath: [any CodingKey] { PathNode.path(node) }

        var allKeys: [Key] { object.entries.compactMap { Key(stringValue: $0.key) } }

        func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

        func child(_ key: Key) throws -> ValueDecoder {
            guard let value = object[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing key"))
            }
            return ValueDecoder(value: value, parent: node, key: key, state: state)
        }

        func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(type) }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let value = object[key.stringValue], value != .null else { return nil }
            return try ValueDecoder(value: value, parent: node, key: key, state: state).decodeValue(type)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try child(key).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }

        func superDecoder() throws -> any Decoder { throw state.mark() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw state.mark() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let array: [JSONValue]
        let node: PathNode?
        let state: State
        var currentIndex = 0
        var codingPath: [any CodingKey] { PathNode.path(node) }

        var count: Int? { array.count }
        var isAtEnd: Bool { currentIndex >= array.count }

        /// The current element's decoder; the index moves on only when its decode succeeds.
        func current<T>(_ type: T.Type) throws -> ValueDecoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "unkeyed container is at end"))
            }
            return ValueDecoder(value: array[currentIndex], parent: node, key: IndexKey(currentIndex), state: state)
        }

        mutating func decodeNil() throws -> Bool {
            guard try current(Any?.self).decodeNil() else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let value = try current(type).decodeValue(type)
            currentIndex += 1
            return value
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let container = try current(type).container(keyedBy: type)
            currentIndex += 1
            return container
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let container = try current([Any].self).unkeyedContainer()
            currentIndex += 1
            return container
        }

        mutating func superDecoder() throws -> any Decoder { throw state.mark() }
    }

    struct IndexKey: CodingKey {
        let intValue: Int?
        var stringValue: String { "Index \(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }
}

extension JSONValueDecoder.ValueDecoder: SingleValueDecodingContainer {
    /// A binary value marks the decode unsure (the text path writes it as null).
    func decodeNil() -> Bool {
        if case .binary = value { _ = unsure() }
        return value == .null
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw failure(type) }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw failure(type) }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let n) = value, n.isFinite else { throw failure(type) }
        // The text path writes -0 as "0".
        return n == 0 ? 0 : n
    }

    func decode(_ type: Float.Type) throws -> Float { throw unsure() }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}
