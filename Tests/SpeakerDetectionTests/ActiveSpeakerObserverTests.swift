import Testing

@testable import SpeakerDetection

/// Synthetic audio-level sequences for the dominant-speaker tests, one level per 20 ms packet.
///
/// Speech varies (as real speech does) between −18 and −34 dBov; background noise sits around
/// −70 dBov. The algorithm learns each producer's noise floor from its quietest levels, so every
/// producer sends noise before it speaks, as a real microphone does.
enum Signal {
    /// Background noise, −68 … −72 dBov.
    static func noise(_ t: Int) -> Int { -70 + (t / 20 % 5) - 2 }
    /// Speech, −18 … −34 dBov.
    static func speech(_ t: Int) -> Int { -18 - (t / 20 * 7 % 17) }
    /// Louder speech, −8 … −20 dBov.
    static func loudSpeech(_ t: Int) -> Int { -8 - (t / 20 * 5 % 13) }
    /// Conversational speech: 1.4 s talk spurts separated by 400 ms pauses (noise).
    static func conversational(_ t: Int) -> Int { t % 1800 < 1400 ? speech(t) : noise(t) }
}

/// Drives an observer with 20 ms packets and ticks every `interval`, collecting events.
struct Simulation {
    typealias Observer = ActiveSpeakerObserver<String>
    var observer: Observer
    var now = 0
    var events: [(time: Int, speaker: String)] = []

    init(interval: Int = 200, producers: [String]) {
        observer = Observer(interval: .milliseconds(interval))
        for producer in producers { observer.addProducer(producer, now: .zero) }
    }

    /// Runs until `end` ms; `level` gives each producer's dBov at a time, nil for "no packet".
    mutating func run(until end: Int, _ level: (String, Int) -> Int?) {
        let interval = Int(observer.interval.components.seconds * 1000 + observer.interval.components.attoseconds / 1_000_000_000_000_000)
        let producers = ["a", "b", "c"]
        while now < end {
            now += 20
            for producer in producers {
                if let dBov = level(producer, now) {
                    observer.receivedAudioLevel(producerId: producer, dBov: dBov, voiceActivity: true, now: .milliseconds(now))
                }
            }
            if now % interval == 0, case .dominantSpeakerChanged(let speaker) = observer.tick(now: .milliseconds(now)) {
                events.append((now, speaker))
            }
        }
    }
}

@Suite("ActiveSpeakerObserver")
struct ActiveSpeakerObserverTests {
    @Test func intervalDefaultAndClamping() {
        #expect(ActiveSpeakerObserver<Int>().interval == .milliseconds(300))
        #expect(ActiveSpeakerObserver<Int>(interval: .milliseconds(200)).interval == .milliseconds(200))
        #expect(ActiveSpeakerObserver<Int>(interval: .milliseconds(20)).interval == .milliseconds(100))
        #expect(ActiveSpeakerObserver<Int>(interval: .seconds(10)).interval == .seconds(5))
    }

    @Test func aLoneProducerIsDominantAtTheFirstTick() {
        var sim = Simulation(producers: ["a"])
        sim.run(until: 2000) { _, t in Signal.speech(t) }
        #expect(sim.events.map(\.speaker) == ["a"])
        #expect(sim.events.first?.time == 200)
        #expect(sim.observer.dominantSpeaker == "a")
    }

    @Test func nothingToReportWithoutProducers() {
        var observer = ActiveSpeakerObserver<String>(interval: .milliseconds(200))
        #expect(observer.tick(now: .milliseconds(200)) == nil)
        #expect(observer.dominantSpeaker == nil)
    }

    @Test func aSingleTalkerBecomesDominantWithinOneSecond() {
        // "a" was added first, so it is the incumbent while everyone is quiet (mediasoup picks a
        // producer at the first tick); "b" starts talking at 2 s and must take over within 1 s.
        var sim = Simulation(producers: ["a", "b", "c"])
        sim.run(until: 6000) { producer, t in
            producer == "b" && t > 2000 ? Signal.speech(t) : Signal.noise(t)
        }
        #expect(sim.events.first?.speaker == "a")
        let switchToB = sim.events.first { $0.speaker == "b" }
        #expect(switchToB != nil)
        #expect((switchToB?.time ?? .max) <= 3000)
        #expect(sim.events.map(\.speaker) == ["a", "b"])  // and it stays
    }

    @Test func aTalkerWinsOverAProducerThatStoppedSending() {
        var sim = Simulation(producers: ["a", "b"])
        // "a" sends nothing at all (DTX / muted); the idle timeout turns that into silence.
        sim.run(until: 4000) { producer, t in
            producer == "a" ? nil : (t > 1000 ? Signal.speech(t) : Signal.noise(t))
        }
        #expect(sim.events.last?.speaker == "b")
        #expect((sim.events.first { $0.speaker == "b" }?.time ?? .max) <= 2000)
    }

    @Test func aCoughDoesNotStealDominance() {
        var sim = Simulation(producers: ["a", "b"])
        sim.run(until: 6000) { producer, t in
            switch producer {
            case "a": t > 1000 ? Signal.speech(t) : Signal.noise(t)
            // 200 ms of a very loud noise at 3.5 s while "a" keeps talking.
            default: (3500..<3700).contains(t) ? -3 : Signal.noise(t)
            }
        }
        #expect(sim.events.map(\.speaker) == ["a"])
    }

    @Test func aCoughInTheSpeakersPauseDoesNotStealDominance() {
        // The hard case: "b" coughs for 200 ms exactly while "a" pauses (3.2–3.6 s), so "b" wins
        // on the immediate and medium scales; the long (1 s) scale keeps "a".
        var sim = Simulation(producers: ["a", "b"])
        sim.run(until: 6000) { producer, t in
            switch producer {
            case "a": t > 1000 ? Signal.conversational(t) : Signal.noise(t)
            default: (3260..<3460).contains(t) ? -3 : Signal.noise(t)
            }
        }
        #expect(sim.events.map(\.speaker) == ["a"])
    }

    @Test func sustainedSpeechFromAnotherSwitchesWithinTwoSeconds() {
        var sim = Simulation(producers: ["a", "b"])
        // "a" talks conversationally from 1 s; "b" starts louder, sustained speech at 4 s.
        sim.run(until: 8000) { producer, t in
            switch producer {
            case "a": t > 1000 ? Signal.conversational(t) : Signal.noise(t)
            default: t > 4000 ? Signal.loudSpeech(t) : Signal.noise(t)
            }
        }
        #expect(sim.events.first?.speaker == "a")
        let switchToB = sim.events.first { $0.speaker == "b" }
        #expect(switchToB != nil)
        #expect((switchToB?.time ?? .max) <= 6000)
        // "a" keeps talking, but never wins back while "b" talks without pause.
        #expect(sim.events.map(\.speaker) == ["a", "b"])
    }

    @Test func aShortBreathIsNotEnoughToSwitch() {
        // The challenger wins in a pause of the dominant speaker that a tick observes with the
        // medium (100 ms) window empty: with 200 ms ticks, 120 ms breaths are never enough.
        var sim = Simulation(producers: ["a", "b"])
        sim.run(until: 8000) { producer, t in
            switch producer {
            case "a": t > 1000 ? (t % 1000 < 880 ? Signal.speech(t) : Signal.noise(t)) : Signal.noise(t)
            default: t > 3000 ? Signal.loudSpeech(t) : Signal.noise(t)
            }
        }
        #expect(sim.events.map(\.speaker) == ["a"])
    }

    @Test func dominanceFollowsTurnTaking() {
        var sim = Simulation(producers: ["a", "b"])
        // a talks 1–4 s, b talks 4–7 s, a talks again 7–10 s; each is silent otherwise.
        sim.run(until: 10000) { producer, t in
            let talking = producer == "a" ? ((1000..<4000).contains(t) || t >= 7000) : (4000..<7000).contains(t)
            return talking ? Signal.speech(t) : Signal.noise(t)
        }
        #expect(sim.events.map(\.speaker) == ["a", "b", "a"])
        #expect(sim.events[1].time > 4000 && sim.events[1].time <= 5000)
        #expect(sim.events[2].time > 7000 && sim.events[2].time <= 8000)
    }

    @Test func eventsOnlyOnChange() {
        var sim = Simulation(producers: ["a", "b", "c"])
        sim.run(until: 10000) { producer, t in
            producer == "c" && t > 500 ? Signal.speech(t) : Signal.noise(t)
        }
        // Ten seconds of ticks, but only two changes: the initial pick and "c".
        #expect(sim.events.map(\.speaker) == ["a", "c"])
        for (previous, next) in zip(sim.events, sim.events.dropFirst()) {
            #expect(previous.speaker != next.speaker)
        }
    }

    @Test func pausedProducersCannotTakeOver() {
        var sim = Simulation(producers: ["a", "b"])
        sim.observer.pauseProducer("b")
        sim.run(until: 3000) { producer, t in
            producer == "b" && t > 1000 ? Signal.loudSpeech(t) : Signal.noise(t)
        }
        #expect(sim.events.map(\.speaker) == ["a"])
        sim.observer.resumeProducer("b")
        sim.run(until: 5000) { producer, t in
            producer == "b" ? Signal.loudSpeech(t) : Signal.noise(t)
        }
        #expect(sim.events.map(\.speaker) == ["a", "b"])
    }

    @Test func removingTheDominantSpeakerPicksAnotherAtOnce() {
        var sim = Simulation(producers: ["a", "b", "c"])
        sim.run(until: 3000) { producer, t in
            switch producer {
            case "b": t > 500 ? Signal.speech(t) : Signal.noise(t)
            case "c": t > 1000 ? Signal.speech(t) : Signal.noise(t)
            default: Signal.noise(t)
            }
        }
        #expect(sim.observer.dominantSpeaker == "b")
        #expect(sim.observer.removeProducer("b", now: .milliseconds(3000)) == .dominantSpeakerChanged("c"))
        #expect(sim.observer.dominantSpeaker == "c")
        #expect(sim.observer.removeProducer("a", now: .milliseconds(3000)) == nil)
        #expect(sim.observer.removeProducer("zzz", now: .milliseconds(3000)) == nil)
    }

    @Test func pausedObserverIgnoresLevelsAndReportsNothing() {
        var sim = Simulation(producers: ["a"])
        sim.observer.pause()
        sim.run(until: 1000) { _, t in Signal.speech(t) }
        #expect(sim.events.isEmpty)
        #expect(sim.observer.currentLevel(of: "a") == -127)
        sim.observer.resume()
        sim.run(until: 1400) { _, t in Signal.speech(t) }
        #expect(sim.events.map(\.speaker) == ["a"])
    }

    @Test func currentLevelIsSmoothedAndDecays() {
        var observer = ActiveSpeakerObserver<String>(interval: .milliseconds(200))
        observer.addProducer("a", now: .zero)
        #expect(observer.currentLevel(of: "a") == -127)
        #expect(observer.currentLevel(of: "nobody") == nil)
        for t in stride(from: 20, through: 1000, by: 20) {
            observer.receivedAudioLevel(producerId: "a", dBov: -30, voiceActivity: true, now: .milliseconds(t))
        }
        #expect(observer.currentLevel(of: "a") == -30)
        // One loud packet moves the smoothed level only part of the way (20 ms vs 150 ms).
        observer.receivedAudioLevel(producerId: "a", dBov: 0, voiceActivity: true, now: .milliseconds(1020))
        let afterSpike = observer.currentLevel(of: "a") ?? 0
        #expect(afterSpike > -30 && afterSpike < -20)
        // The producer stops sending: the idle timeout at each tick pulls the level to silence.
        for t in stride(from: 1200, through: 3000, by: 200) {
            _ = observer.tick(now: .milliseconds(t))
        }
        #expect((observer.currentLevel(of: "a") ?? 0) < -120)
    }
}

@Suite("DominantSpeakerScorer")
struct DominantSpeakerScorerTests {
    @Test(arguments: [(13, 10, 286), (13, 0, 1), (13, 13, 1), (10, 1, 10), (5, 2, 10), (10, 5, 252)])
    func binomialCoefficients(n: Int, r: Int, expected: Int) {
        #expect(DominantSpeakerScorer.binomialCoefficient(n, r) == expected)
    }

    @Test func activityScoresFollowThePaperFormula() {
        // log C(10,1) + log 0.5 + 9 log 0.5 − log 47 + 47 ≈ 38.5 (long scale, one active medium).
        let long1 = DominantSpeakerScorer.activityScore(1, 10, 0.5, 47)
        #expect(abs(long1 - 38.523) < 0.01)
        // No activity scores the floor, not a negative number.
        #expect(DominantSpeakerScorer.activityScore(0, 13, 0.5, 0.78) == DominantSpeakerScorer.minActivityScore)
        // More activity, higher score, on the medium scale.
        #expect(DominantSpeakerScorer.activityScore(5, 5, 0.5, 24) > DominantSpeakerScorer.activityScore(4, 5, 0.5, 24))
    }

    @Test func levelsBelowTheNoiseFloorDoNotCount() {
        var scorer = DominantSpeakerScorer(paused: false, now: 0)
        // Steady noise at level 57 (−70 dBov) learns the floor; no activity.
        for t in stride(from: 20, through: 1000, by: 20) { scorer.levelChanged(57, now: Int64(t)) }
        scorer.evaluateActivityScores()
        #expect(scorer.immediateActivityScore == DominantSpeakerScorer.minActivityScore)
        // Speech well above the floor is active on all three scales after 100 ms.
        for t in stride(from: 1020, through: 1100, by: 20) { scorer.levelChanged(105, now: Int64(t)) }
        scorer.evaluateActivityScores()
        #expect(scorer.immediateActivityScore > 1)
        #expect(scorer.mediumActivityScore > 100)
        #expect(scorer.longActivityScore > 30)
    }

    @Test func oneLatePacketFillsTheGap() {
        var scorer = DominantSpeakerScorer(paused: false, now: 0)
        scorer.levelChanged(57, now: 20)
        // 1 s later: the 50-frame buffer is filled with this level at once.
        scorer.levelChanged(105, now: 1020)
        scorer.evaluateActivityScores()
        #expect(scorer.longActivityScore > 400)  // all ten mediums active
        // Time going backwards is ignored.
        scorer.levelChanged(0, now: 500)
        #expect(scorer.lastLevelChangeTime == 1020)
    }
}
