import CSRTPCrypto
import NIOCore
import SRTP
import Testing

/// The AES-NI ciphers (CSRTPCrypto) against OpenSSL's, packet for packet: the same keys must give
/// byte-identical SRTP and SRTCP in every profile, each side must open the other's packets, and a
/// flipped bit must fail the AES-NI tag check. (The libsrtp differential tests run the default,
/// AES-NI, path against libsrtp as well.)
@Suite struct AESNITests {
    @Test func theCPUHasAESNI() {
        #if arch(x86_64)
        // Without it the other tests here would compare OpenSSL with itself.
        #expect(msab_aesni_available() == 1)
        #endif
    }

    @Test(arguments: SRTPProfile.allCases)
    func aesNIProtectsLikeOpenSSL(profile: SRTPProfile) throws {
        let key = (0..<profile.keyAndSaltLength).map { UInt8(truncatingIfNeeded: $0 &* 89 &+ 7) }
        let fastOut = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound)
        let slowOut = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound, aesNI: false)
        let fastIn = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
        let slowIn = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound, aesNI: false)
        var generator = SystemRandomNumberGenerator()
        // Sequence numbers across a wrap (the ROC enters the IV), payloads of every length
        // 0…300 (partial blocks, one to many 4-block batches), with and without CSRCs and an
        // extension (AAD lengths that are not block multiples).
        for step in 0..<600 {
            let seq = UInt16(truncatingIfNeeded: 65_200 + step)
            let csrcs = step % 3
            let extensionWords = step % 4 == 0 ? 0 : step % 5
            let plain = LibSRTPDifferentialTests.rtp(
                seq: seq, timestamp: UInt32(step) &* 960, ssrc: 0x1234_5678 &+ UInt32(step % 2), csrcs: csrcs,
                extensionWords: extensionWords, payload: step % 301)
            var fast = ByteBuffer(bytes: plain)
            var slow = ByteBuffer(bytes: plain)
            try fastOut.protectRTP(&fast)
            try slowOut.protectRTP(&slow)
            #expect(fast == slow, "RTP seq \(seq), \(plain.count) bytes")
            var openedBySlow = fast
            try slowIn.unprotectRTP(&openedBySlow)
            #expect(Array(openedBySlow.readableBytesView) == plain)
            var tampered = slow
            let at = tampered.readerIndex + Int.random(in: 0..<tampered.readableBytes, using: &generator)
            tampered.setInteger(tampered.getInteger(at: at, as: UInt8.self)! ^ 0x01, at: at)
            #expect(throws: SRTPError.self) { try fastIn.unprotectRTP(&tampered) }
            try fastIn.unprotectRTP(&slow)
            #expect(Array(slow.readableBytesView) == plain)
        }
        for words in 0..<40 {
            let plain = LibSRTPDifferentialTests.rtcp(ssrc: 0x0BAD_CAFE, words: words)
            var fast = ByteBuffer(bytes: plain)
            var slow = ByteBuffer(bytes: plain)
            try fastOut.protectRTCP(&fast)
            try slowOut.protectRTCP(&slow)
            #expect(fast == slow, "RTCP of \(plain.count) bytes")
            var openedBySlow = fast
            try slowIn.unprotectRTCP(&openedBySlow)
            #expect(Array(openedBySlow.readableBytesView) == plain)
            try fastIn.unprotectRTCP(&slow)
            #expect(Array(slow.readableBytesView) == plain)
        }
    }
}
