import RTP

/// The send side of one consumer's RTP stream (mediasoup `RtpStreamSend`): what went out (for the
/// sender report, RFC 3550 §6.4.1), a map from the sequence numbers we sent back to the producer's
/// (so a NACK can be answered from the producer's ``RetransmissionBuffer``), and the round-trip
/// time measured from the receiver's reports.
struct RTPStreamSend {
    let ssrc: UInt32
    let clockRate: UInt32
    private(set) var packets: UInt64 = 0
    /// Payload octets (RFC 3550 §6.4.1 "sender's octet count": payload only).
    private(set) var octets: UInt64 = 0
    /// Bytes on the wire before SRTP (headers included), for stats.
    private(set) var bytes: UInt64 = 0
    private(set) var lastTimestamp: UInt32 = 0
    private(set) var lastSentAt: UInt64 = 0
    /// Round-trip time from the last RR that echoed one of our SRs, in milliseconds.
    private(set) var roundTripTimeMs: Double?
    /// Loss the receiver reported (cumulative) and jitter (timestamp units).
    private(set) var reportedPacketsLost: Int32 = 0
    private(set) var reportedJitter: UInt32 = 0

    /// Ring of (our sequence number, producer sequence number, our timestamp), packed in one word.
    private var history: [UInt64]
    private static let historySize = 256

    init(ssrc: UInt32, clockRate: UInt32) {
        self.ssrc = ssrc
        self.clockRate = clockRate
        self.history = Array(repeating: UInt64.max, count: Self.historySize)
    }

    /// A packet went out: our sequence number and timestamp, the producer's sequence number.
    @inline(__always)
    mutating func sent(sequenceNumber: UInt16, producerSequenceNumber: UInt16, timestamp: UInt32, length: Int, payloadLength: Int, now: UInt64) {
        packets &+= 1
        octets &+= UInt64(payloadLength)
        bytes &+= UInt64(length)
        lastTimestamp = timestamp
        lastSentAt = now
        history[Int(sequenceNumber) & (Self.historySize - 1)] =
            UInt64(sequenceNumber) << 48 | UInt64(producerSequenceNumber) << 32 | UInt64(timestamp)
    }

    /// The producer sequence number and our timestamp of the packet we sent as `sequenceNumber`.
    func lookup(sequenceNumber: UInt16) -> (producerSequenceNumber: UInt16, timestamp: UInt32)? {
        let entry = history[Int(sequenceNumber) & (Self.historySize - 1)]
        guard entry != UInt64.max, UInt16(truncatingIfNeeded: entry >> 48) == sequenceNumber else { return nil }
        return (UInt16(truncatingIfNeeded: entry >> 32), UInt32(truncatingIfNeeded: entry))
    }

    /// The sender report for `now`, with `ntp` the wall-clock NTP time (RFC 3550 §4, 32.32 fixed point).
    /// The RTP timestamp is extrapolated from the last packet sent (RFC 3550 §6.4.1: "the same time
    /// as the NTP timestamp … but in the same units … as the RTP timestamps in data packets").
    func makeSenderReport(now: UInt64, ntp: UInt64) -> RTCPSenderReport? {
        guard packets > 0 else { return nil }
        let elapsed = now > lastSentAt ? now - lastSentAt : 0
        let ticks = UInt32(truncatingIfNeeded: min(elapsed, 3_600_000_000_000) * UInt64(clockRate) / 1_000_000_000)
        return RTCPSenderReport(
            ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: lastTimestamp &+ ticks,
            packetCount: UInt32(truncatingIfNeeded: packets), octetCount: UInt32(truncatingIfNeeded: octets))
    }

    /// The receiver reported on our stream: RTT = now − LSR − DLSR (RFC 3550 §6.4.1), all in
    /// 1/65536 s of the compact NTP clock.
    mutating func receivedReportBlock(_ block: RTCPReportBlock, compactNTPNow: UInt32) {
        reportedPacketsLost = block.cumulativeLost
        reportedJitter = block.jitter
        guard block.lastSenderReport != 0 else { return }
        let rtt = compactNTPNow &- block.lastSenderReport &- block.delaySinceLastSenderReport
        // A negative result (clock skew in the peer's DLSR) wraps to a huge value: ignore it.
        guard rtt < 0x8000_0000 else { return }
        roundTripTimeMs = Double(rtt) * 1000 / 65_536
    }
}
