import MessagePack
import NIOCore
import TestSupport
import Testing

func repeated(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

func string(_ count: Int) -> String { String(repeating: "x", count: count) }

func binary(_ count: Int) -> MessagePackValue { .binary(ByteBuffer(bytes: repeated(0xab, count))) }

func array(_ count: Int) -> MessagePackValue { .array([MessagePackValue](repeating: .nil, count: count)) }

func map(_ count: Int) -> MessagePackValue {
    .map(MessagePackMap((0..<count).map { (key: .int(Int64($0)), value: .nil) }))
}

/// Every format byte, written and read, at the boundaries where notepack switches format.
@Suite struct MessagePackFormatTests {
    static let cases: [(MessagePackValue, [UInt8])] = [
        // nil, booleans
        (.nil, bytes("c0")),
        (.bool(false), bytes("c2")),
        (.bool(true), bytes("c3")),
        // positive fixint and uint 8/16/32/64
        (.int(0), bytes("00")),
        (.int(1), bytes("01")),
        (.int(127), bytes("7f")),
        (.int(128), bytes("cc 80")),
        (.int(255), bytes("cc ff")),
        (.int(256), bytes("cd 01 00")),
        (.int(65535), bytes("cd ff ff")),
        (.int(65536), bytes("ce 00 01 00 00")),
        (.int(4_294_967_295), bytes("ce ff ff ff ff")),
        (.int(4_294_967_296), bytes("cf 00 00 00 01 00 00 00 00")),
        (.int(9_007_199_254_740_993), bytes("cf 00 20 00 00 00 00 00 01")),
        (.int(Int64.max), bytes("cf 7f ff ff ff ff ff ff ff")),
        (.uint(9_223_372_036_854_775_808), bytes("cf 80 00 00 00 00 00 00 00")),
        (.uint(UInt64.max), bytes("cf ff ff ff ff ff ff ff ff")),
        // negative fixint and int 8/16/32/64
        (.int(-1), bytes("ff")),
        (.int(-32), bytes("e0")),
        (.int(-33), bytes("d0 df")),
        (.int(-128), bytes("d0 80")),
        (.int(-129), bytes("d1 ff 7f")),
        (.int(-32768), bytes("d1 80 00")),
        (.int(-32769), bytes("d2 ff ff 7f ff")),
        (.int(-2_147_483_648), bytes("d2 80 00 00 00")),
        (.int(-2_147_483_649), bytes("d3 ff ff ff ff 7f ff ff ff")),
        (.int(Int64.min), bytes("d3 80 00 00 00 00 00 00 00")),
        // float 64, always
        (.float(1.5), bytes("cb 3f f8 00 00 00 00 00 00")),
        (.float(-0.1), bytes("cb bf b9 99 99 99 99 99 9a")),
        (.float(.infinity), bytes("cb 7f f0 00 00 00 00 00 00")),
        (.float(1e300), bytes("cb 7e 37 e4 3c 88 00 75 9c")),
        // fixstr / str 8 / 16 / 32 (length in UTF-8 bytes)
        (.string(""), bytes("a0")),
        (.string("a"), bytes("a1 61")),
        (.string("é"), bytes("a2 c3 a9")),
        (.string("😀"), bytes("a4 f0 9f 98 80")),
        (.string(string(31)), bytes("bf") + repeated(0x78, 31)),
        (.string(string(32)), bytes("d9 20") + repeated(0x78, 32)),
        (.string(string(255)), bytes("d9 ff") + repeated(0x78, 255)),
        (.string(string(256)), bytes("da 01 00") + repeated(0x78, 256)),
        (.string(string(65535)), bytes("da ff ff") + repeated(0x78, 65535)),
        (.string(string(65536)), bytes("db 00 01 00 00") + repeated(0x78, 65536)),
        // bin 8 / 16 / 32
        (binary(0), bytes("c4 00")),
        (.binary(ByteBuffer(bytes: [1, 2, 3])), bytes("c4 03 01 02 03")),
        (binary(255), bytes("c4 ff") + repeated(0xab, 255)),
        (binary(256), bytes("c5 01 00") + repeated(0xab, 256)),
        (binary(65535), bytes("c5 ff ff") + repeated(0xab, 65535)),
        (binary(65536), bytes("c6 00 01 00 00") + repeated(0xab, 65536)),
        // fixarray / array 16 / 32
        (array(0), bytes("90")),
        (array(15), bytes("9f") + repeated(0xc0, 15)),
        (array(16), bytes("dc 00 10") + repeated(0xc0, 16)),
        (array(65535), bytes("dc ff ff") + repeated(0xc0, 65535)),
        (array(65536), bytes("dd 00 01 00 00") + repeated(0xc0, 65536)),
        // fixmap / map 16 / 32
        (map(0), bytes("80")),
        (["a": 1], bytes("81 a1 61 01")),
        (map(15), bytes("8f") + (0..<15).flatMap { [UInt8($0), 0xc0] as [UInt8] }),
        (map(16), bytes("de 00 10") + (0..<16).flatMap { [UInt8($0), 0xc0] as [UInt8] }),
        // fixext 1/2/4/8/16, ext 8/16/32
        (.ext(type: 5, data: [0x01]), bytes("d4 05 01")),
        (.ext(type: 5, data: [0x01, 0x02]), bytes("d5 05 01 02")),
        (.ext(type: 5, data: [1, 2, 3, 4]), bytes("d6 05 01 02 03 04")),
        (.ext(type: -5, data: repeated(7, 8)), bytes("d7 fb") + repeated(7, 8)),
        (.ext(type: 127, data: repeated(7, 16)), bytes("d8 7f") + repeated(7, 16)),
        (.ext(type: 1, data: Array("12".utf8) + [0x33]), bytes("c7 03 01 31 32 33")),
        (.ext(type: 9, data: []), bytes("c7 00 09")),
        (.ext(type: 9, data: repeated(1, 256)), bytes("c8 01 00 09") + repeated(1, 256)),
        (.ext(type: -128, data: repeated(1, 65536)), bytes("c9 00 01 00 00 80") + repeated(1, 65536)),
        // timestamp 32 / 64 / 96 (notepack 3: `new Date("2000-06-13T00:00:00.000Z")` → d6 ff 39 45 79 80)
        (.timestamp(seconds: 960_854_400, nanoseconds: 0), bytes("d6 ff 39 45 79 80")),
        (.timestamp(seconds: 0, nanoseconds: 0), bytes("d6 ff 00 00 00 00")),
        (.timestamp(seconds: 4_294_967_295, nanoseconds: 0), bytes("d6 ff ff ff ff ff")),
        (.timestamp(seconds: 4_294_967_296, nanoseconds: 0), bytes("d7 ff 00 00 00 01 00 00 00 00")),
        (.timestamp(seconds: 1, nanoseconds: 2), bytes("d7 ff 00 00 00 08 00 00 00 01")),
        (.timestamp(seconds: 17_179_869_183, nanoseconds: 999_999_999), bytes("d7 ff ee 6b 27 ff ff ff ff ff")),
        (.timestamp(seconds: 17_179_869_184, nanoseconds: 0), bytes("c7 0c ff 00 00 00 00 00 00 00 04 00 00 00 00")),
        (.timestamp(seconds: -1, nanoseconds: 123_456_789), bytes("c7 0c ff 07 5b cd 15 ff ff ff ff ff ff ff ff")),
    ]

    @Test func everyFormatEncodesAsNotepackDoes() {
        for (value, expected) in Self.cases {
            let encoded = value.encodedBytes
            #expect(encoded == expected, "encoding \(String(describing: value).prefix(80))")
        }
    }

    @Test func everyFormatDecodes() throws {
        for (value, encoded) in Self.cases {
            #expect(try MessagePackValue.decode(encoded) == value, "decoding \(encoded.prefix(12))")
        }
    }

    @Test func formatsOnlyOtherEncodersWriteDecode() throws {
        let cases: [([UInt8], MessagePackValue)] = [
            // float 32 (notepack never writes it; other msgpack libraries do)
            (bytes("ca 3f c0 00 00"), .float(1.5)),
            (bytes("ca c0 49 0f db"), .float(Double(Float(bitPattern: 0xc049_0fdb)))),
            // non-minimal integers decode to the same (canonical) value
            (bytes("cc 05"), .int(5)),
            (bytes("cd 00 05"), .int(5)),
            (bytes("ce 00 00 00 05"), .int(5)),
            (bytes("cf 00 00 00 00 00 00 00 05"), .int(5)),
            (bytes("d0 05"), .int(5)),
            (bytes("d1 ff ff"), .int(-1)),
            (bytes("d2 ff ff ff ff"), .int(-1)),
            (bytes("d3 ff ff ff ff ff ff ff ff"), .int(-1)),
            // str 8/16 and array/map 16/32 holding few elements
            (bytes("d9 01 61"), .string("a")),
            (bytes("da 00 01 61"), .string("a")),
            (bytes("db 00 00 00 01 61"), .string("a")),
            (bytes("dc 00 01 01"), [1]),
            (bytes("dd 00 00 00 01 01"), [1]),
            (bytes("de 00 01 a1 61 01"), ["a": 1]),
            (bytes("df 00 00 00 01 a1 61 01"), ["a": 1]),
            // notepack's legacy extensions: undefined, ArrayBuffer, Date
            (bytes("d4 00 00"), .nil),
            (bytes("92 d4 00 00 01"), [.nil, 1]),
            (bytes("c7 04 00 01 02 03 04"), .binary(ByteBuffer(bytes: [1, 2, 3, 4]))),
            (bytes("c8 00 01 00 2a"), .binary(ByteBuffer(bytes: [42]))),
            (bytes("c9 00 00 00 00 00"), .binary(ByteBuffer())),
            (bytes("d7 00 00 00 00 df b7 62 9c 00"), .timestamp(seconds: 960_854_400, nanoseconds: 0)),
            (bytes("d7 00 00 00 00 00 00 00 05 dd"), .timestamp(seconds: 1, nanoseconds: 501_000_000)),
            (bytes("d7 00 ff ff ff ff ff ff ff ff"), .timestamp(seconds: -1, nanoseconds: 999_000_000)),
            // type 0 in the other fixext sizes is an ordinary extension (notepack returns [0, bytes])
            (bytes("d5 00 01 02"), .ext(type: 0, data: [1, 2])),
            (bytes("d6 00 01 02 03 04"), .ext(type: 0, data: [1, 2, 3, 4])),
            // a timestamp in a non-fixed ext format
            (bytes("c7 04 ff 00 00 00 01"), .timestamp(seconds: 1, nanoseconds: 0)),
            (bytes("c7 08 ff 00 00 00 08 00 00 00 01"), .timestamp(seconds: 1, nanoseconds: 2)),
        ]
        for (encoded, value) in cases {
            #expect(try MessagePackValue.decode(encoded) == value, "decoding \(encoded)")
        }
    }

    @Test func invalidTimestampsAreErrors() {
        let cases: [[UInt8]] = [
            bytes("d4 ff 00"),  // size 1
            bytes("d5 ff 00 00"),  // size 2
            bytes("d8 ff") + repeated(0, 16),  // size 16
            bytes("c7 03 ff 00 00 00"),  // size 3
            bytes("d7 ff ee 6b 28 00 00 00 00 00"),  // 64-bit with 1,000,000,000 ns
            bytes("c7 0c ff 3b 9a ca 00 00 00 00 00 00 00 00 00"),  // 96-bit with 1,000,000,000 ns
        ]
        for encoded in cases {
            #expect(throws: MessagePackDecodingError.self, "\(encoded)") { try MessagePackValue.decode(encoded) }
            #expect((try? MessagePackValue.decode(encoded)) == nil)
        }
        do {
            _ = try MessagePackValue.decode(bytes("d4 ff 00"))
        } catch {
            #expect(error.reason == .invalidTimestamp && error.offset == 0)
        }
    }

    @Test func theNeverUsedByteIsAnError() {
        do {
            _ = try MessagePackValue.decode(bytes("92 01 c1"))
            Issue.record("0xc1 decoded")
        } catch {
            #expect(error == MessagePackDecodingError(.invalidFormatByte(0xc1), offset: 2))
        }
    }

    @Test func timestampNanosecondsOfASecondOrMoreCarryIntoTheSeconds() throws {
        let value = MessagePackValue.timestamp(seconds: 1, nanoseconds: 2_500_000_000)
        #expect(try MessagePackValue.decode(value.encodedBytes) == .timestamp(seconds: 3, nanoseconds: 500_000_000))
        let saturated = MessagePackValue.timestamp(seconds: .max, nanoseconds: 1_000_000_000)
        #expect(try MessagePackValue.decode(saturated.encodedBytes) == .timestamp(seconds: .max, nanoseconds: 0))
    }

    @Test func negativeZeroAndNaNAreFloats() throws {
        #expect(MessagePackValue.float(-0.0).encodedBytes == bytes("cb 80 00 00 00 00 00 00 00"))
        #expect(MessagePackValue.float(.nan).encodedBytes == bytes("cb 7f f8 00 00 00 00 00 00"))
        let decoded = try MessagePackValue.decode(bytes("cb 7f f8 00 00 00 00 00 00"))
        #expect(decoded.doubleValue?.isNaN == true)
    }
}
