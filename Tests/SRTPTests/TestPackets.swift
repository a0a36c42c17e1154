/// Small, well-formed RTP/RTCP packets for the SRTP tests.
enum TestPackets {
    /// RTP, version 2, PT 111 (Opus), no CSRC, no extension, payload bytes `i & 0xff`.
    static func rtp(sequenceNumber: UInt16, ssrc: UInt32, payloadLength: Int, timestamp: UInt32 = 0x0102_0304) -> [UInt8] {
        var packet: [UInt8] = [0x80, 111, UInt8(sequenceNumber >> 8), UInt8(sequenceNumber & 0xFF)]
        packet += ReferenceSRTP.be32(timestamp) + ReferenceSRTP.be32(ssrc)
        packet += (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(sequenceNumber)) }
        return packet
    }

    /// RTCP sender report (RFC 3550 §6.4.1) with no report blocks; `extra` varies the NTP time.
    static func rtcpSenderReport(ssrc: UInt32, extra: Int = 0) -> [UInt8] {
        var packet: [UInt8] = [0x80, 200, 0x00, 0x06]
        packet += ReferenceSRTP.be32(ssrc)
        packet += ReferenceSRTP.be32(0xE000_0000 + UInt32(extra)) + ReferenceSRTP.be32(0x1234_5678)
        packet += ReferenceSRTP.be32(48_000 * UInt32(extra)) + ReferenceSRTP.be32(UInt32(extra)) + ReferenceSRTP.be32(160)
        return packet
    }
}
