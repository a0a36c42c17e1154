import NIOCore
import SocketIOParser
import Testing

/// The examples of docs/socket.io-protocol/v5-current.md, binary attachments, malformed packets
/// and JSON edge cases.
@Suite struct SocketIOCodecTests {
    static func decoded(_ text: String) throws -> SocketIOPacket { try SocketIOCodec.decode(text).packet }

    @Test(arguments: [
        ("0", SocketIOPacket(type: .connect)),
        ("0/admin,", SocketIOPacket(type: .connect, namespace: "/admin")),
        ("0{\"token\":\"123\"}", SocketIOPacket(type: .connect, data: ["token": "123"])),
        ("1/admin,", SocketIOPacket(type: .disconnect, namespace: "/admin")),
        ("2[\"foo\"]", SocketIOPacket(type: .event, data: ["foo"])),
        ("2/admin,[\"bar\"]", SocketIOPacket(type: .event, namespace: "/admin", data: ["bar"])),
        ("212[\"foo\"]", SocketIOPacket(type: .event, id: 12, data: ["foo"])),
        ("3/admin,13[\"bar\"]", SocketIOPacket(type: .ack, namespace: "/admin", id: 13, data: ["bar"])),
        ("4{\"message\":\"Not authorized\"}", SocketIOPacket(type: .connectError, data: ["message": "Not authorized"])),
    ])
    func specExamplesRoundTrip(text: String, packet: SocketIOPacket) throws {
        #expect(try Self.decoded(text) == packet)
        #expect(SocketIOCodec.encode(packet).text == text)
    }

    @Test func binaryEventsUsePlaceholdersDepthFirst() throws {
        let blob = ByteBuffer(bytes: [1, 2, 3])
        let other = ByteBuffer(bytes: [0xFF])
        let packet = SocketIOPacket(type: .event, id: 5, data: ["upload", ["a": .binary(blob), "b": [.binary(other)]]])
        let (text, attachments) = SocketIOCodec.encode(packet)
        #expect(text == #"52-5["upload",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1}]}]"#)
        #expect(attachments == [blob, other])
        let header = try SocketIOCodec.decode(text)
        #expect(header.attachments == 2 && header.packet.type == .binaryEvent)
        let rebuilt = try SocketIOCodec.reconstruct(header.packet.data!, attachments: attachments)
        #expect(rebuilt == packet.data)
        #expect(throws: SocketIOParseError.self) { _ = try SocketIOCodec.reconstruct(header.packet.data!, attachments: [blob]) }
    }

    @Test(arguments: [
        "", "9", "2", "2[]", "2[1", "2{}", "2[\"connect\"]", "2[null]", "3[\"x\"]", "1{}", "4", "4[1]",
        "51[\"x\"]", "5-[\"x\"]", "5999999-[\"x\"]", "2/admin[\"x\"]", "0[1]",
        "511-[\"x\"]", "59999999999999999999999-[\"x\"]", "4299999999999999999999[\"x\"]", "29007199254740992[\"x\"]",
        "2" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
    ])
    func malformedPacketsAreRejected(text: String) {
        #expect(throws: SocketIOParseError.self) { _ = try SocketIOCodec.decode(text) }
    }

    @Test func jsonEdgeCases() throws {
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00\n""#) == .string("é😀\n"))
        #expect(try JSONValue.parse(#""\ud83d""#) == .string("\u{FFFD}"))  // lone surrogate
        #expect(try JSONValue.parse("9007199254740993").doubleValue == 9_007_199_254_740_992)
        #expect(JSONValue.number(42).jsonString == "42" && JSONValue.number(1.5).jsonString == "1.5")
        #expect(JSONValue.string("a\"b\\\u{01}").jsonString == #""a\"b\\\u0001""#)
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#)["a"] == .number(2))
        #expect(try JSONValue.parse(#"{"b":1,"a":2}"#).jsonString == #"{"b":1,"a":2}"#)  // key order kept
        let bomb = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(bomb) }
        for bad in ["", "tru", "01", "1.", "[1,]", "{\"a\"}", "\"\u{01}\"", "nul", "{} x", "-", "1e"] {
            #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(bad) }
        }
    }

    @Test func codableBridgeIsStrict() throws {
        struct Seat: Decodable { var seatIndex: Int }
        #expect(try (["seatIndex": 3] as JSONValue).decode(Seat.self).seatIndex == 3)
        #expect(throws: (any Error).self) { _ = try (["seatIndex": "3"] as JSONValue).decode(Seat.self) }
        #expect(throws: (any Error).self) { _ = try (["seatIndex": true] as JSONValue).decode(Seat.self) }
        #expect(throws: (any Error).self) { _ = try (["seatIndex": 3.5] as JSONValue).decode(Seat.self) }
        struct Out: Encodable {
            var id: Int
            var name: String?
        }
        #expect(try JSONValue(encoding: Out(id: 1, name: nil)) == ["id": 1])
    }

    @Test func ackIdsUpToTheLargestSafeIntegerAreAccepted() throws {
        #expect(try Self.decoded(#"29007199254740991["x"]"#).id == 9_007_199_254_740_991)
        #expect(try Self.decoded(#"2007["x"]"#).id == 7)  // Number("007") in socket.io-parser
        #expect(try SocketIOCodec.decode(#"510-["x"]"#).attachments == 10)
        #expect(try SocketIOCodec.decode(#"50-["x"]"#).attachments == 0)
    }

    @Test(arguments: [
        ("1e300", "1e+300"), ("-1e19", "-10000000000000000000"), ("1.5e308", "1.5e+308"), ("9223372036854775808", "9223372036854776000"),
        ("-0.5", "-0.5"), ("3", "3"), ("-0", "0"), ("1e21", "1e+21"), ("123456789012345678901", "123456789012345680000"),
        ("0.000001", "0.000001"), ("1e-7", "1e-7"), ("5e-324", "5e-324"), ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("0.1", "0.1"), ("123.456", "123.456"), ("9007199254740993", "9007199254740992"), ("1e400", "Infinity"), ("-1e400", "-Infinity"),
        ("4.35", "4.35"), ("0.00001234", "0.00001234"), ("1.5e-10", "1.5e-10"),
    ])
    func numericEventNamesAreJavaScriptStrings(json: String, name: String) throws {
        let packet = try Self.decoded("2[\(json)]")
        #expect(packet.eventName == name)
        // And a number is written back as JSON.stringify writes it (∞ has no JSON form: null).
        let written = JSONValue.number(try #require(packet.data?[0]?.doubleValue)).jsonString
        #expect(written == (name.hasSuffix("Infinity") ? "null" : name))
    }

    @Test func jsonParsingIsLinearWithDuplicateKeysKeptInPlace() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#).jsonString == #"{"a":3,"b":2}"#)  // V8's JSON.parse order
        // Beyond the linear scan, duplicates are found through the hash table.
        let many = (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(try JSONValue.parse("{\(many),\"k3\":\"again\"}")["k3"] == "again")
        #expect(try JSONValue.parse("{\(many),\"k3\":\"again\"}").objectValue?.count == 20)

        // 80,000 distinct keys (869 kB, the size of the issue's CONNECT): quadratic duplicate
        // detection took 17–25 s; linear takes milliseconds (a generous bound for a loaded debug build).
        let keys = (0..<80_000).map { "\"key-\($0)\":\($0 % 10)" }.joined(separator: ",")
        let document = "{" + keys + "}"
        let unbounded = JSONParseLimits(maximumDepth: 64, maximumKeysPerObject: .max)
        let clock = ContinuousClock()
        var parsed: JSONValue = .null
        let elapsed = try clock.measure { parsed = try JSONValue.parse(document, limits: unbounded) }
        #expect(parsed.objectValue?.count == 80_000)
        #expect(elapsed < .seconds(2), "80,000 keys took \(elapsed)")
        // Same key 80,000 times: one entry.
        let same = "{" + (0..<80_000).map { "\"k\":\($0)" }.joined(separator: ",") + "}"
        #expect(try JSONValue.parse(same, limits: unbounded) == ["k": 79_999])

        // The wire limits refuse the 1,001st key and the 65th level.
        let thousand = "{" + (0..<1_000).map { "\"k\($0)\":0" }.joined(separator: ",") + "}"
        #expect(try JSONValue.parse(thousand, limits: .wire).objectValue?.count == 1_000)
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(document, limits: .wire) }
        #expect(throws: SocketIOParseError.self) { _ = try SocketIOCodec.decode("0" + document) }
        let deep64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { _ = try JSONValue.parse(deep64, limits: .wire) }
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse("[" + deep64 + "]", limits: .wire) }
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(#"{"a":"# + deep64 + "}", limits: .wire) }
        // The default limits (for JSON the server wrote itself) take any number of keys.
        #expect(try JSONValue.parse(document).objectValue?.count == 80_000)
    }
}
