import NIOCore
import Testing

@testable import SFU

/// The DTLS record check in front of OpenSSL: whole records pass, anything else is a counted drop.
@Suite struct DTLSRecordCheckTests {
    static func record(type: UInt8 = 22, version: UInt8 = 0xFD, fragment: Int) -> [UInt8] {
        [type, 0xFE, version, 0, 0, 0, 0, 0, 0, 0, 1, UInt8(fragment >> 8), UInt8(fragment & 0xFF)]
            + [UInt8](repeating: 0xAB, count: fragment)
    }

    @Test func wholeRecordsPass() {
        #expect(WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: Self.record(fragment: 100))))
        // A flight: several records in one datagram (handshake, change cipher spec, finished).
        let flight = Self.record(fragment: 60) + Self.record(type: 20, fragment: 1) + Self.record(fragment: 40)
        #expect(WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: flight)))
    }

    @Test func garbageIsRejected() {
        let good = Self.record(fragment: 30)
        #expect(!WebRTCTransport.isWellFormedDTLS(ByteBuffer()))
        #expect(!WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: Array(good.dropLast()))))  // truncated
        #expect(!WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: good + [0x16])))  // trailing byte
        #expect(!WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: Self.record(type: 30, fragment: 4))))  // content type
        var wrongVersion = good
        wrongVersion[1] = 0x03  // TLS, not DTLS
        #expect(!WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: wrongVersion)))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes =
                [UInt8.random(in: 20...63, using: &generator)]
                + (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = WebRTCTransport.isWellFormedDTLS(ByteBuffer(bytes: bytes))  // never traps
        }
    }
}
