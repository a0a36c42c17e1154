import NIOCore
import SRTP
import TestSupport
import Testing

/// RFC 3711 Appendix B vectors and libsrtp's published AES_CM_128_HMAC_SHA1_80 reference
/// packets (libsrtp test/srtp_driver.c `srtp_validate`, whose master key is the one of B.3).
@Suite struct RFC3711Tests {
    // RFC 3711 B.3
    static let masterKey = bytes("E1F97A0D3E018BE0D64FA32C06DE4139")
    static let masterSalt = bytes("0EC675AD498AFEEBB6960B3AABE6")

    // libsrtp srtp_driver.c srtp_validate(): SSRC 0xcafebabe, seq 0x1234, 16 bytes of 0xab.
    static let rtpPlain = bytes("800f1234decafbadcafebabeabababababababababababababababab")
    static let srtpPublished = bytes("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb")
    static let rtcpPlain = bytes("81c8000bcafebabeabababababababababababababababab")
    static let srtcpPublished = bytes("81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798")

    @Test func appendixB2AESCMKeystream() {
        // B.2: session key, "session salt (already shifted)", SSRC = ROC = SEQ = 0.
        let key = bytes("2B7E151628AED2A6ABF7158809CF4F3C")
        let iv = bytes("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
        #expect(
            ReferenceSRTP.keystream(key: key, iv: iv, count: 48).hexString
                == bytes("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0")
                .hexString)
        #expect(
            ReferenceSRTP.keystream(key: key, iv: iv, count: 48, firstBlock: 0xFEFF).hexString
                == bytes("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44")
                .hexString)
        // Through the packet path: an all-zero payload with SSRC/ROC/SEQ 0 encrypts to the keystream.
        let keys = ReferenceSRTP.SessionKeys(
            encryption: key, salt: bytes("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), authentication: [UInt8](repeating: 0, count: 20))
        let packet = [0x80, 0x00] + [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 0, count: 32)
        let protected = ReferenceSRTP.protectRTPCM(packet, keys: keys, tagLength: 10)
        #expect(Array(protected[12..<28]).hexString == "e03ead0935c95e80e166b16dd92b4eb4")
    }

    @Test func appendixB3KeyDerivation() {
        let keys = ReferenceSRTP.sessionKeys(masterKey: Self.masterKey, masterSalt: Self.masterSalt, rtcp: false, gcm: false)
        #expect(keys.encryption.hexString == "c61e7a93744f39ee10734afe3ff7a087")
        #expect(keys.salt.hexString == "30cbbc08863d8c85d49db34a9ae1")
        #expect(keys.authentication.hexString == "cebe321f6ff7716b6fd4ab49af256a156d38baa4")
    }

    @Test func referenceModelReproducesLibsrtpPublishedPackets() {
        // Ties the model to libsrtp's own published output before using it as the oracle.
        let rtpKeys = ReferenceSRTP.sessionKeys(masterKey: Self.masterKey, masterSalt: Self.masterSalt, rtcp: false, gcm: false)
        let rtcpKeys = ReferenceSRTP.sessionKeys(masterKey: Self.masterKey, masterSalt: Self.masterSalt, rtcp: true, gcm: false)
        #expect(ReferenceSRTP.protectRTPCM(Self.rtpPlain, keys: rtpKeys, tagLength: 10) == Self.srtpPublished)
        #expect(ReferenceSRTP.protectRTCPCM(Self.rtcpPlain, keys: rtcpKeys, index: 1) == Self.srtcpPublished)
    }

    @Test func wrapperProtectsLikeThePublishedPacket() throws {
        let session = try SRTPSession(
            profile: .aes128CMHMACSHA1_80, keyAndSalt: Self.masterKey + Self.masterSalt, direction: .outbound)
        var rtp = ByteBuffer(bytes: Self.rtpPlain)
        try session.protectRTP(&rtp)
        #expect(Array(rtp.readableBytesView) == Self.srtpPublished)

        var rtcp = ByteBuffer(bytes: Self.rtcpPlain)
        try session.protectRTCP(&rtcp)
        #expect(Array(rtcp.readableBytesView) == Self.srtcpPublished)
    }

    @Test func wrapperUnprotectsThePublishedPacket() throws {
        let session = try SRTPSession(
            profile: .aes128CMHMACSHA1_80, keyAndSalt: Self.masterKey + Self.masterSalt, direction: .inbound)
        var srtp = ByteBuffer(bytes: Self.srtpPublished)
        try session.unprotectRTP(&srtp)
        #expect(Array(srtp.readableBytesView) == Self.rtpPlain)

        var srtcp = ByteBuffer(bytes: Self.srtcpPublished)
        try session.unprotectRTCP(&srtcp)
        #expect(Array(srtcp.readableBytesView) == Self.rtcpPlain)
    }

    /// The wrapper, keyed with the B.3 master key, must match the model keyed with the B.3
    /// session keys, packet after packet (sequence numbers advance; SRTCP index counts from 1).
    @Test(arguments: [SRTPProfile.aes128CMHMACSHA1_80, .aes128CMHMACSHA1_32])
    func wrapperMatchesModelOverAStream(profile: SRTPProfile) throws {
        let session = try SRTPSession(profile: profile, keyAndSalt: Self.masterKey + Self.masterSalt, direction: .outbound)
        let rtpKeys = ReferenceSRTP.sessionKeys(masterKey: Self.masterKey, masterSalt: Self.masterSalt, rtcp: false, gcm: false)
        let rtcpKeys = ReferenceSRTP.sessionKeys(masterKey: Self.masterKey, masterSalt: Self.masterSalt, rtcp: true, gcm: false)
        for n in 0..<5 {
            let packet = TestPackets.rtp(sequenceNumber: UInt16(truncatingIfNeeded: 65_533 + n), ssrc: 0x1122_3344, payloadLength: 20 + n * 37)
            var buffer = ByteBuffer(bytes: packet)
            try session.protectRTP(&buffer)
            let expected = ReferenceSRTP.protectRTPCM(
                packet, keys: rtpKeys, tagLength: profile.rtpAuthTagLength, roc: 65_533 + n > 65_535 ? 1 : 0)
            #expect(Array(buffer.readableBytesView).hexString == expected.hexString, "packet \(n)")

            let report = TestPackets.rtcpSenderReport(ssrc: 0x1122_3344, extra: n)
            var rtcp = ByteBuffer(bytes: report)
            try session.protectRTCP(&rtcp)
            let expectedRTCP = ReferenceSRTP.protectRTCPCM(report, keys: rtcpKeys, index: UInt32(n + 1))
            #expect(Array(rtcp.readableBytesView).hexString == expectedRTCP.hexString, "rtcp \(n)")
        }
    }
}
