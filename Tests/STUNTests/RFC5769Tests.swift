import STUN
import Testing

/// RFC 5769 test vectors (the short-term credential password is "VOkJxbRl1RmTxUk/WvJxBt").
@Suite struct RFC5769Tests {
    static let password = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)

    // §2.1 Sample Request.
    static let request: [UInt8] = [
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
        0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
        0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
        0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
        0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
        0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
    ]

    // §2.2 Sample IPv4 Response.
    static let responseV4: [UInt8] = [
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
        0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
        0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
        0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
    ]

    static func parse(_ bytes: [UInt8]) -> STUNMessage? { bytes.withUnsafeBytes { STUNMessage(bytes: $0) } }

    @Test func sampleRequest() throws {
        let message = try #require(Self.parse(Self.request))
        #expect(message.messageClass == .request && message.method == 1)
        #expect(message.username == "evtj:h6vY")
        #expect(message.priority == 0x6e00_01ff)
        #expect(message.iceControlled == 0x932f_f9b1_5126_3b36)
        #expect(message.hasValidIntegrity(key: Self.password))
        #expect(!message.hasValidIntegrity(key: Array("wrong".utf8)))
        #expect(message.hasValidFingerprint)
    }

    @Test func sampleIPv4Response() throws {
        let message = try #require(Self.parse(Self.responseV4))
        #expect(message.messageClass == .success)
        #expect(message.xorMappedAddress?.description == "192.0.2.1:32853")
        #expect(message.hasValidIntegrity(key: Self.password))
        #expect(message.hasValidFingerprint)
    }

    @Test func ourResponsesVerifyLikeTheRFCs() throws {
        let txid = Array(Self.request[8..<20])
        let mapped = TransportAddress(ipv4: (192, 0, 2, 1), port: 32853)
        let built = STUNMessage.bindingSuccess(transactionID: txid, mapped: mapped, password: Self.password)
        let parsed = try #require(Self.parse(built))
        #expect(parsed.messageClass == .success && parsed.transactionID == txid)
        #expect(parsed.xorMappedAddress == mapped)
        #expect(parsed.hasValidIntegrity(key: Self.password))
        #expect(parsed.hasValidFingerprint)
        let error = STUNMessage.bindingError(transactionID: txid, code: 487, reason: "Role Conflict", password: Self.password)
        let parsedError = try #require(Self.parse(error))
        #expect(parsedError.messageClass == .error && parsedError.errorCode == 487 && parsedError.hasValidFingerprint)
    }

    @Test func corruptedInputIsRejectedNotCrashed() {
        var flipped = Self.request
        flipped[30] ^= 0x01
        #expect(Self.parse(flipped).map { $0.hasValidIntegrity(key: Self.password) || $0.hasValidFingerprint } == false)
        for cut in [0, 1, 19, 20, 21, 50, Self.request.count - 1] {
            #expect(Self.parse(Array(Self.request.prefix(cut))) == nil)
        }
        var badLength = Self.request
        badLength[3] = 0xFF
        #expect(Self.parse(badLength) == nil)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var garbage = (0..<Int.random(in: 0..<120, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if garbage.count >= 8 { garbage[0] &= 0x3F; garbage[4] = 0x21; garbage[5] = 0x12; garbage[6] = 0xA4; garbage[7] = 0x42 }
            _ = Self.parse(garbage)
        }
    }
}
