import NIOCore
import SRTP
import Testing

@Suite struct SRTPSessionTests {
    static func keyAndSalt(_ profile: SRTPProfile, seed: UInt8 = 1) -> [UInt8] {
        (0..<profile.keyAndSaltLength).map { UInt8(truncatingIfNeeded: Int($0) * 31 + Int(seed) * 17) }
    }

    static func pair(_ profile: SRTPProfile) throws -> (sender: SRTPSession, receiver: SRTPSession) {
        let key = keyAndSalt(profile)
        return (
            try SRTPSession(profile: profile, keyAndSalt: key, direction: .outbound),
            try SRTPSession(profile: profile, keyAndSalt: key, direction: .inbound)
        )
    }

    static func protectedRTP(_ sender: SRTPSession, seq: UInt16, ssrc: UInt32 = 0xCAFE_BABE, length: Int = 60) throws
        -> [UInt8]
    {
        var buffer = ByteBuffer(bytes: TestPackets.rtp(sequenceNumber: seq, ssrc: ssrc, payloadLength: length))
        try sender.protectRTP(&buffer)
        return Array(buffer.readableBytesView)
    }

    @Test(arguments: SRTPProfile.allCases)
    func roundTripRTPAndRTCP(profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        for seq in UInt16(1)...20 {
            let plain = TestPackets.rtp(sequenceNumber: seq, ssrc: 0x0102_0304, payloadLength: Int(seq) * 9)
            var buffer = ByteBuffer(bytes: plain)
            try sender.protectRTP(&buffer)
            #expect(buffer.readableBytes == plain.count + profile.rtpOverhead)
            #expect(Array(buffer.readableBytesView.prefix(12)) == Array(plain.prefix(12)))  // header stays clear
            #expect(Array(buffer.readableBytesView.dropFirst(12).prefix(plain.count - 12)) != Array(plain.dropFirst(12)))
            try receiver.unprotectRTP(&buffer)
            #expect(Array(buffer.readableBytesView) == plain)
        }
        for n in 0..<5 {
            let plain = TestPackets.rtcpSenderReport(ssrc: 0x0102_0304, extra: n)
            var buffer = ByteBuffer(bytes: plain)
            try sender.protectRTCP(&buffer)
            #expect(buffer.readableBytes == plain.count + profile.rtcpOverhead)
            try receiver.unprotectRTCP(&buffer)
            #expect(Array(buffer.readableBytesView) == plain)
        }
    }

    @Test func protectsASliceInPlaceWithoutTouchingNeighbours() throws {
        let (sender, receiver) = try Self.pair(.aeadAES256GCM)
        let plain = TestPackets.rtp(sequenceNumber: 7, ssrc: 9, payloadLength: 40)
        // A buffer with a prefix we skip and reserved room after the packet.
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        buffer.writeBytes([0xEE, 0xEE, 0xEE])
        buffer.moveReaderIndex(forwardBy: 3)
        buffer.writeBytes(plain)
        let capacityBefore = buffer.capacity
        try sender.protectRTP(&buffer)
        #expect(buffer.capacity == capacityBefore)
        #expect(buffer.readerIndex == 3)
        var whole = buffer
        whole.moveReaderIndex(to: 0)
        #expect(whole.readBytes(length: 3) == [0xEE, 0xEE, 0xEE])
        try receiver.unprotectRTP(&buffer)
        #expect(Array(buffer.readableBytesView) == plain)
    }

    @Test func protectGrowsABufferWithoutSpareCapacity() throws {
        let (sender, receiver) = try Self.pair(.aes128CMHMACSHA1_80)
        let plain = TestPackets.rtp(sequenceNumber: 1, ssrc: 1, payloadLength: 10)
        var buffer = ByteBuffer(bytes: plain)
        // Make the buffer exactly full so protect has to grow it.
        buffer = buffer.getSlice(at: 0, length: plain.count)!
        try sender.protectRTP(&buffer)
        #expect(buffer.readableBytes == plain.count + 10)
        try receiver.unprotectRTP(&buffer)
        #expect(Array(buffer.readableBytesView) == plain)
    }

    @Test func rawBufferAPIReportsBufferTooSmall() throws {
        let (sender, _) = try Self.pair(.aeadAES128GCM)
        var plain = TestPackets.rtp(sequenceNumber: 1, ssrc: 1, payloadLength: 10)
        let original = plain
        plain.withUnsafeMutableBytes { bytes in
            let error = #expect(throws: SRTPError.self) { _ = try sender.protectRTP(bytes, length: bytes.count) }
            #expect(error?.type == .bufferTooSmall)
        }
        #expect(plain == original)  // untouched
        var roomy = plain + [UInt8](repeating: 0, count: 16)
        let newLength = try roomy.withUnsafeMutableBytes { bytes in try sender.protectRTP(bytes, length: plain.count) }
        #expect(newLength == plain.count + 16)
    }

    @Test(arguments: SRTPProfile.allCases)
    func tamperedPacketFailsAuthentication(profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let good = try Self.protectedRTP(sender, seq: 100)
        for position in [good.count - 1, 14, 3] {  // tag, payload, header (authenticated too)
            var bad = good
            bad[position] ^= 0x01
            var buffer = ByteBuffer(bytes: bad)
            let error = #expect(throws: SRTPError.self) { try receiver.unprotectRTP(&buffer) }
            #expect(error?.type == .authFail, "flipped byte \(position)")
        }
        // A failed check does not poison the stream: the genuine packet still opens.
        var buffer = ByteBuffer(bytes: good)
        try receiver.unprotectRTP(&buffer)

        var rtcp = ByteBuffer(bytes: TestPackets.rtcpSenderReport(ssrc: 5))
        try sender.protectRTCP(&rtcp)
        var badRTCP = Array(rtcp.readableBytesView)
        badRTCP[10] ^= 0x80
        var badBuffer = ByteBuffer(bytes: badRTCP)
        let rtcpError = #expect(throws: SRTPError.self) { try receiver.unprotectRTCP(&badBuffer) }
        #expect(rtcpError?.type == .authFail)
    }

    @Test(arguments: SRTPProfile.allCases)
    func replayIsRejected(profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let packet = try Self.protectedRTP(sender, seq: 500)
        var first = ByteBuffer(bytes: packet)
        try receiver.unprotectRTP(&first)
        var again = ByteBuffer(bytes: packet)
        let error = #expect(throws: SRTPError.self) { try receiver.unprotectRTP(&again) }
        #expect(error?.type == .replayFail)

        var rtcp = ByteBuffer(bytes: TestPackets.rtcpSenderReport(ssrc: 5))
        try sender.protectRTCP(&rtcp)
        let srtcp = Array(rtcp.readableBytesView)
        var once = ByteBuffer(bytes: srtcp)
        try receiver.unprotectRTCP(&once)
        var twice = ByteBuffer(bytes: srtcp)
        let rtcpError = #expect(throws: SRTPError.self) { try receiver.unprotectRTCP(&twice) }
        #expect(rtcpError?.type == .replayFail)
    }

    @Test func reorderingInsideTheWindowIsAccepted() throws {
        let (sender, receiver) = try Self.pair(.aes128CMHMACSHA1_80)
        let packets = try (UInt16(1)...700).map { try Self.protectedRTP(sender, seq: $0, length: 8) }
        // Newest first, then old ones that are still inside the 1024-packet window.
        for index in [699, 0, 350, 698, 10] {
            var buffer = ByteBuffer(bytes: packets[index])
            try receiver.unprotectRTP(&buffer)
        }
    }

    @Test func outboundAllowsRepeatedTransmissionOfTheSamePacket() throws {
        let (sender, receiver) = try Self.pair(.aeadAES128GCM)
        let first = try Self.protectedRTP(sender, seq: 42)
        let retransmission = try Self.protectedRTP(sender, seq: 42)
        #expect(first == retransmission)
        var buffer = ByteBuffer(bytes: first)
        try receiver.unprotectRTP(&buffer)

        let strict = try SRTPSession(
            profile: .aeadAES128GCM, keyAndSalt: Self.keyAndSalt(.aeadAES128GCM), direction: .outbound,
            allowRepeatTransmit: false)
        _ = try Self.protectedRTP(strict, seq: 42)
        let error = #expect(throws: SRTPError.self) { _ = try Self.protectedRTP(strict, seq: 42) }
        #expect(error?.type == .replayFail)
    }

    @Test(arguments: SRTPProfile.allCases)
    func wrongKeyFailsAuthentication(profile: SRTPProfile) throws {
        let sender = try SRTPSession(profile: profile, keyAndSalt: Self.keyAndSalt(profile, seed: 1), direction: .outbound)
        let stranger = try SRTPSession(profile: profile, keyAndSalt: Self.keyAndSalt(profile, seed: 2), direction: .inbound)
        var buffer = ByteBuffer(bytes: try Self.protectedRTP(sender, seq: 1))
        let error = #expect(throws: SRTPError.self) { try stranger.unprotectRTP(&buffer) }
        #expect(error?.type == .authFail)
    }

    @Test func badKeyLengthIsRejected() {
        for profile in SRTPProfile.allCases {
            let error = #expect(throws: SRTPError.self) {
                _ = try SRTPSession(profile: profile, keyAndSalt: [UInt8](repeating: 1, count: profile.keyAndSaltLength - 1), direction: .inbound)
            }
            #expect(error?.type == .badParam)
        }
    }

    @Test func shortAndGarbageInputNeverCrashes() throws {
        let (_, receiver) = try Self.pair(.aes128CMHMACSHA1_80)
        for length in [0, 1, 11, 12, 21] {
            var buffer = ByteBuffer(bytes: [UInt8](repeating: 0x80, count: length))
            let error = #expect(throws: SRTPError.self) { try receiver.unprotectRTP(&buffer) }
            #expect(error?.type == .malformed)
            var rtcp = ByteBuffer(bytes: [UInt8](repeating: 0x81, count: length))
            #expect(throws: SRTPError.self) { try receiver.unprotectRTCP(&rtcp) }
        }
        // Headers that claim more CSRCs / extension words than the packet holds.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let length = Int.random(in: 12...80, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = 0x80 | (bytes[0] & 0x1F)
            var buffer = ByteBuffer(bytes: bytes)
            #expect(throws: SRTPError.self) { try receiver.unprotectRTP(&buffer) }
            var rtcp = ByteBuffer(bytes: bytes)
            #expect(throws: SRTPError.self) { try receiver.unprotectRTCP(&rtcp) }
        }
    }

    @Test func profileParameters() {
        #expect(SRTPProfile(rawValue: 0x0008) == .aeadAES256GCM)
        #expect(SRTPProfile.aeadAES256GCM.keyAndSaltLength == 44)
        #expect(SRTPProfile.aeadAES128GCM.keyAndSaltLength == 28)
        #expect(SRTPProfile.aes128CMHMACSHA1_80.keyAndSaltLength == 30)
        #expect(SRTPProfile.aes128CMHMACSHA1_32.rtpOverhead == 4)
        #expect(SRTPProfile.aes128CMHMACSHA1_32.rtcpOverhead == 14)
        #expect(SRTPProfile.aeadAES128GCM.rtcpOverhead == 20)
    }
}
