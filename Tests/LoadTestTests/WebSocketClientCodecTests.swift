import LoadTest
import NIOCore
import Testing

@Suite("WebSocketClientCodec (RFC 6455 §4, §5)")
struct WebSocketClientCodecTests {
    /// RFC 6455 §1.3's example key and accept value.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func response(accept: String = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", status: String = "101 Switching Protocols") -> String {
        "HTTP/1.1 \(status)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
    }

    /// An unmasked server frame.
    static func serverFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            out.append(UInt8(payload.count))
        } else {
            out.append(126)
            out.append(UInt8(payload.count >> 8))
            out.append(UInt8(payload.count & 0xFF))
        }
        return out + payload
    }

    @Test("§1.3: the accept value of the RFC's example key")
    func acceptValue() {
        #expect(WebSocketClientCodec.acceptValue(forKey: Self.key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let request = WebSocketClientCodec.handshakeRequest(host: "127.0.0.1:3030", path: "/socket.io/?EIO=4&transport=websocket", key: Self.key)
        #expect(request.hasPrefix("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"))
        #expect(request.contains("Sec-WebSocket-Key: \(Self.key)\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
    }

    @Test("the 101 and the server's first message in one segment, then fed one byte at a time")
    func handshakeAndFirstFrameTogether() throws {
        let bytes = Array(Self.response().utf8) + Self.serverFrame(0x1, Array("0{\"sid\":\"a\"}".utf8)) + Self.serverFrame(0x1, Array("2".utf8))
        var together = WebSocketClientCodec(key: Self.key)
        var buffer = ByteBuffer(bytes: bytes)
        #expect(try together.feed(&buffer) == [.upgraded, .text("0{\"sid\":\"a\"}"), .text("2")])
        #expect(buffer.readableBytes == 0)

        var drip = WebSocketClientCodec(key: Self.key)
        var events: [WebSocketClientCodec.Event] = []
        var pending = ByteBuffer()
        for byte in bytes {
            pending.writeInteger(byte)
            events += try drip.feed(&pending)
            pending.discardReadBytes()
        }
        #expect(events == [.upgraded, .text("0{\"sid\":\"a\"}"), .text("2")])
    }

    @Test("a refused upgrade and a wrong accept value fail the handshake")
    func refused() {
        var codec = WebSocketClientCodec(key: Self.key)
        var buffer = ByteBuffer(string: Self.response(status: "400 Bad Request"))
        #expect(throws: WebSocketClientCodec.Failure.handshakeRejected("HTTP/1.1 400 Bad Request")) { try codec.feed(&buffer) }
        var wrong = WebSocketClientCodec(key: Self.key)
        var wrongBuffer = ByteBuffer(string: Self.response(accept: "AAAA"))
        #expect(throws: WebSocketClientCodec.Failure.handshakeRejected("bad Sec-WebSocket-Accept")) { try wrong.feed(&wrongBuffer) }
    }

    @Test("§5.4: a fragmented text message is reassembled; a ping is reported")
    func fragments() throws {
        var codec = WebSocketClientCodec(key: Self.key)
        var buffer = ByteBuffer(string: Self.response())
        let bytes = Self.serverFrame(0x1, Array("hel".utf8), fin: false) + Self.serverFrame(0x9, [1, 2]) + Self.serverFrame(0x0, Array("lo".utf8))
        buffer.writeBytes(bytes)
        #expect(try codec.feed(&buffer) == [.upgraded, .ping(ByteBuffer(bytes: [1, 2])), .text("hello")])
    }

    @Test("bounds: a message over the limit and a 64-bit length fail without allocating")
    func limits() {
        var codec = WebSocketClientCodec(key: Self.key, maximumMessageSize: 100)
        var buffer = ByteBuffer(string: Self.response())
        buffer.writeBytes(Self.serverFrame(0x1, [UInt8](repeating: 65, count: 200)))
        #expect(throws: WebSocketClientCodec.Failure.messageTooLarge) { try codec.feed(&buffer) }

        var huge = WebSocketClientCodec(key: Self.key)
        var hugeBuffer = ByteBuffer(string: Self.response())
        hugeBuffer.writeBytes([0x81, 127, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: WebSocketClientCodec.Failure.messageTooLarge) { try huge.feed(&hugeBuffer) }

        var reserved = WebSocketClientCodec(key: Self.key)
        var reservedBuffer = ByteBuffer(string: Self.response())
        reservedBuffer.writeBytes([0xC1, 0])
        #expect(throws: WebSocketClientCodec.Failure.protocolViolation("reserved bits set")) { try reserved.feed(&reservedBuffer) }
    }

    @Test("§5.3: client frames are masked, and unmask back to the payload")
    func maskedFrames() throws {
        let payload = Array(String(repeating: "x", count: 300).utf8)
        var frame = ByteBuffer()
        WebSocketClientCodec.writeFrame(.text, payload: payload, mask: (1, 2, 3, 4), into: &frame)
        #expect(frame.getInteger(at: 0, as: UInt8.self) == 0x81)
        let lengthByte: UInt8 = 0x80 | 126  // MASK bit, 16-bit length follows
        #expect(frame.getInteger(at: 1, as: UInt8.self) == lengthByte)
        #expect(frame.getInteger(at: 2, as: UInt16.self) == 300)
        #expect(frame.getBytes(at: 4, length: 4) == [1, 2, 3, 4])
        #expect(frame.getInteger(at: 8, as: UInt8.self) == UInt8(ascii: "x") ^ 1)
        // The decoder tolerates masked frames, so it can read our own output back.
        var codec = WebSocketClientCodec(key: Self.key)
        var buffer = ByteBuffer(string: Self.response())
        buffer.writeImmutableBuffer(frame)
        #expect(try codec.feed(&buffer) == [.upgraded, .text(String(repeating: "x", count: 300))])
    }
}
