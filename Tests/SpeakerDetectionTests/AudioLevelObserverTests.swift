import Testing

@testable import SpeakerDetection

@Suite("AudioLevelObserver")
struct AudioLevelObserverTests {
    typealias Observer = AudioLevelObserver<String>

    /// Sends `count` levels for a producer, 20 ms apart, starting at `start` ms.
    static func feed(_ observer: inout Observer, _ producer: String, _ dBovs: [Int], start: Int = 0) {
        for (index, dBov) in dBovs.enumerated() {
            observer.receivedAudioLevel(producerId: producer, dBov: dBov, voiceActivity: nil, now: .milliseconds(start + index * 20))
        }
    }

    @Test func defaultsAndClamping() {
        let defaults = Observer.Options()
        #expect(defaults.maxEntries == 1)
        #expect(defaults.threshold == -80)
        #expect(defaults.interval == .milliseconds(1000))
        #expect(Observer.Options(interval: .milliseconds(10)).interval == .milliseconds(250))
        #expect(Observer.Options(interval: .seconds(60)).interval == .seconds(5))
    }

    @Test func reportsLoudestFirstAtMostMaxEntries() {
        var observer = Observer(options: .init(maxEntries: 2, threshold: -60, interval: .milliseconds(500)))
        for producer in ["a", "b", "c", "d"] { observer.addProducer(producer) }
        Self.feed(&observer, "a", Array(repeating: -40, count: 25))
        Self.feed(&observer, "b", Array(repeating: -10, count: 25))
        Self.feed(&observer, "c", Array(repeating: -30, count: 25))
        Self.feed(&observer, "d", Array(repeating: -70, count: 25))  // below threshold
        #expect(observer.tick(now: .milliseconds(500)) == .volumes([.init(producerId: "b", volume: -10), .init(producerId: "c", volume: -30)]))
    }

    @Test func averageIsTruncatedTowardZeroLikeMediasoup() {
        var observer = Observer(options: .init(maxEntries: 3))
        observer.addProducer("a")
        // Sum of |dBov| = 5·20 + 5·21 = 205 over 10 levels → 20 (integer division) → −20.
        Self.feed(&observer, "a", Array(repeating: -20, count: 5) + Array(repeating: -21, count: 5))
        #expect(observer.tick(now: .seconds(1)) == .volumes([.init(producerId: "a", volume: -20)]))
    }

    @Test func needsTenLevelsInTheInterval() {
        var observer = Observer()
        observer.addProducer("a")
        Self.feed(&observer, "a", Array(repeating: -10, count: 9))
        #expect(observer.tick(now: .seconds(1)) == nil)
        Self.feed(&observer, "a", Array(repeating: -10, count: 10), start: 1000)
        #expect(observer.tick(now: .seconds(2)) == .volumes([.init(producerId: "a", volume: -10)]))
    }

    @Test func levelsAreClampedToTheRFC6464Range() {
        var observer = Observer(options: .init(maxEntries: 2, threshold: -127))
        observer.addProducer("loud")
        observer.addProducer("quiet")
        Self.feed(&observer, "loud", Array(repeating: 12, count: 10))
        Self.feed(&observer, "quiet", Array(repeating: -500, count: 10))
        #expect(observer.tick(now: .seconds(1)) == .volumes([.init(producerId: "loud", volume: 0), .init(producerId: "quiet", volume: -127)]))
    }

    @Test func silenceOnceAfterVolumesAndNeverBefore() {
        var observer = Observer()
        observer.addProducer("a")
        #expect(observer.tick(now: .seconds(1)) == nil)  // Silent from the start: nothing.
        Self.feed(&observer, "a", Array(repeating: -30, count: 50), start: 1000)
        #expect(observer.tick(now: .seconds(2)) == .volumes([.init(producerId: "a", volume: -30)]))
        // Each interval starts from zero: no new levels means silence, once.
        #expect(observer.tick(now: .seconds(3)) == .silence)
        #expect(observer.tick(now: .seconds(4)) == nil)
        Self.feed(&observer, "a", Array(repeating: -90, count: 50), start: 4000)  // below −80
        #expect(observer.tick(now: .seconds(5)) == nil)
        Self.feed(&observer, "a", Array(repeating: -30, count: 50), start: 5000)
        #expect(observer.tick(now: .seconds(6)) == .volumes([.init(producerId: "a", volume: -30)]))
    }

    @Test func pausedRemovedAndUnknownProducersDoNotCount() {
        var observer = Observer(options: .init(maxEntries: 5))
        observer.addProducer("a")
        observer.addProducer("b", paused: true)
        observer.addProducer("c")
        observer.pauseProducer("c")
        Self.feed(&observer, "a", Array(repeating: -30, count: 10))
        Self.feed(&observer, "b", Array(repeating: -20, count: 10))
        Self.feed(&observer, "c", Array(repeating: -20, count: 10))
        Self.feed(&observer, "ghost", Array(repeating: -10, count: 10))
        #expect(observer.tick(now: .seconds(1)) == .volumes([.init(producerId: "a", volume: -30)]))

        observer.resumeProducer("b")
        observer.removeProducer("a")
        Self.feed(&observer, "a", Array(repeating: -30, count: 10), start: 1000)
        Self.feed(&observer, "b", Array(repeating: -20, count: 10), start: 1000)
        #expect(observer.tick(now: .seconds(2)) == .volumes([.init(producerId: "b", volume: -20)]))
    }

    @Test func pausingTheObserverReportsSilenceAndIgnoresLevels() {
        var observer = Observer()
        observer.addProducer("a")
        Self.feed(&observer, "a", Array(repeating: -30, count: 10))
        #expect(observer.tick(now: .seconds(1)) == .volumes([.init(producerId: "a", volume: -30)]))
        #expect(observer.pause() == .silence)
        #expect(observer.pause() == nil)
        Self.feed(&observer, "a", Array(repeating: -30, count: 10), start: 1000)
        #expect(observer.tick(now: .seconds(2)) == nil)
        observer.resume()
        #expect(observer.tick(now: .seconds(3)) == nil)  // Levels sent while paused were dropped.
        Self.feed(&observer, "a", Array(repeating: -30, count: 10), start: 3000)
        #expect(observer.tick(now: .seconds(4)) == .volumes([.init(producerId: "a", volume: -30)]))
    }

    @Test func msabHeadSettings() {
        // MSAB HEAD's observer: {maxEntries: 16, threshold: −55, interval: 500}.
        var observer = Observer(options: .init(maxEntries: 16, threshold: -55, interval: .milliseconds(500)))
        let producers = (0..<20).map { "p\($0)" }
        for producer in producers { observer.addProducer(producer) }
        for (index, producer) in producers.enumerated() {
            Self.feed(&observer, producer, Array(repeating: -index * 3, count: 25))  // 0, −3, … −57
        }
        guard case .volumes(let volumes) = observer.tick(now: .milliseconds(500)) else {
            Issue.record("expected volumes")
            return
        }
        #expect(volumes.count == 16)
        #expect(volumes.map(\.producerId) == Array(producers.prefix(16)))
        #expect(volumes.map(\.volume) == (0..<16).map { -$0 * 3 })
    }
}

@Suite struct DurationMillisecondsTests {
    @Test func wholeMillisecondsSaturatesInsteadOfTrapping() {
        #expect(Duration.milliseconds(1_234).wholeMilliseconds == 1_234)
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).wholeMilliseconds == Int64.min)
    }
}
