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

    @Test(arguments: ["", "9", "2", "2[]", "2[1", "2{}", "2[\"connect\"]", "2[null]", "3[\"x\"]", "1{}", "4", "4[1]",
                      "51[\"x\"]", "5-[\"x\"]", "5999999-[\"x\"]", "2/admin[\"x\"]", "21234567890123456[\"x\"]", "0[1]"])
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
        struct Out: Encodable { var id: Int; var name: String? }
        #expect(try JSONValue(encoding: Out(id: 1, name: nil)) == ["id": 1])
    }
}
