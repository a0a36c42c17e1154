import NIOCore

/// What a listener has received, whichever server it listens to: the statistics of each stream
/// (by SSRC), when the last verified packet arrived, and the totals of streams that ended. The
/// table is bounded: a stream beyond `maximumStreams` is not counted, so a server (or a bug)
/// that sends from ever new SSRCs cannot grow it. Pure: arrival times are passed in.
struct ReceiveLog: Sendable {
    let maximumStreams: Int
    private(set) var streams: [UInt32: ReceiveStreamStats] = [:]
    private(set) var lastPacketAt: NIODeadline?
    /// Streams folded in by ``retire(ssrc:)`` (their producer closed).
    private(set) var retired = StreamTotals()

    init(maximumStreams: Int) {
        self.maximumStreams = maximumStreams
    }

    /// One verified RTP packet arrived. False when its stream is not counted (the table is full).
    mutating func received(sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, at now: NIODeadline) -> Bool {
        lastPacketAt = now
        guard streams[ssrc] != nil || streams.count < maximumStreams else { return false }
        streams[ssrc, default: ReceiveStreamStats()].received(sequenceNumber: sequenceNumber, timestamp: timestamp, arrival: now)
        return true
    }

    /// The stream ended: its statistics move to ``retired`` (a later stream with the same SSRC is a new one).
    mutating func retire(ssrc: UInt32) {
        if let stream = streams.removeValue(forKey: ssrc) { retired.add(stream) }
    }
}
