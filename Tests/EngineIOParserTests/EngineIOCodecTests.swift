import EngineIOParser
import NIOCore
import Testing

/// docs/engine.io-protocol/v4-current.md: packet encoding, long-polling payloads, base64 binary.
@Suite struct EngineIOCodecTests {
    @Test func packetsAndPayloads() throws {
        #expect(EngineIOCodec.encodeText(EnginePacket(.ping)) == "2")
        #expect(EngineIOCodec.encodeText(EnginePacket(.ping, .text("probe"))) == "2probe")
        #expect(EngineIOCodec.encodeText(.text("hello")) == "4hello")
        #expect(EngineIOCodec.encodeText(.binary(ByteBuffer(bytes: [1, 2, 3, 4]))) == "bAQIDBA==")
        let payload = EngineIOCodec.encodePayload([.text("hello"), .binary(ByteBuffer(bytes: [1, 2, 3, 4]))])
        #expect(payload == "4hello\u{1e}bAQIDBA==")
        #expect(try EngineIOCodec.decodePayload(payload) == [.text("hello"), .binary(ByteBuffer(bytes: [1, 2, 3, 4]))])
        #expect(try EngineIOCodec.decodeText("3probe") == EnginePacket(.pong, .text("probe")))
        #expect(try EngineIOCodec.decodeText("4") == .text(""))
        #expect(EngineIOCodec.encodeForWebSocket(.binary(ByteBuffer(bytes: [9]))) == .binary(ByteBuffer(bytes: [9])))
    }

    @Test func base64MatchesRFC4648() {
        for (plain, encoded) in [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
        ] {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0..<100, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.decode(Array(Base64.encode(bytes).utf8)) == bytes)
        }
    }

    /// The payload is split on the separator's byte: records keep multi-byte UTF-8 (and a
    /// combining mark after the separator, which a Character split would glue to it) intact.
    @Test func payloadRecordsKeepNonASCIIText() throws {
        let payload = "4héllo 🎙\u{1e}4\u{301}x\u{1e}2"
        #expect(try EngineIOCodec.decodePayload(payload) == [.text("héllo 🎙"), .text("\u{301}x"), EnginePacket(.ping)])
        let many = Array(repeating: "4m", count: 1_000).joined(separator: "\u{1e}")
        #expect(try EngineIOCodec.decodePayload(many).count == 1_000)
    }

    @Test(arguments: ["", "7", "x", "b!!", "bA", "b=A==", "4hello\u{1e}", "\u{1e}4a", "4a\u{1e}\u{1e}4b"])
    func malformedInputIsAnError(text: String) {
        #expect(throws: EngineParseError.self) { _ = try EngineIOCodec.decodePayload(text) }
    }
}
