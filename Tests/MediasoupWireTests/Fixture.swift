import Foundation
import Testing

@testable import MediasoupWire

/// Loads the real pymediasoup captures from `Fixtures/` (copied from shared/fixtures/pymediasoup).
enum Fixture {
    static func object(_ name: String) throws -> [String: Any] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The JSON text of one member of a fixture file (`path` walks nested objects).
    static func json(_ name: String, _ path: String...) throws -> Data {
        var value: Any = try object(name)
        for key in path {
            value = try #require((value as? [String: Any])?[key], "missing \(key) in \(name)")
        }
        return try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
    }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String, _ path: String...) throws -> T {
        var value: Any = try object(name)
        for key in path {
            value = try #require((value as? [String: Any])?[key], "missing \(key) in \(name)")
        }
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// JSON text in a canonical form (sorted keys) so two documents can be compared as strings.
/// Integers and booleans keep their JSON spelling, so `1` vs `1.0` vs `true` differences show.
func canonicalJSON(_ data: Data) throws -> String {
    let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    let canonical = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: canonical, as: UTF8.self)
}

func encodeJSON(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(text.utf8))
}
