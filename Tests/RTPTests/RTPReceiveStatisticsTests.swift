import NIOCore
import RTP
import Testing

@Suite("RTPReceiveStatistics (RFC 3550 A.1, A.3, A.8)")
struct RTPReceiveStatisticsTests {
    /// 20 ms Opus packets: 960 ticks at 48 kHz.
    static let frame: UInt64 = 20_000_000

    @Test("no loss: expected = received, fraction 0")
    func noLoss() {
        var stats = RTPReceiveStatistics(clockRate: 48000)
        for i in 0..<100 {
            stats.received(sequenceNumber: UInt16(1000 + i), timestamp: UInt32(i * 960), arrival: .uptimeNanoseconds(UInt64(i) * Self.frame))
        }
        #expect(stats.packetsExpected == 100)
        #expect(stats.packetsReceived == 100)
        #expect(stats.cumulativeLost == 0)
        #expect(stats.extendedHighestSequenceNumber == 1099)
        #expect(stats.jitter == 0)
        let block = stats.makeReportBlock(ssrc: 9, lastSenderReport: 7, delaySinceLastSenderReport: 8)
        #expect(
            block
                == RTCPReportBlock(
                    ssrc: 9,
                    fractionLost: 0,
                    cumulativeLost: 0,
                    extendedHighestSequenceNumber: 1099,
                    jitter: 0,
                    lastSenderReport: 7,
                    delaySinceLastSenderReport: 8
                )
        )
    }

    @Test("10 of 100 lost: fraction 25/256, then a clean interval reports 0")
    func lossAndInterval() {
        var stats = RTPReceiveStatistics(clockRate: 48000)
        for i in 0..<100 where i % 10 != 5 {
            stats.received(sequenceNumber: UInt16(i), timestamp: UInt32(i * 960), arrival: .uptimeNanoseconds(UInt64(i) * Self.frame))
        }
        #expect(stats.cumulativeLost == 10)
        let first = stats.makeReportBlock(ssrc: 1)
        #expect(first.fractionLost == 25)  // (10 << 8) / 100
        #expect(first.cumulativeLost == 10)
        for i in 100..<150 {
            stats.received(sequenceNumber: UInt16(i), timestamp: UInt32(i * 960), arrival: .uptimeNanoseconds(UInt64(i) * Self.frame))
        }
        let second = stats.makeReportBlock(ssrc: 1)
        #expect(second.fractionLost == 0)
        #expect(second.cumulativeLost == 10)
    }

    @Test("sequence wrap increments the cycle count")
    func wrap() {
        var stats = RTPReceiveStatistics(clockRate: 48000)
        for i in 0..<17 {
            stats.received(sequenceNumber: UInt16(truncatingIfNeeded: 65530 + i), timestamp: 0, arrival: .distantPast)
        }
        #expect(stats.extendedHighestSequenceNumber == 65536 + 10)
        #expect(stats.packetsExpected == 17)
        #expect(stats.cumulativeLost == 0)
    }

    @Test("duplicates make the loss negative; reordering is not loss")
    func duplicatesAndReordering() {
        var stats = RTPReceiveStatistics(clockRate: 48000)
        for seq: UInt16 in [1, 2, 4, 3, 5, 5, 5] {
            #expect(stats.received(sequenceNumber: seq, timestamp: 0, arrival: .distantPast) == .accepted)
        }
        #expect(stats.packetsExpected == 5)
        #expect(stats.cumulativeLost == -2)
        #expect(stats.makeReportBlock(ssrc: 1).fractionLost == 0)
    }

    @Test("a big jump is rejected once, then accepted as a restart when followed")
    func jump() {
        var stats = RTPReceiveStatistics(clockRate: 48000)
        stats.received(sequenceNumber: 100, timestamp: 0, arrival: .distantPast)
        stats.received(sequenceNumber: 101, timestamp: 0, arrival: .distantPast)
        #expect(stats.received(sequenceNumber: 30000, timestamp: 0, arrival: .distantPast) == .rejectedJump)
        #expect(stats.extendedHighestSequenceNumber == 101)
        #expect(stats.received(sequenceNumber: 30001, timestamp: 0, arrival: .distantPast) == .accepted)
        #expect(stats.extendedHighestSequenceNumber == 30001)
        #expect(stats.packetsExpected == 1)
        #expect(stats.packetsReceived == 1)
    }

    @Test("jitter converges to the alternating transit difference (A.8)")
    func jitter() {
        var stats = RTPReceiveStatistics(clockRate: 48000)
        for i in 0..<500 {
            // Every other packet arrives 10 ms (480 ticks) late: |D| = 480 for every pair.
            let late: UInt64 = i % 2 == 1 ? 10_000_000 : 0
            stats.received(
                sequenceNumber: UInt16(i),
                timestamp: UInt32(i * 960) &+ 123_456,
                arrival: .uptimeNanoseconds(5_000_000_000 + UInt64(i) * Self.frame + late)
            )
        }
        #expect((470...480).contains(stats.jitter), "jitter \(stats.jitter)")
    }
}
