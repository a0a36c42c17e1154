/// Receive statistics of streams that ended (their speaker left, or their listener did), kept
/// so a churn run reports the audio of every listener that was ever present, not only of those
/// still there at the end, while the per-listener stream tables stay small.
struct StreamTotals: Sendable, Hashable {
    var expected: UInt64 = 0
    var received: UInt64 = 0
    var lost: UInt64 = 0
    var reordered: UInt64 = 0
    var duplicates: UInt64 = 0
    var jitterSum = 0.0
    var jitterCount = 0
    var jitterMax = 0.0
    var srtpAuthFailures = 0
    var srtpReplays = 0
    var rtcpReceived = 0

    mutating func add(_ stream: ReceiveStreamStats) {
        add(StreamTotals(stream))
    }

    mutating func add(_ other: StreamTotals) {
        expected &+= other.expected
        received &+= other.received
        lost &+= other.lost
        reordered &+= other.reordered
        duplicates &+= other.duplicates
        jitterSum += other.jitterSum
        jitterCount += other.jitterCount
        jitterMax = max(jitterMax, other.jitterMax)
        srtpAuthFailures += other.srtpAuthFailures
        srtpReplays += other.srtpReplays
        rtcpReceived += other.rtcpReceived
    }
}

extension StreamTotals {
    /// The totals of one stream (in an extension, so the memberwise initializer stays).
    init(_ stream: ReceiveStreamStats) {
        self.init(
            expected: stream.expected, received: stream.received, lost: stream.lost, reordered: stream.reordered, duplicates: stream.duplicates,
            jitterSum: stream.jitterMilliseconds, jitterCount: 1, jitterMax: stream.jitterMilliseconds)
    }
}
