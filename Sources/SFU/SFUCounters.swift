/// Plain per-worker counters, bumped on the packet path with no atomics or locks (everything of a
/// worker runs on its event loop); the NIO shell publishes deltas to swift-metrics from its tick.
public struct SFUCounters: Sendable, Hashable {
    /// Datagrams handed to the worker (``SFUWorker/handleDatagram(_:from:now:)``).
    public var datagramsIn: UInt64 = 0
    /// RTP packets accepted from producers (after SRTP, before the pause check).
    public var rtpIn: UInt64 = 0
    /// RTP packets sent to consumers (including retransmissions).
    public var rtpOut: UInt64 = 0
    /// RTCP compounds sent (SR/RR + SDES).
    public var rtcpOut: UInt64 = 0
    /// Retransmissions answered from a retransmission buffer.
    public var retransmissions: UInt64 = 0
    /// Drops by reason, indexed by ``DropReason/rawValue``.
    public var drops: [UInt64] = Array(repeating: 0, count: DropReason.allCases.count)

    public init() {}

    /// Counts one drop.
    @inlinable
    public mutating func drop(_ reason: DropReason) {
        drops[reason.rawValue] &+= 1
    }

    /// The count for `reason`.
    public subscript(reason: DropReason) -> UInt64 { drops[reason.rawValue] }

    /// All drops together.
    public var totalDrops: UInt64 { drops.reduce(0, &+) }
}
