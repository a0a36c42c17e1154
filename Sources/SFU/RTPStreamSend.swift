import NIOCore
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
    private(set) var lastSentAt = NIODeadline.distantPast
    /// Round-trip time from the last RR that echoed one of our SRs, in milliseconds.
    private(set) var roundTripTimeMs: Double?
    /// Loss the receiver reported (cumulative) and jitter (timestamp units).
    private(set) var reportedPacketsLost: Int32 = 0
    private(set) var reportedJitter: UInt32 = 0

    /// One slot of the history ring.
    private struct HistoryEntry {
        /// Our sequence number, the producer's sequence number and our timestamp, packed in one word
        /// (`UInt64.max`: empty).
        var packet: UInt64
        /// When that packet was last retransmitted, ``neverResent`` never (a sentinel rather than
        /// an optional: the slot stays 16 bytes).
        var resentAt: NIODeadline
    }

    /// Bytes this consumer may still retransmit (a token bucket filled by ``sent``).
    private(set) var retransmissionBudget = 0
    /// The ring of what went out. One array of (packet, resentAt) pairs rather than two arrays:
    /// every forwarded packet writes both, and with thousands of consumers each array's header
    /// and slot are cache misses, so one array halves them. Inline (4 KiB in the consumer's own
    /// allocation) rather than a heap array: the write per forwarded packet then needs no
    /// copy-on-write uniqueness check and no pointer chase to a separate buffer (both showed in
    /// the fan-out profile as `swift_isUniquelyReferenced`). The last stored member, so that the
    /// counters above stay in the consumer's first cache lines.
    private var history: InlineArray<256, HistoryEntry>
    private static let historySize = 256
    private static let neverResent = NIODeadline.distantFuture

    // Retransmission rules (mediasoup `RtpStreamSend::FillRetransmissionContainer`, plus a budget):
    /// A packet is resent at most once per RTT; before one is measured, mediasoup's default 100 ms.
    static let defaultRetransmissionInterval = TimeAmount.milliseconds(100)
    /// The interval never goes below one Opus frame (an RTT forged near zero by the receiver's
    /// LSR/DLSR would otherwise allow a resend per NACK) nor above the buffer's 1 s.
    static let retransmissionIntervalRange: ClosedRange<TimeAmount> = .milliseconds(20)...(.seconds(1))
    /// Retransmitted bytes earn half of the bytes forwarded (`>> 1`) up to this burst: loss repair
    /// of up to 50 % of the stream, and never an amplifier of more than half of it.
    static let retransmissionBurstBytes = 8_192

    init(ssrc: UInt32, clockRate: UInt32) {
        self.ssrc = ssrc
        self.clockRate = clockRate
        self.history = InlineArray(repeating: HistoryEntry(packet: UInt64.max, resentAt: Self.neverResent))
    }

    /// A packet went out: our sequence number and timestamp, the producer's sequence number.
    @inline(__always)
    mutating func sent(sequenceNumber: UInt16, producerSequenceNumber: UInt16, timestamp: UInt32, length: Int, payloadLength: Int, now: NIODeadline) {
        packets &+= 1
        octets &+= UInt64(truncatingIfNeeded: payloadLength)
        bytes &+= UInt64(truncatingIfNeeded: length)
        lastTimestamp = timestamp
        lastSentAt = now
        let slot = Int(sequenceNumber) & (Self.historySize - 1)
        history[slot] = HistoryEntry(
            packet: UInt64(sequenceNumber) << 48 | UInt64(producerSequenceNumber) << 32 | UInt64(timestamp), resentAt: Self.neverResent)
        // `length` is a datagram size (< 64 kB) and the budget at most the burst: no overflow.
        retransmissionBudget = min(Self.retransmissionBurstBytes, retransmissionBudget + length >> 1)
    }

    /// The minimum time between two retransmissions of one packet: the measured RTT, clamped.
    var retransmissionInterval: TimeAmount {
        guard let rtt = roundTripTimeMs, rtt.isFinite, rtt > 0 else { return Self.defaultRetransmissionInterval }
        // Clamped in Double first, so the conversion cannot trap.
        let range = Self.retransmissionIntervalRange
        return .nanoseconds(Int64(min(max(rtt * 1_000_000, Double(range.lowerBound.nanoseconds)), Double(range.upperBound.nanoseconds))))
    }

    /// What a NACK for `sequenceNumber` may resend: the producer's sequence number and our
    /// timestamp, unless the packet is unknown or was resent within ``retransmissionInterval``.
    func retransmissionCandidate(sequenceNumber: UInt16, now: NIODeadline) -> Result<
        (producerSequenceNumber: UInt16, timestamp: UInt32), RetransmissionRefusal
    > {
        guard let entry = lookup(sequenceNumber: sequenceNumber) else { return .failure(.init(reason: .retransmissionMiss)) }
        let last = history[Int(sequenceNumber) & (Self.historySize - 1)].resentAt
        // `NIODeadline - NIODeadline` cannot trap (both lie in 0..<2^63 ns); a bogus earlier
        // `now` (negative span) does not count as too soon.
        if last != Self.neverResent, (.zero..<retransmissionInterval).contains(now - last) { return .failure(.init(reason: .retransmissionTooSoon)) }
        return .success(entry)
    }

    /// Whether `length` more retransmitted bytes fit in the budget.
    func retransmissionBudgetAllows(_ length: Int) -> Bool { length <= retransmissionBudget }

    /// `sequenceNumber` was resent (`length` bytes) at `now`.
    mutating func retransmitted(sequenceNumber: UInt16, length: Int, now: NIODeadline) {
        history[Int(sequenceNumber) & (Self.historySize - 1)].resentAt = now
        retransmissionBudget -= min(length, retransmissionBudget)
    }

    /// The producer sequence number and our timestamp of the packet we sent as `sequenceNumber`.
    func lookup(sequenceNumber: UInt16) -> (producerSequenceNumber: UInt16, timestamp: UInt32)? {
        let entry = history[Int(sequenceNumber) & (Self.historySize - 1)].packet
        guard entry != UInt64.max, UInt16(truncatingIfNeeded: entry >> 48) == sequenceNumber else { return nil }
        return (UInt16(truncatingIfNeeded: entry >> 32), UInt32(truncatingIfNeeded: entry))
    }

    /// The sender report for `now`, with `ntp` the wall-clock NTP time (RFC 3550 §4, 32.32 fixed point).
    /// The RTP timestamp is extrapolated from the last packet sent (RFC 3550 §6.4.1: "the same time
    /// as the NTP timestamp … but in the same units … as the RTP timestamps in data packets").
    func makeSenderReport(now: NIODeadline, ntp: UInt64) -> RTCPSenderReport? {
        guard packets > 0 else { return nil }
        let elapsed = min(now - lastSentAt, .hours(1))
        // elapsed ≤ 1 h (a negative one counts as 0) and clockRate < 2^32: a plain product can
        // pass 2^64 for clock rates over ~5 MHz (MediaClock scales seconds and the rest apart);
        // wrapped to 32 bits as RTP timestamps are.
        let ticks = UInt32(truncatingIfNeeded: MediaClock.ticks(elapsed, rate: UInt64(clockRate)))
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

/// Why a NACKed packet is not resent (an `Error` only to travel in a `Result`).
struct RetransmissionRefusal: Error {
    var reason: DropReason
}
