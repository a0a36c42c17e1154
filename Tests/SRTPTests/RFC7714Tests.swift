import NIOCore
import SRTP
import TestSupport
import Testing

/// RFC 7714 §16–§17 AES-GCM vectors. The RFC states them with session keys, so the reference
/// model is pinned to them first; the wrapper (which only takes master keys) must then match
/// the model keyed through the RFC 3711 KDF (RFC 7714 §11), and libsrtp's published GCM packet.
@Suite struct RFC7714Tests {
    static let key128 = bytes("000102030405060708090a0b0c0d0e0f")
    static let key256 = bytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    static let salt = bytes("517569642070726f2071756f")

    // §16: "Gallia est omnis divisa in partes tres", seq 0xf17b, SSRC 0x5501a0b2, ROC 0.
    static let rtp = bytes(
        """
        8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
        69736120 696e2070 61727465 73207472 6573
        """)
    // §16.1.1
    static let srtp128 = bytes(
        """
        8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
        0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce
        """)
    // §16.2.1
    static let srtp256 = bytes(
        """
        8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
        9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13
        """)
    // §17 (the packet its subsections operate on), SRTCP index 0x5d4.
    static let rtcp = bytes(
        """
        81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
        deadbeef deadbeef deadbeef deadbeef deadbeef
        """)
    // §17.1
    static let srtcp128 = bytes(
        """
        81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
        c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872
        45d9eade 800005d4
        """)
    // §17.2
    static let srtcp256 = bytes(
        """
        81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50
        a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c
        b26ac3be 800005d4
        """)

    @Test func section16ModelMatchesRFC() {
        let keys128 = ReferenceSRTP.SessionKeys(encryption: Self.key128, salt: Self.salt, authentication: [])
        let keys256 = ReferenceSRTP.SessionKeys(encryption: Self.key256, salt: Self.salt, authentication: [])
        #expect(ReferenceSRTP.protectRTPGCM(Self.rtp, keys: keys128).hexString == Self.srtp128.hexString)
        #expect(ReferenceSRTP.protectRTPGCM(Self.rtp, keys: keys256).hexString == Self.srtp256.hexString)
    }

    @Test func section17ModelMatchesRFC() {
        let keys128 = ReferenceSRTP.SessionKeys(encryption: Self.key128, salt: Self.salt, authentication: [])
        let keys256 = ReferenceSRTP.SessionKeys(encryption: Self.key256, salt: Self.salt, authentication: [])
        #expect(ReferenceSRTP.protectRTCPGCM(Self.rtcp, keys: keys128, index: 0x5d4).hexString == Self.srtcp128.hexString)
        #expect(ReferenceSRTP.protectRTCPGCM(Self.rtcp, keys: keys256, index: 0x5d4).hexString == Self.srtcp256.hexString)
    }

    /// libsrtp srtp_driver.c `srtp_validate_gcm` (AEAD_AES_128_GCM, master key 00…0f, salt a0…ab).
    @Test func libsrtpPublishedGCMPacket() throws {
        let keyAndSalt = bytes("000102030405060708090a0b0c0d0e0f a0a1a2a3a4a5a6a7a8a9aaab")
        let rtpPlain = bytes("800f1234decafbadcafebabeabababababababababababababababab")
        let srtp = bytes("800f1234decafbadcafebabec5002ede04cfdd2eb91159e0880aa06ed2976826f796b201df3131a127e8a392")
        let rtcpPlain = bytes("81c8000bcafebabeabababababababababababababababab")
        let srtcp = bytes("81c8000bcafebabec98b8b5df0392a55852b6c21ac8e7025c52c6fbea2b3b446ea31123ba88ce61e80000001")

        let sender = try SRTPSession(profile: .aeadAES128GCM, keyAndSalt: keyAndSalt, direction: .outbound)
        var buffer = ByteBuffer(bytes: rtpPlain)
        try sender.protectRTP(&buffer)
        #expect(Array(buffer.readableBytesView) == srtp)
        buffer = ByteBuffer(bytes: rtcpPlain)
        try sender.protectRTCP(&buffer)
        #expect(Array(buffer.readableBytesView) == srtcp)

        let receiver = try SRTPSession(profile: .aeadAES128GCM, keyAndSalt: keyAndSalt, direction: .inbound)
        buffer = ByteBuffer(bytes: srtp)
        try receiver.unprotectRTP(&buffer)
        #expect(Array(buffer.readableBytesView) == rtpPlain)
        buffer = ByteBuffer(bytes: srtcp)
        try receiver.unprotectRTCP(&buffer)
        #expect(Array(buffer.readableBytesView) == rtcpPlain)
    }

    /// Wrapper keyed with a master key == model keyed with KDF(master key), for the RFC's own
    /// packets, both key sizes; and the wrapper opens what the model sealed.
    @Test(arguments: [SRTPProfile.aeadAES128GCM, .aeadAES256GCM])
    func wrapperMatchesModelThroughKDF(profile: SRTPProfile) throws {
        let masterKey = profile == .aeadAES256GCM ? Self.key256 : Self.key128
        let masterSalt = Self.salt
        let rtpKeys = ReferenceSRTP.sessionKeys(masterKey: masterKey, masterSalt: masterSalt, rtcp: false, gcm: true)
        let rtcpKeys = ReferenceSRTP.sessionKeys(masterKey: masterKey, masterSalt: masterSalt, rtcp: true, gcm: true)

        let sender = try SRTPSession(profile: profile, keyAndSalt: masterKey + masterSalt, direction: .outbound)
        var buffer = ByteBuffer(bytes: Self.rtp)
        try sender.protectRTP(&buffer)
        let expectedRTP = ReferenceSRTP.protectRTPGCM(Self.rtp, keys: rtpKeys)
        #expect(Array(buffer.readableBytesView).hexString == expectedRTP.hexString)

        buffer = ByteBuffer(bytes: Self.rtcp)
        try sender.protectRTCP(&buffer)
        let expectedRTCP = ReferenceSRTP.protectRTCPGCM(Self.rtcp, keys: rtcpKeys, index: 1)
        #expect(Array(buffer.readableBytesView).hexString == expectedRTCP.hexString)

        // The other way: the receiver opens model output, including an SRTCP index far from 1.
        let receiver = try SRTPSession(profile: profile, keyAndSalt: masterKey + masterSalt, direction: .inbound)
        buffer = ByteBuffer(bytes: expectedRTP)
        try receiver.unprotectRTP(&buffer)
        #expect(Array(buffer.readableBytesView) == Self.rtp)
        buffer = ByteBuffer(bytes: ReferenceSRTP.protectRTCPGCM(Self.rtcp, keys: rtcpKeys, index: 0x5d4))
        try receiver.unprotectRTCP(&buffer)
        #expect(Array(buffer.readableBytesView) == Self.rtcp)
    }
}
