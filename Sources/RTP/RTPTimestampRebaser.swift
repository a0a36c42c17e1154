public import NIOCore

/// Keeps a consumer's outgoing RTP timestamps continuous when its source changes (producer
/// replaced, or resumed after a pause), the timestamp counterpart of ``SeqManager/sync(_:)``.
///
/// RTP timestamps of different sources have unrelated random origins (RFC 3550 §5.1), so a
/// receiver's jitter buffer would see a huge jump on a switch. After ``sync()`` the next input is
/// mapped to `lastOutput + elapsed × clockRate` (at least +1), where `elapsed` is the wall time since
/// the last forwarded packet, told by the caller. Between syncs the offset is constant, so the
/// source's own timing (including DTX gaps) is preserved exactly.
public struct RTPTimestampRebaser: Sendable {
    /// The media clock rate in Hz (48 000 for Opus).
    public let clockRate: UInt32
    @usableFromInline var currentOffset: UInt32
    @usableFromInline var needsSync = true
    @usableFromInline var lastOutput: UInt32 = 0
    @usableFromInline var lastOutputAt = NIODeadline.distantPast
    @usableFromInline var hasOutput = false

    /// - Parameters:
    ///   - clockRate: media clock rate in Hz.
    ///   - initialOffset: offset used for the very first packet (0 passes the first source through).
    public init(clockRate: UInt32, initialOffset: UInt32 = 0) {
        precondition(clockRate > 0, "RTP clock rate must be positive")
        self.clockRate = clockRate
        self.currentOffset = initialOffset
    }

    /// The current mapping: output = input &+ offset.
    public var offset: UInt32 { currentOffset }

    /// The next input starts a new timeline (new source, or resumed after a pause).
    public mutating func sync() {
        needsSync = true
    }

    /// The outgoing timestamp for `input`, forwarded at `now`.
    @inlinable
    public mutating func output(for input: UInt32, now: NIODeadline) -> UInt32 {
        if needsSync {
            needsSync = false
            if hasOutput {
                // elapsed × clockRate ticks; elapsed is capped at one hour (a longer pause needs
                // no precision), and at least one tick keeps the output moving forward.
                let elapsed = min(now - lastOutputAt, .hours(1))
                let advance = UInt32(clamping: max(1, MediaClock.ticks(elapsed, rate: UInt64(clockRate))))
                currentOffset = (lastOutput &+ advance) &- input
            }
        }
        let output = input &+ currentOffset
        let difference = output &- lastOutput
        if !hasOutput || (difference != 0 && difference < 0x8000_0000) {
            hasOutput = true
            lastOutput = output
            lastOutputAt = now
        }
        return output
    }
}
