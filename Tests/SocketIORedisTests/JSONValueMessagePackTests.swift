import MessagePack
import NIOCore
import SocketIOParser
import SocketIORedis
import TestSupport
import Testing

@Suite struct JSONValueMessagePackTests {
    @Test func numbersAsNotepackWritesThem() {
        let cases: [(Double, MessagePackValue)] = [
            (0, .int(0)), (-0.0, .int(0)), (127, .int(127)), (-33, .int(-33)), (65536, .int(65536)),
            (9_007_199_254_740_992, .int(9_007_199_254_740_992)), (-9_007_199_254_740_992, .int(-9_007_199_254_740_992)),
            (9_007_199_254_740_994, .float(9_007_199_254_740_994)), (1e300, .float(1e300)),
            (1.5, .float(1.5)), (.infinity, .float(.infinity)), (-0.5, .float(-0.5)),
        ]
        for (number, expected) in cases {
            #expect(MessagePackValue(JSONValue.number(number)) == expected, "\(number)")
        }
        #expect(MessagePackValue(JSONValue.number(-0.0)).encodedBytes == [0x00])  // notepack: Math.floor(-0) === -0 → fixint 0
        #expect(MessagePackValue(JSONValue.number(.nan)).encodedBytes == bytes("cb 7f f8 00 00 00 00 00 00"))
    }

    @Test func valuesBothWays() throws {
        let json: JSONValue = ["s": "x", "n": [1, -2.5, nil, true], "o": ["deep": ["er": [:]]], "b": .binary(ByteBuffer(bytes: [0, 1]))]
        let packed = MessagePackValue(json)
        #expect(packed == ["s": "x", "n": [1, .float(-2.5), nil, true], "o": ["deep": ["er": [:]]], "b": .binary(ByteBuffer(bytes: [0, 1]))])
        #expect(try JSONValue(messagePack: packed) == json)
        #expect(try JSONValue(messagePack: try MessagePackValue.decode(packed.encoded())) == json)
    }

    @Test func messagePackOnlyValuesAsNodeSeesThem() throws {
        #expect(try JSONValue(messagePack: .uint(UInt64.max)) == .number(18_446_744_073_709_551_616))
        #expect(try JSONValue(messagePack: .int(Int64.max)) == .number(9_223_372_036_854_775_808))  // a double, as in JavaScript
        #expect(try JSONValue(messagePack: .ext(type: 1, data: Array("123456789012345678901234567890".utf8))) == "123456789012345678901234567890")
        #expect(try JSONValue(messagePack: .ext(type: 5, data: [1, 2])) == [5, .binary(ByteBuffer(bytes: [1, 2]))])
        #expect(try JSONValue(messagePack: .ext(type: -7, data: [])) == [-7, .binary(ByteBuffer())])
    }

    @Test func timestampsBecomeDateToJSONText() throws {
        let cases: [(Int64, UInt32, JSONValue)] = [
            (960_854_400, 0, "2000-06-13T00:00:00.000Z"),
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (1, 123_456_789, "1970-01-01T00:00:01.123Z"),
            (-1, 500_000_000, "1969-12-31T23:59:59.500Z"),
            (-1, 500_000, "1969-12-31T23:59:59.001Z"),  // −999.5 ms truncates to −999, as Date does
            (951_782_400, 0, "2000-02-29T00:00:00.000Z"),
            (4_102_444_799, 999_999_999, "2099-12-31T23:59:59.999Z"),
            (-62_198_755_200, 0, "-000001-01-01T00:00:00.000Z"),
            (253_402_300_800, 0, "+010000-01-01T00:00:00.000Z"),
            (8_640_000_000_000, 0, "+275760-09-13T00:00:00.000Z"),
            (-8_640_000_000_000, 0, "-271821-04-20T00:00:00.000Z"),
            (8_640_000_000_001, 0, nil),  // beyond the Date range: JSON.stringify writes null
            (Int64.max, 0, nil),
            (Int64.min, 0, nil),
        ]
        for (seconds, nanoseconds, expected) in cases {
            #expect(try JSONValue(messagePack: .timestamp(seconds: seconds, nanoseconds: nanoseconds)) == expected, "\(seconds)")
        }
    }

    @Test func mapKeysBecomeJavaScriptPropertyNames() throws {
        let map: MessagePackValue = .map(
            MessagePackMap([
                (key: 1, value: "one"), (key: 1.5, value: "x"), (key: true, value: "t"), (key: nil, value: "n"),
                (key: "1", value: "again"),  // the same property as the integer 1: last value, first place
            ]))
        let json = try JSONValue(messagePack: map)
        #expect(json.objectValue?.keys == ["1", "1.5", "true", "null"])
        #expect(json["1"] == "again")
        #expect(throws: RedisAdapterError.self) { try JSONValue(messagePack: [[[1]: 2]]) }
        #expect(throws: RedisAdapterError.self) { try JSONValue(messagePack: [.map(MessagePackMap([(key: [:], value: 1)]))]) }
    }

    @Test func largeMapsWithRepeatedKeysStayLinear() throws {
        // 200,000 pairs over 1,000 distinct keys: hashed, not a quadratic scan.
        let pairs = (0..<200_000).map { (key: MessagePackValue.string("k\($0 % 1000)"), value: MessagePackValue.int(Int64($0))) }
        let json = try JSONValue(messagePack: .map(MessagePackMap(pairs)))
        #expect(json.objectValue?.count == 1000)
        #expect(json["k0"] == .number(199_000))
        #expect(json.objectValue?.keys.first == "k0")
    }
}
