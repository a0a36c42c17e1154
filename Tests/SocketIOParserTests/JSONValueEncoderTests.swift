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
}
