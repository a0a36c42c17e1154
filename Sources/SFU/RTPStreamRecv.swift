import NIOCore
import RTP

/// The receive side of one producer's RTP stream (mediasoup `RtpStreamRecv`): RFC 3550 reception
/// statistics, byte/packet counts, and what the producer's sender reports told us, so the receiver
/// report we send back carries loss, jitter, LSR and DLSR (RFC 3550 §6.4.1).
struct RTPStreamRecv {
    let ssrc: UInt32
    private(set) var statistics: RTPReceiveStatistics
    private(set) var packets: UInt64 = 0
    private(set) var bytes: UInt64 = 0
    /// Middle 32 bits of the last SR's NTP timestamp, and when it arrived.
    private var lastSenderReport: (compactNTP: UInt32, receivedAt: NIODeadline)?
    /// Fraction lost of the last report we built (0…255), for stats.
    private(set) var lastFractionLost: UInt8 = 0

    init(ssrc: UInt32, clockRate: UInt32) {
        self.ssrc = ssrc
        self.statistics = RTPReceiveStatistics(clockRate: clockRate)
    }

    /// One RTP packet of `length` bytes arrived at `now`.
    mutating func received(sequenceNumber: UInt16, timestamp: UInt32, length: Int, now: NIODeadline) {
        packets &+= 1
        bytes &+= UInt64(truncatingIfNeeded: length)
        statistics.received(sequenceNumber: sequenceNumber, timestamp: timestamp, arrival: now)
    }

    /// The producer sent an SR (RFC 3550 §6.4.1).
    mutating func receivedSenderReport(_ report: RTCPSenderReport, now: NIODeadline) {
        lastSenderReport = (report.compactNTPTimestamp, now)
    }

    /// A report block for our next RR; starts a new loss interval.
    mutating func makeReportBlock(now: NIODeadline) -> RTCPReportBlock? {
        guard packets > 0 else { return nil }
        var lsr: UInt32 = 0
        var dlsr: UInt32 = 0
        if let last = lastSenderReport {
            lsr = last.compactNTP
            dlsr = Self.delaySinceLastSenderReport(elapsed: now - last.receivedAt)
        }
        let block = statistics.makeReportBlock(ssrc: ssrc, lastSenderReport: lsr, delaySinceLastSenderReport: dlsr)
        lastFractionLost = block.fractionLost
        return block
    }

    /// DLSR in units of 1/65536 s, saturating at `UInt32.max` (about 18 h, RFC 3550's field
    /// width); a negative span (an earlier `now`) is 0. Split into whole seconds and the rest:
    /// `elapsed * 65_536` alone overflows UInt64 after about 78 hours since the last SR (it
    /// trapped: a producer that sent one SR and then streamed on crashed the process).
    static func delaySinceLastSenderReport(elapsed: TimeAmount) -> UInt32 {
        guard elapsed < .seconds(65_536) else { return UInt32.max }
        // Under 2^16 s, so under 2^32 units: no wrap.
        return UInt32(clamping: MediaClock.ticks(elapsed, rate: 65_536))
    }

    /// Packets lost so far (expected − received, never negative).
    var packetsLost: Int64 { max(0, statistics.cumulativeLost) }
    /// Interarrival jitter in timestamp units.
    var jitter: UInt32 { statistics.jitter }
}
