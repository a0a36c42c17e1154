import SRTP
import Testing

@Suite struct SRTPSessionTests {
    static let profiles: [SRTPSession.Profile] = [.aeadAES256GCM, .aeadAES128GCM, .aes128CMSHA1_80, .aes128CMSHA1_32]

    static func packet(seq: UInt16) -> [UInt8] {
        [0x80, 0x6F, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0x03, 0xC0, 0xCA, 0xFE, 0xBA, 0xBE] + (0..<60).map { UInt8($0) }
    }

    @Test(arguments: profiles)
    func protectThenUnprotectRoundTrips(profile: SRTPSession.Profile) throws {
        let key = (0..<profile.keyAndSaltLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let sender = try SRTPSession(profile: profile, direction: .outbound, keyAndSalt: key)
        let receiver = try SRTPSession(profile: profile, direction: .inbound, keyAndSalt: key)
        for seq in UInt16(1)...20 {
            let plain = Self.packet(seq: seq)
            var buffer = plain + [UInt8](repeating: 0, count: SRTPSession.trailerCapacity)
            let protectedLength = try buffer.withUnsafeMutableBytes { try sender.protectRTP($0.baseAddress!, length: plain.count) }
            #expect(protectedLength > plain.count)
            #expect(Array(buffer[12..<plain.count]) != Array(plain[12...]))  // payload encrypted
            let length = try buffer.withUnsafeMutableBytes { try receiver.unprotectRTP($0.baseAddress!, length: protectedLength) }
            #expect(Array(buffer[0..<length]) == plain)
        }
    }

    @Test(arguments: profiles)
    func tamperingReplayAndWrongKeysAreRejected(profile: SRTPSession.Profile) throws {
        let key = [UInt8](repeating: 1, count: profile.keyAndSaltLength)
        let sender = try SRTPSession(profile: profile, direction: .outbound, keyAndSalt: key)
        let receiver = try SRTPSession(profile: profile, direction: .inbound, keyAndSalt: key)
        let stranger = try SRTPSession(profile: profile, direction: .inbound, keyAndSalt: [UInt8](repeating: 2, count: profile.keyAndSaltLength))
        let plain = Self.packet(seq: 7)
        var buffer = plain + [UInt8](repeating: 0, count: SRTPSession.trailerCapacity)
        let n = try buffer.withUnsafeMutableBytes { try sender.protectRTP($0.baseAddress!, length: plain.count) }
        var tampered = buffer
        tampered[20] ^= 0xFF
        #expect(throws: SRTPSession.SRTPError.self) { _ = try tampered.withUnsafeMutableBytes { try receiver.unprotectRTP($0.baseAddress!, length: n) } }
        var wrongKey = buffer
        #expect(throws: SRTPSession.SRTPError.self) { _ = try wrongKey.withUnsafeMutableBytes { try stranger.unprotectRTP($0.baseAddress!, length: n) } }
        var first = buffer
        _ = try first.withUnsafeMutableBytes { try receiver.unprotectRTP($0.baseAddress!, length: n) }
        var replay = buffer
        #expect(throws: SRTPSession.SRTPError.self) { _ = try replay.withUnsafeMutableBytes { try receiver.unprotectRTP($0.baseAddress!, length: n) } }
    }

    @Test func badKeyLengthIsAnError() {
        #expect(throws: SRTPSession.SRTPError.self) { _ = try SRTPSession(profile: .aeadAES128GCM, direction: .inbound, keyAndSalt: [1, 2, 3]) }
    }
}
