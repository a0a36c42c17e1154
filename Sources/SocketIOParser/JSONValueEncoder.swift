import Foundation

/// Encodes an `Encodable` straight into a ``JSONValue``, with what Foundation's `JSONEncoder`
/// (default strategies) would produce, minus the JSON text in between.
///
/// The server encodes every event payload it sends; going through `JSONEncoder` and parsing its
/// output back cost more than the rest of a `room:join` answer. Same results as that path:
/// object keys in encoding order, a nil `encodeIfPresent` leaves the key out, a non-finite
/// number is an error, `Date` as seconds since the reference date, `Data` as base64, `URL` as its
/// absolute string, integers as numbers (Double, like the parser's).
public enum JSONValueEncoder {
    public static func encode(_ value: some Encodable) throws -> JSONValue {
        let root = Node()
        try Node.encode(value, into: root, codingPath: [])
        return root.value
    }

    /// A value under construction: containers hand out child nodes and keep them by reference,
    /// as `JSONEncoder`'s own storage does, so nested containers can be filled in any order.
    final class Node {
        enum Content {
            case empty
            case value(JSONValue)
            case object(keys: [String], nodes: [String: Node])
            case array([Node])
        }

        var content = Content.empty

        var value: JSONValue {
            switch content {
            case .empty: .object(JSONObject())
            case .value(let value): value
            case .object(let keys, let nodes): .object(JSONObject(keys.map { (key: $0, value: nodes[$0]?.value ?? .null) }))
            case .array(let nodes): .array(nodes.map(\.value))
            }
        }

        /// The child node for `key` (an object from now on).
        func child(_ key: String) -> Node {
            var (keys, nodes): ([String], [String: Node])
            if case .object(let k, let n) = content { (keys, nodes) = (k, n) } else { (keys, nodes) = ([], [:]) }
            if let existing = nodes[key] { return existing }
            // Drop the enum's references first: the copies taken above are then unique and
            // grow in place (else every new key copied all the previous ones: quadratic in an
            // object's size).
            content = .empty
            let node = Node()
            keys.append(key)
            nodes[key] = node
            content = .object(keys: keys, nodes: nodes)
            return node
        }

        /// A new last element (an array from now on).
        func appended() -> Node {
            var nodes: [Node]
            if case .array(let existing) = content { nodes = existing } else { nodes = [] }
            // As in `child`: unique before the append (else a 200-element array cost 200 copies).
            content = .empty
            let node = Node()
            nodes.append(node)
            content = .array(nodes)
            return node
        }

        var count: Int {
            if case .array(let nodes) = content { return nodes.count }
            return 0
        }

        static func encode(_ value: some Encodable, into node: Node, codingPath: [any CodingKey]) throws {
            // Primitives first: the containers' generic `encode<T>` also witnesses their Int8,
            // UInt32, … requirements, and a primitive's own `encode(to:)` would call straight back.
            switch value {
            case let string as String: node.content = .value(.string(string))
            case let bool as Bool: node.content = .value(.bool(bool))
            case let double as Double: node.content = .value(try number(double, codingPath: codingPath))
            case let float as Float: node.content = .value(try number(Double(float), codingPath: codingPath))
            case let integer as any BinaryInteger: node.content = .value(.number(Double(integer)))
            case let value as JSONValue: node.content = .value(value)
            case let date as Date: node.content = .value(.number(date.timeIntervalSinceReferenceDate))
            case let data as Data: node.content = .value(.string(data.base64EncodedString()))
            case let url as URL: node.content = .value(.string(url.absoluteString))
            case let decimal as Decimal: node.content = .value(.number(NSDecimalNumber(decimal: decimal).doubleValue))
            case let convertible as any JSONValueConvertible: node.content = .value(convertible.jsonValue)
            default: try value.encode(to: ValueEncoder(node: node, codingPath: codingPath))
            }
        }

        static func number(_ value: Double, codingPath: [any CodingKey]) throws -> JSONValue {
            guard value.isFinite else {
                throw EncodingError.invalidValue(
                    value, .init(codingPath: codingPath, debugDescription: "Unable to encode \(value) directly in JSON."))
            }
            return .number(value)
        }
    }

    struct ValueEncoder: Encoder {
        let node: Node
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if case .object = node.content {} else { node.content = .object(keys: [], nodes: [:]) }
            return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if case .array = node.content {} else { node.content = .array([]) }
            return Unkeyed(node: node, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        func encodeNil(forKey key: Key) throws { node.child(key.stringValue).content = .value(.null) }
        func encode(_ value: Bool, forKey key: Key) throws { node.child(key.stringValue).content = .value(.bool(value)) }
        func encode(_ value: String, forKey key: Key) throws { node.child(key.stringValue).content = .value(.string(value)) }
        func encode(_ value: Double, forKey key: Key) throws {
            node.child(key.stringValue).content = .value(try Node.number(value, codingPath: codingPath + [key]))
        }
        func encode(_ value: Float, forKey key: Key) throws {
            node.child(key.stringValue).content = .value(try Node.number(Double(value), codingPath: codingPath + [key]))
        }
        func encode(_ value: Int, forKey key: Key) throws { node.child(key.stringValue).content = .value(.number(Double(value))) }
        func encode(_ value: Int64, forKey key: Key) throws { node.child(key.stringValue).content = .value(.number(Double(value))) }
        func encode(_ value: UInt64, forKey key: Key) throws { node.child(key.stringValue).content = .value(.number(Double(value))) }
        func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try Node.encode(value, into: node.child(key.stringValue), codingPath: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            ValueEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }

        func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            ValueEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superEncoder() -> any Encoder { ValueEncoder(node: node.child("super"), codingPath: codingPath) }
        func superEncoder(forKey key: Key) -> any Encoder { ValueEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var count: Int { node.count }

        func encodeNil() throws { node.appended().content = .value(.null) }
        func encode(_ value: Bool) throws { node.appended().content = .value(.bool(value)) }
        func encode(_ value: String) throws { node.appended().content = .value(.string(value)) }
        func encode(_ value: Double) throws { node.appended().content = .value(try Node.number(value, codingPath: codingPath)) }
        func encode(_ value: Int) throws { node.appended().content = .value(.number(Double(value))) }
        func encode<T: Encodable>(_ value: T) throws { try Node.encode(value, into: node.appended(), codingPath: codingPath) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            ValueEncoder(node: node.appended(), codingPath: codingPath).container(keyedBy: keyType)
        }

        func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            ValueEncoder(node: node.appended(), codingPath: codingPath).unkeyedContainer()
        }

        func superEncoder() -> any Encoder { ValueEncoder(node: node.appended(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]

        func encodeNil() throws { node.content = .value(.null) }
        func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
        func encode(_ value: String) throws { node.content = .value(.string(value)) }
        func encode(_ value: Double) throws { node.content = .value(try Node.number(value, codingPath: codingPath)) }
        func encode(_ value: Float) throws { node.content = .value(try Node.number(Double(value), codingPath: codingPath)) }
        func encode(_ value: Int) throws { node.content = .value(.number(Double(value))) }
        func encode(_ value: Int64) throws { node.content = .value(.number(Double(value))) }
        func encode(_ value: UInt64) throws { node.content = .value(.number(Double(value))) }
        func encode<T: Encodable>(_ value: T) throws { try Node.encode(value, into: node, codingPath: codingPath) }
    }
}
