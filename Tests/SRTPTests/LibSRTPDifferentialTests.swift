import CSRTP
import NIOCore
import SRTP
import Testing

/// The SRTP module against libsrtp 2 (Debian's build), packet for packet: for every profile,
/// thousands of RTP packets with CSRCs, header extensions and sequence numbers that wrap (the
/// rollover counter), and SRTCP packets, protected by both must be byte-identical, and each side
/// must open what the other protected.
@Suite struct LibSRTPDifferentialTests {
    /// A libsrtp session (the oracle).
    final class Oracle {
        var session: srtp_t?
        /// srtp_init once per process (it is not safe to call concurrently).
        static let initialised = srtp_init()

        init(profile: SRTPProfile, keyAndSalt: [UInt8], outbound: Bool) throws {
            try #require(Self.initialised == srtp_err_status_ok)
            var policy = srtp_policy_t()
            let cProfile = srtp_profile_t(rawValue: UInt32(profile.rawValue))
            try #require(srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, cProfile) == srtp_err_status_ok)
            try #require(srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, cProfile) == srtp_err_status_ok)
            policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound
            policy.window_size = 1024
            policy.allow_repeat_tx = 1
            var key = keyAndSalt
            let status = key.withUnsafeMutableBufferPointer { bytes in
                policy.key = bytes.baseAddress
                return srtp_create(&session, &policy)
            }
            try #require(status == srtp_err_status_ok)
        }

        deinit { srtp_dealloc(session) }

        func run(_ packet: [UInt8], room: Int, _ operation: (srtp_t?, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t)
            -> [UInt8]?
        {
            var bytes = packet + [UInt8](repeating: 0, count: room)
            var length = Int32(packet.count)
            let status = bytes.withUnsafeMutableBytes { operation(session, $0.baseAddress!, &length) }
            return status == srtp_err_status_ok ? Array(bytes[0..<Int(length)]) : nil
        }
    }

    static func rtp(seq: UInt16, timestamp: UInt32, ssrc: UInt32, csrcs: Int, extensionWords: Int, payload: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | UInt8(csrcs) | (extensionWords > 0 ? 0x10 : 0), 111]
        bytes += [UInt8(seq >> 8), UInt8(seq & 0xFF)]
        bytes += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
        bytes += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        for c in 0..<csrcs { bytes += [0, 0, 0, UInt8(c + 1)] }
        if extensionWords > 0 {
            bytes += [0xBE, 0xDE, 0, UInt8(extensionWords)]
            bytes += (0..<(extensionWords * 4)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        }
        bytes += (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seq)) }
        return bytes
    }

    static func rtcp(ssrc: UInt32, words: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x80, 201, 0, UInt8(words + 1)]
        bytes += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        bytes += (0..<(words * 4)).map { UInt8(truncatingIfNeeded: $0 &* 5) }
        return bytes
    }

    @Test(arguments: SRTPProfile.allCases)
    func identicalToLibSRTP(profile: SRTPProfile) throws {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<profile.keyAndSaltLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let ours = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound)
        let oursIn = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
        let theirs = try Oracle(profile: profile, keyAndSalt: key, outbound: true)
        let theirsIn = try Oracle(profile: profile, keyAndSalt: key, outbound: false)
        // Two SSRCs; one starts near the top of the sequence space so it wraps twice (ROC 0 → 2).
        for (ssrc, start) in [(UInt32(0x1122_3344), UInt16(0xFF00)), (UInt32(7), UInt16(3))] {
            var seq = start
            for n in 0..<(65_536 + 600) where n < 1_200 || n % 97 == 0 || n > 65_536 {
                seq = start &+ UInt16(truncatingIfNeeded: n)
                let plain = Self.rtp(
                    seq: seq, timestamp: UInt32(n) &* 960, ssrc: ssrc, csrcs: n % 3, extensionWords: n % 4, payload: 1 + n % 200)
                var buffer = ByteBuffer(bytes: plain)
                try ours.protectRTP(&buffer)
                let expected = try #require(theirs.run(plain, room: 16) { srtp_protect($0, $1, $2) })
                #expect(Array(buffer.readableBytesView) == expected, "\(profile) ssrc \(ssrc) packet \(n)")
                // libsrtp opens ours; we open libsrtp's.
                let opened = theirsIn.run(Array(buffer.readableBytesView), room: 0) { srtp_unprotect($0, $1, $2) }
                #expect(opened == plain)
                var theirsBuffer = ByteBuffer(bytes: expected)
                try oursIn.unprotectRTP(&theirsBuffer)
                #expect(Array(theirsBuffer.readableBytesView) == plain)
            }
        }
        let oursRTCPIn = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
        let theirsRTCPIn = try Oracle(profile: profile, keyAndSalt: key, outbound: false)
        for n in 0..<300 {
            let plain = Self.rtcp(ssrc: n % 2 == 0 ? 0xABCD : 0x1234, words: n % 30)
            var buffer = ByteBuffer(bytes: plain)
            try ours.protectRTCP(&buffer)
            let expected = try #require(theirs.run(plain, room: 32) { srtp_protect_rtcp($0, $1, $2) })
            #expect(Array(buffer.readableBytesView) == expected, "\(profile) RTCP \(n)")
            let opened = theirsRTCPIn.run(Array(buffer.readableBytesView), room: 0) { srtp_unprotect_rtcp($0, $1, $2) }
            #expect(opened == plain)
            var theirsBuffer = ByteBuffer(bytes: expected)
            try oursRTCPIn.unprotectRTCP(&theirsBuffer)
            #expect(Array(theirsBuffer.readableBytesView) == plain)
        }
    }

    @Test func theReplayWindowAgreesWithLibSRTP() throws {
        let profile = SRTPProfile.aeadAES128GCM
        let key = [UInt8](repeating: 3, count: profile.keyAndSaltLength)
        let sender = try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound)
        let ours = try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
        let theirs = try Oracle(profile: profile, keyAndSalt: key, outbound: false)
        var packets: [[UInt8]] = []
        for seq in UInt16(0)..<3_000 {
            var buffer = ByteBuffer(bytes: Self.rtp(seq: seq, timestamp: 0, ssrc: 9, csrcs: 0, extensionWords: 0, payload: 20))
            try sender.protectRTP(&buffer)
            packets.append(Array(buffer.readableBytesView))
        }
        // Jumps forward, duplicates, late packets inside and outside the 1024-packet window.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<4_000 {
            let packet = packets[Int.random(in: 0..<packets.count, using: &generator)]
            var buffer = ByteBuffer(bytes: packet)
            let oursAccepted = (try? ours.unprotectRTP(&buffer)) != nil
            let theirsAccepted = theirs.run(packet, room: 0) { srtp_unprotect($0, $1, $2) } != nil
            #expect(oursAccepted == theirsAccepted)
        }
    }
}
