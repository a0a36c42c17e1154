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

    /// What a case of ``aesNIProtectsLikeOpenSSL(profile:kind:)`` protects: SRTP or SRTCP.
    enum PacketKind: CaseIterable, Sendable {
        case rtp, rtcp

        /// RTP: sequence numbers across a wrap (the ROC enters the IV), payloads of every length
        /// 0…300 (partial blocks, one to many 4-block batches), with and without CSRCs and an
        /// extension (AAD lengths that are not block multiples). RTCP: 0…39 words of report.
        var packets: [[UInt8]] {
            switch self {
            case .rtp:
                (0..<600).map { step in
                    LibSRTPDifferentialTests.rtp(
                        seq: UInt16(truncatingIfNeeded: 65_200 + step), timestamp: UInt32(step) &* 960, ssrc: 0x1234_5678 &+ UInt32(step % 2),
                        csrcs: step % 3, extensionWords: step % 4 == 0 ? 0 : step % 5, payload: step % 301)
                }
            case .rtcp:
                (0..<40).map { LibSRTPDifferentialTests.rtcp(ssrc: 0x0BAD_CAFE, words: $0) }
            }
        }

        func protect(_ packet: inout ByteBuffer, with session: SRTPSession) throws {
            switch self {
            case .rtp: try session.protectRTP(&packet)
            case .rtcp: try session.protectRTCP(&packet)
            }
        }

        func unprotect(_ packet: inout ByteBuffer, with session: SRTPSession) throws {
            switch self {
            case .rtp: try session.unprotectRTP(&packet)
            case .rtcp: try session.unprotectRTCP(&packet)
            }
        }
    }

    @Test(arguments: SRTPProfile.allCases, PacketKind.allCases)
    func aesNIProtectsLikeOpenSSL(profile: SRTPProfile, kind: PacketKind) throws {
        let key = (0..<profile.keyAndSaltLength).map { UInt8(truncatingIfNeeded: $0 &* 89 &+ 7) }
        let fastOut = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound)
        let slowOut = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound, aesNI: false)
        let fastIn = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
        let slowIn = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound, aesNI: false)
        var generator = SystemRandomNumberGenerator()
        for (index, plain) in kind.packets.enumerated() {
            var fast = ByteBuffer(bytes: plain)
            var slow = ByteBuffer(bytes: plain)
            try kind.protect(&fast, with: fastOut)
            try kind.protect(&slow, with: slowOut)
            #expect(fast == slow, "\(kind) packet \(index), \(plain.count) bytes")
            var openedBySlow = fast
            try kind.unprotect(&openedBySlow, with: slowIn)
            #expect(Array(openedBySlow.readableBytesView) == plain)
            // A flipped bit anywhere fails the AES-NI tag check (and leaves the replay state alone).
            var tampered = slow
            let at = tampered.readerIndex + Int.random(in: 0..<tampered.readableBytes, using: &generator)
            tampered.setInteger(tampered.getInteger(at: at, as: UInt8.self)! ^ 0x01, at: at)
            #expect(throws: SRTPError.self) { try kind.unprotect(&tampered, with: fastIn) }
            try kind.unprotect(&slow, with: fastIn)
            #expect(Array(slow.readableBytesView) == plain)
        }
    }
}
