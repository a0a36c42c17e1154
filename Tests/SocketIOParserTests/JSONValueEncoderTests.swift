import Foundation
import SocketIOParser
import Testing

/// `JSONValueEncoder` gives what the JSON-text path (`JSONEncoder`, then the parser) gives.
@Suite struct JSONValueEncoderTests {
    static func viaText(_ value: some Encodable) throws -> JSONValue { try JSONValue.parse(JSONEncoder().encode(value)) }

    enum Role: String, Codable { case owner, admin }

    struct Seat: Codable {
        var index: Int
        var userId: Int?
        var muted: Bool
        var role: Role?
        var level: Double
    }

    struct Event: Encodable {
        var roomId: String
        var seats: [Seat]
        var counts: [String: Int]
        var byId: [Int: String]
        var small: Int8
        var wide: UInt32
        var big: Int64
        var tags: Set<String>
        var nested: [[Int]]
        var when: Date
        var blob: Data
        var link: URL
        var any: JSONValue
    }

    class Base: Encodable {
        var id = 7
    }

    final class Derived: Base {
        var name = "d"
        enum CodingKeys: String, CodingKey { case name }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try super.encode(to: container.superEncoder())
        }
    }

    struct Manual: Encodable {
        enum Keys: String, CodingKey { case a, list, inner }
        func encode(to encoder: any Encoder) throws {
            var keyed = encoder.container(keyedBy: Keys.self)
            var list = keyed.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            try list.encodeNil()
            var inner = list.nestedContainer(keyedBy: Keys.self)
            try inner.encode("x", forKey: .a)
            try keyed.encode(true, forKey: .a)
            var again = keyed.nestedContainer(keyedBy: Keys.self, forKey: .inner)
            try again.encodeNil(forKey: .a)
        }
    }

    @Test func payloadsMatchTheTextPath() throws {
        let event = Event(
            roomId: "r1",
            seats: [
                Seat(index: 0, userId: 42, muted: false, role: .owner, level: -12.5), Seat(index: 1, userId: nil, muted: true, role: nil, level: 0),
            ],
            counts: ["a": 1, "b": 2], byId: [3: "c"], small: -8, wide: 4_000_000_000, big: 9_007_199_254_740_993, tags: ["x"],
            nested: [[1, 2], []], when: Date(timeIntervalSinceReferenceDate: 1234.5), blob: Data([0, 255, 7]),
            link: URL(string: "https://example.com/a?b=c")!, any: .object(JSONObject([("k", .array([.null, .bool(true), .string("é")]))])))
        #expect(try JSONValueEncoder.encode(event) == Self.viaText(event))
        #expect(try JSONValueEncoder.encode(Derived()) == Self.viaText(Derived()))
        #expect(try JSONValueEncoder.encode(Manual()) == Self.viaText(Manual()))
        for value in [1, -1, 0] { #expect(try JSONValueEncoder.encode(value) == Self.viaText(value)) }
        #expect(try JSONValueEncoder.encode("top") == Self.viaText("top"))
        #expect(try JSONValueEncoder.encode([Seat]()) == Self.viaText([Seat]()))
        let optional: Int? = nil
        #expect(try JSONValueEncoder.encode(optional) == Self.viaText(optional))
    }

    @Test func keysKeepTheirEncodingOrder() throws {
        let value = try JSONValueEncoder.encode(Seat(index: 1, userId: 2, muted: false, role: .admin, level: 1))
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == ["index", "userId", "muted", "role", "level"])
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteNumbersAreErrors(number: Double) {
        #expect(throws: EncodingError.self) { _ = try JSONValueEncoder.encode(["x": number]) }
        #expect(throws: EncodingError.self) { _ = try JSONValueEncoder.encode(Seat(index: 0, userId: nil, muted: false, role: nil, level: number)) }
    }

    /// Says a different thing through `jsonValue` than through `encode(to:)`, so the test sees
    /// which one the encoder took.
    struct Direct: JSONValueConvertible {
        var id: Int
        var jsonValue: JSONValue { .object(JSONObject([("direct", .number(Double(id)))])) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode("via Encoder")
        }
    }

    struct Holder: Encodable {
        var one: Direct
        var many: [Direct]
        var missing: Direct?
    }

    @Test func aConvertibleIsTakenAsItsJSONValueAtAnyDepth() throws {
        #expect(try JSONValueEncoder.encode(Direct(id: 1)) == ["direct": 1])
        let holder = Holder(one: Direct(id: 1), many: [Direct(id: 2), Direct(id: 3)], missing: nil)
        #expect(try JSONValueEncoder.encode(holder) == ["one": ["direct": 1], "many": [["direct": 2], ["direct": 3]]])
        #expect(try JSONValueEncoder.encode(["k": Direct(id: 4)]) == ["k": ["direct": 4]])
    }

    /// The writer's escapes, against a byte-by-byte reference: every control byte, the quote and the
    /// backslash, at the start, the middle and the end of runs of plain and multi-byte text.
    @Test func stringsAreWrittenWithJSONEscapes() throws {
        func reference(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        var samples = ["", "plain", "é日本🎙", "\"", "\\", "a\"b\\c", "end\n", "\u{01}start", "emoji🎙\u{1F}🎙"]
        samples += (0..<0x20).map { "x" + String(UnicodeScalar(UInt8($0))) + "y" }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab\"\\\n\u{00}\u{1F}é🎙 ")
        for _ in 0..<200 {
            let length = Int.random(in: 0...24, using: &generator)
            samples.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for text in samples {
            let written = JSONValue.string(text).jsonString
            #expect(written == reference(text), "\(Array(text.utf8))")
            #expect(try JSONValue.parse(written) == .string(text))
        }
    }
}
