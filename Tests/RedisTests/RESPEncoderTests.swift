import NIOCore
import TestSupport
import Testing

@testable import Redis

@Suite struct RESPEncoderTests {
    @Test func encodesCommandsAsArraysOfBulkStrings() throws {
        var buffer = ByteBuffer()
        RESPEncoder.encodeCommand(["SET", "kéy", .bytes([0, 13, 10, 255]), 42, .int(-1)], into: &buffer)
        let expected: [UInt8] = Array("*5\r\n$3\r\nSET\r\n$4\r\nkéy\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$2\r\n42\r\n$2\r\n-1\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
        // And the decoder reads what the encoder writes.
        var decoder = RESPDecoder()
        decoder.feed(buffer)
        #expect(try decoder.next()?.array?.count == 5)
    }

    @Test func scriptSHA1() {
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }

    @Test func reconnectDelay() {
        #expect(RedisConfiguration.reconnectDelay(attempt: 1) == .milliseconds(50))
        #expect(RedisConfiguration.reconnectDelay(attempt: 10) == .milliseconds(500))
        #expect(RedisConfiguration.reconnectDelay(attempt: 40) == .seconds(2))
        #expect(RedisConfiguration.reconnectDelay(attempt: .max) == .seconds(2))
    }
}
