import Testing

@testable import EngineIO

@Suite struct MemoryTrimPolicyTests {
    let start = ContinuousClock.now

    @Test func oneTrimPerWaveOnceTheWaveIsOver() {
        var policy = MemoryTrimPolicy(threshold: 3, quietPeriod: .milliseconds(500))
        for i in 0..<5 { policy.sessionClosed(at: start + .milliseconds(i * 10)) }
        // Still inside the wave: the closed sessions may not all be released yet.
        let trim1 = policy.shouldTrim(now: start + .milliseconds(100))
        #expect(!trim1)
        // Quiet for 500 ms after the last close: trim, once.
        let trim2 = policy.shouldTrim(now: start + .milliseconds(540))
        #expect(trim2)
        let trim3 = policy.shouldTrim(now: start + .milliseconds(2_000))
        #expect(!trim3)
        #expect(policy.closedSinceTrim == 0)
    }

    @Test func aTrickleOfClosesDoesNotTrim() {
        var policy = MemoryTrimPolicy(threshold: 1_000, quietPeriod: .milliseconds(500))
        for i in 0..<999 { policy.sessionClosed(at: start + .seconds(i)) }
        let trim4 = policy.shouldTrim(now: start + .seconds(5_000))
        #expect(!trim4)
        policy.sessionClosed(at: start + .seconds(5_000))
        let trim5 = policy.shouldTrim(now: start + .seconds(5_001))
        #expect(trim5)
    }

    @Test func closesThatKeepComingPostponeTheTrim() {
        var policy = MemoryTrimPolicy(threshold: 2, quietPeriod: .milliseconds(500))
        var now = start
        for _ in 0..<20 {
            policy.sessionClosed(at: now)
            now += .milliseconds(400)
            let trim6 = policy.shouldTrim(now: now)
            #expect(!trim6)
        }
        let trim7 = policy.shouldTrim(now: now + .milliseconds(100))
        #expect(trim7)
    }
}
