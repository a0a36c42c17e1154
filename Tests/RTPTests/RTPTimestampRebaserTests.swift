import NIOCore
import RTP
import Testing

@Suite("RTPTimestampRebaser")
struct RTPTimestampRebaserTests {
    @Test("passes the first source through and keeps its spacing")
    func passThrough() {
        var rebaser = RTPTimestampRebaser(clockRate: 48000)
        #expect(rebaser.output(for: 1000, now: .uptimeNanoseconds(0)) == 1000)
        #expect(rebaser.output(for: 1960, now: .uptimeNanoseconds(20_000_000)) == 1960)
        // DTX gap: the source's own timestamps carry it.
        #expect(rebaser.output(for: 48_000, now: .uptimeNanoseconds(1_000_000_000)) == 48_000)
    }

    @Test("a new source continues from the last output plus the elapsed time")
    func switchSource() {
        var rebaser = RTPTimestampRebaser(clockRate: 48000, initialOffset: 5)
        #expect(rebaser.output(for: 0xFFFF_FF00, now: .uptimeNanoseconds(1_000_000_000)) == 0xFFFF_FF05)
        rebaser.sync()
        // 0.5 s later a new source with an unrelated origin: +24 000 ticks, across the 32-bit wrap.
        let out = rebaser.output(for: 77, now: .uptimeNanoseconds(1_500_000_000))
        #expect(out == 0xFFFF_FF05 &+ 24_000)
        #expect(rebaser.output(for: 77 + 960, now: .uptimeNanoseconds(1_520_000_000)) == out &+ 960)
    }

    @Test("a sync with no elapsed time still moves forward by one tick")
    func zeroElapsed() {
        var rebaser = RTPTimestampRebaser(clockRate: 48000)
        #expect(rebaser.output(for: 500, now: .uptimeNanoseconds(10)) == 500)
        rebaser.sync()
        #expect(rebaser.output(for: 9, now: .uptimeNanoseconds(10)) == 501)
    }

    @Test("reordered old packets do not move the reference forward")
    func reordered() {
        var rebaser = RTPTimestampRebaser(clockRate: 8000)
        _ = rebaser.output(for: 1600, now: .uptimeNanoseconds(200_000_000))
        _ = rebaser.output(for: 800, now: .uptimeNanoseconds(210_000_000))  // late
        rebaser.sync()
        // Elapsed is measured from the 1600 packet (at 200 ms): 100 ms = 800 ticks.
        #expect(rebaser.output(for: 0, now: .uptimeNanoseconds(300_000_000)) == 2400)
    }
}
