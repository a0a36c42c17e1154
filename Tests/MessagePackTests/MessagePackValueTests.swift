import MessagePack
import NIOCore
import TestSupport
import Testing

@Suite struct MessagePackValueTests {
    @Test func compositeValuesRoundTrip() throws {
        let values: [MessagePackValue] = [
            [],
            [:],
            [[[[]]]],
            ["a": ["b": ["c": [1, 2, 3]]]],
            [.int(Int64.min), .int(-1), .int(0), .int(Int64.max), .uint(UInt64.max), .float(-2.5), "", nil, true, false],
            [1: "int key", "s": "string key", nil: "nil key", [1]: "array key", 1.5: "float key"],
            [.binary(ByteBuffer(bytes: [0, 255])), .ext(type: 42, data: [1, 2, 3]), .timestamp(seconds: -62_135_596_800, nanoseconds: 1)],
            .array((0..<1000).map { .int(Int64($0) * 1000 - 500_000) }),
            .map(MessagePackMap((0..<300).map { (key: .string("k\($0)"), value: .int(Int64($0))) })),
        ]
        for value in values {
            #expect(try MessagePackValue.decode(value.encodedBytes) == value)
            #expect(try MessagePackValue.decode(value.encoded()) == value)
        }
    }

    @Test func mapsKeepOrderAndDuplicatesAndLookUpTheLastValue() throws {
        let decoded = try MessagePackValue.decode(bytes("83 a1 61 01 a1 62 02 a1 61 03"))
        let map = try #require(decoded.mapValue)
        #expect(map.count == 3)
        #expect(map.keys == ["a", "b", "a"])
        #expect(map["a"] == 3)
        #expect(decoded["b"] == 2)
        #expect(map[.string("zz")] == nil)
        // Ordered equality: the same pairs in another order are another wire value.
        let ab: MessagePackValue = ["a": 1, "b": 2]
        let ba: MessagePackValue = ["b": 2, "a": 1]
        #expect(ab != ba)
        #expect(Set([ab, ba, ab]).count == 2)
        #expect(decoded.encodedBytes == bytes("83 a1 61 01 a1 62 02 a1 61 03"))
    }

    @Test func accessors() {
        #expect(MessagePackValue.uint(7).int64Value == 7)
        #expect(MessagePackValue.uint(UInt64.max).int64Value == nil)
        #expect(MessagePackValue.int(-3).doubleValue == -3)
        #expect(MessagePackValue.uint(UInt64.max).doubleValue == 18_446_744_073_709_551_616)
        #expect(MessagePackValue.string("x").stringValue == "x")
        #expect(MessagePackValue.bool(true).boolValue == true)
        #expect(MessagePackValue.nil.isNil)
        #expect(MessagePackValue.int(1)["a"] == nil)
        #expect(MessagePackValue.float(1).int64Value == nil)
    }

    @Test func binaryValuesAreSlicesOfTheMessage() throws {
        let message = ByteBuffer(bytes: bytes("92 c4 02 0a 0b c4 00"))
        let decoded = try MessagePackValue.decode(message)
        #expect(decoded == [.binary(ByteBuffer(bytes: [0x0a, 0x0b])), .binary(ByteBuffer())])
    }
}
