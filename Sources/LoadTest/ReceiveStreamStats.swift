public import NIOCore
public import RTP

/// What a listener measures on one received stream: RFC 3550 A.1/A.3 loss and A.8 jitter
/// (through ``RTPReceiveStatistics``), plus reordering, which A.1 folds into "received".
/// Pure: arrival times are passed in.
public struct ReceiveStreamStats: Sendable, Hashable {
    public private(set) var rtp: RTPReceiveStatistics
    /// Packets that arrived after a packet with a higher sequence number (not duplicates).
    public private(set) var reordered: UInt64 = 0
    /// Packets whose sequence number had been seen among the last 64.
    public private(set) var duplicates: UInt64 = 0
    private var highest: UInt16?
    /// Bit i set: `highest - i` has been received (i < 64).
    private var window: UInt64 = 0

    public init(clockRate: UInt32 = 48_000) {
        rtp = RTPReceiveStatistics(clockRate: clockRate)
    }

    /// Feeds one authenticated packet.
    public mutating func received(sequenceNumber: UInt16, timestamp: UInt32, arrival: NIODeadline) {
        if let top = highest {
            let ahead = sequenceNumber &- top
            if ahead != 0, ahead < 0x8000 {
                window = ahead >= 64 ? 1 : (window << UInt64(ahead)) | 1
                highest = sequenceNumber
            } else {
                let behind = top &- sequenceNumber
                if behind < 64, window & (1 << UInt64(behind)) != 0 {
                    duplicates += 1
                } else {
                    if behind < 64 { window |= 1 << UInt64(behind) }
                    reordered += 1
                }
            }
        } else {
            highest = sequenceNumber
            window = 1
        }
        rtp.received(sequenceNumber: sequenceNumber, timestamp: timestamp, arrival: arrival)
    }

    /// Packets expected so far (from the first to the highest sequence number).
    public var expected: UInt64 { rtp.packetsExpected }
    /// Packets counted as received (RFC 3550 counts duplicates too).
    public var received: UInt64 { rtp.packetsReceived }
    /// Lost packets, never negative.
    public var lost: UInt64 { UInt64(max(0, rtp.cumulativeLost)) }
    /// Interarrival jitter in milliseconds.
    public var jitterMilliseconds: Double { Double(rtp.jitter) * 1000 / Double(rtp.clockRate) }
}
