import Foundation

// Bridges between `JSONValue` and Codable types. Decoding answers what JSON text and Foundation's
// JSONDecoder would (directly where it can be sure of that, see `JSONValueDecoder`), whose
// strictness is what payload validation wants: a JSON string is never an Int,
// `true` is never a number, a missing key is an error. Encoding (trusted values of our own types)
// goes straight to a JSONValue.

extension JSONValue {
    /// Encodes any Encodable value (an event payload) into a JSONValue, directly (see
    /// ``JSONValueEncoder``: what JSONEncoder's text would parse to, without the text).
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoder.encode(value)
    }

    /// Decodes a Codable type from this value: directly where ``JSONValueDecoder`` is sure to
    /// agree with the text path, else (and for every error) through the text.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = JSONValueDecoder.decodeIfSure(T.self, from: self) { return value }
        var bytes: [UInt8] = []
        write(into: &bytes)
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null, .binary: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9e15 { try container.encode(Int64(n)) } else { try container.encode(n) }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o):
            var keyed = encoder.container(keyedBy: DynamicKey.self)
            for entry in o.entries { try keyed.encode(entry.value, forKey: DynamicKey(entry.key)) }
        }
    }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
