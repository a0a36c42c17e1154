public import NIOCore

/// Reception statistics for one incoming RTP stream, as RFC 3550 Appendix A computes them:
/// sequence validation and the extended highest sequence number (A.1), expected/lost counts and
/// the fraction lost per report interval (A.3), and interarrival jitter (A.8).
///
/// Pure: the caller tells it each packet's arrival time (a monotonic `NIODeadline`); it reads no clock.
public struct RTPReceiveStatistics: Sendable, Hashable {
    /// RFC 3550 A.1 defaults (MAX_DROPOUT 3000, MAX_MISORDER 100).
    public static var maxDropout: UInt16 { 3000 }
    public static var maxMisorder: UInt16 { 100 }

    /// Media clock rate in Hz, used to express arrival times in timestamp units (A.8).
    public let clockRate: UInt32

    // A.1 `source` state.
    @usableFromInline var started = false
    @usableFromInline var maxSequence: UInt16 = 0
    @usableFromInline var cycles: UInt32 = 0  // count of wraps × 2^16
    @usableFromInline var baseSequence: UInt32 = 0
    @usableFromInline var badSequence: UInt32 = 0x1_0001  // RTP_SEQ_MOD + 1: never equal to a 16-bit value
    /// Packets accepted by the A.1 validation (duplicates included, as the RFC counts them).
    public private(set) var packetsReceived: UInt64 = 0
    @usableFromInline var expectedPrior: UInt64 = 0
    @usableFromInline var receivedPrior: UInt64 = 0
    // A.8 state.
    @usableFromInline var transit: UInt32 = 0
    @usableFromInline var hasTransit = false
    @usableFromInline var jitterQ4: UInt32 = 0  // jitter × 16, the RFC's integer form

    public init(clockRate: UInt32) {
        precondition(clockRate > 0, "RTP clock rate must be positive")
        self.clockRate = clockRate
    }

    /// What ``received(sequenceNumber:timestamp:arrival:)`` decided about a packet.
    public enum Verdict: Sendable, Hashable {
        /// Counted (in order, a permissible gap, a duplicate or a reordered packet).
        case accepted
        /// A jump of more than MAX_DROPOUT: not counted, unless the next packet continues from it,
        /// which A.1 treats as the source having restarted.
        case rejectedJump
    }

    /// Feeds one received packet (RFC 3550 A.1 `update_seq`, then A.8 jitter for counted packets).
    @discardableResult
    public mutating func received(sequenceNumber: UInt16, timestamp: UInt32, arrival: NIODeadline) -> Verdict {
        if !started {
            started = true
            restart(at: sequenceNumber)
        } else {
            let delta = sequenceNumber &- maxSequence
            if delta < Self.maxDropout {
                // In order, with a permissible gap.
                if sequenceNumber < maxSequence { cycles &+= 0x1_0000 }
                maxSequence = sequenceNumber
            } else if delta <= UInt16.max - Self.maxMisorder {
                // A very large jump: accept only if the next packet follows it (A.1).
                if UInt32(sequenceNumber) == badSequence {
                    restart(at: sequenceNumber)
                } else {
                    badSequence = (UInt32(sequenceNumber) + 1) & 0xFFFF
                    return .rejectedJump
                }
            }  // else: duplicate or reordered, counted below
        }
        packetsReceived &+= 1
        updateJitter(timestamp: timestamp, arrival: arrival)
        return .accepted
    }

    private mutating func restart(at sequenceNumber: UInt16) {
        baseSequence = UInt32(sequenceNumber)
        maxSequence = sequenceNumber
        badSequence = 0x1_0001
        cycles = 0
        packetsReceived = 0
        receivedPrior = 0
        expectedPrior = 0
        hasTransit = false
        jitterQ4 = 0
    }

    /// A.8: J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16, with arrival expressed in timestamp units.
    private mutating func updateJitter(timestamp: UInt32, arrival: NIODeadline) {
        // Wrapping is fine: only differences of transit times matter, modulo 2^32.
        let arrivalTicks = UInt32(truncatingIfNeeded: MediaClock.ticks(at: arrival, rate: UInt64(clockRate)))
        let newTransit = arrivalTicks &- timestamp
        defer {
            transit = newTransit
            hasTransit = true
        }
        guard hasTransit else { return }
        let d = Int32(bitPattern: newTransit &- transit).magnitude
        // Integer form from A.8: jitter += d - ((jitter + 8) >> 4), jitter kept ×16.
        jitterQ4 = jitterQ4 &+ d &- ((jitterQ4 &+ 8) >> 4)
    }

    // MARK: - Derived values (A.3)

    /// The extended highest sequence number received: cycles in the high 16 bits.
    public var extendedHighestSequenceNumber: UInt32 { cycles &+ UInt32(maxSequence) }

    /// Packets expected: extended highest − base + 1 (0 before any packet).
    public var packetsExpected: UInt64 {
        guard started else { return 0 }
        return UInt64(extendedHighestSequenceNumber &- baseSequence) + 1
    }

    /// Cumulative packets lost (expected − received; negative with duplicates).
    public var cumulativeLost: Int64 { Int64(packetsExpected) - Int64(packetsReceived) }

    /// Interarrival jitter in timestamp units.
    public var jitter: UInt32 { jitterQ4 >> 4 }

    /// Builds the report block for this stream and starts a new report interval (A.3 fraction lost).
    /// - Parameters:
    ///   - ssrc: the reported source.
    ///   - lastSenderReport: LSR, the middle 32 bits of the last SR's NTP time (0 if none).
    ///   - delaySinceLastSenderReport: DLSR in 1/65536 s (0 if none).
    public mutating func makeReportBlock(ssrc: UInt32, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0) -> RTCPReportBlock {
        let expected = packetsExpected
        let expectedInterval = expected &- expectedPrior
        expectedPrior = expected
        let receivedInterval = packetsReceived &- receivedPrior
        receivedPrior = packetsReceived
        let lostInterval = Int64(bitPattern: expectedInterval) - Int64(bitPattern: receivedInterval)
        let fraction: UInt8 =
            (expectedInterval == 0 || lostInterval <= 0) ? 0 : UInt8(clamping: (lostInterval << 8) / Int64(bitPattern: expectedInterval))
        return RTCPReportBlock(
            ssrc: ssrc,
            fractionLost: fraction,
            cumulativeLost: Int32(clamping: cumulativeLost),
            extendedHighestSequenceNumber: extendedHighestSequenceNumber,
            jitter: jitter,
            lastSenderReport: lastSenderReport,
            delaySinceLastSenderReport: delaySinceLastSenderReport
        )
    }
}
