#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the dominant speaker among audio producers: mediasoup's `ActiveSpeakerObserver`
/// (`worker/src/RTC/ActiveSpeakerObserver.cpp`) as a value type that is told the time.
///
/// The algorithm is Volfin & Cohen's dominant speaker identification (see
/// `DominantSpeakerScorer`): every producer gets immediate (20 ms), medium (100 ms) and long (1 s)
/// speech-activity scores, and a challenger replaces the dominant speaker only when it beats it on
/// all three time scales at once (log ratios above C1 = 3, C2 = 2, C3 = 0). In practice:
/// - a lone talker (or the only producer) becomes dominant at the next tick;
/// - a short noise from someone else (a cough, < 1 s) does not win, because the dominant
///   speaker's long-term score stays higher;
/// - sustained speech from someone else wins in the dominant speaker's first pause that a tick
///   sees with the last 100 ms silent (a pause of about `interval` + 100 ms), once the
///   challenger has been talking longer than the dominant speaker within the last second;
///   with conversational pauses (300–500 ms) that is within 1–2 s. Breaths shorter than a
///   tick do not hand over the floor.
///
/// Feed it every RTP packet's RFC 6464 audio level with
/// ``receivedAudioLevel(producerId:dBov:voiceActivity:now:)`` and call ``tick(now:)`` every
/// ``interval``. It returns ``Event/dominantSpeakerChanged(_:)`` only when the dominant speaker
/// changes. Times are any monotonic clock as a `Duration` since an arbitrary origin.
///
/// Differences from mediasoup, all deliberate: producers are visited in the order they were
/// added (mediasoup iterates a hash map, so its choice among equals is arbitrary), and
/// ``currentLevel(of:)`` exposes a smoothed level for UI volume meters.
public struct ActiveSpeakerObserver<ProducerID: Hashable & Sendable>: Sendable {
    /// What a tick (or a removal) reports.
    public enum Event: Sendable, Hashable {
        /// A new producer is the dominant speaker.
        case dominantSpeakerChanged(ProducerID)
    }

    /// A producer's entry: the scorer plus a smoothed level for display.
    private struct Entry: Sendable {
        var scorer: DominantSpeakerScorer
        var smoothedDBov: Double = -127
        var lastSmoothedAt: Int64?
    }

    // MARK: - Constants

    /// Log-ratio thresholds a challenger must exceed on the immediate, medium and long scales.
    static var c1: Double { 3 }
    static var c2: Double { 2 }
    static var c3: Double { 0 }
    /// A producer silent for longer than this (ms) gets a silence frame at each tick.
    static var levelIdleTimeout: Int64 { 40 }
    /// A producer silent for an hour is treated as paused (unless dominant).
    static var speakerIdleTimeout: Int64 { 60 * 60 * 1000 }
    /// Time constant of the displayed level's exponential smoothing (ms).
    static var levelSmoothingTimeConstant: Double { 150 }

    // MARK: - Stored properties

    /// Tick period, clamped to 100 ms … 5 s as mediasoup does (mediasoup default 300 ms; MSAB uses 200).
    public let interval: Duration
    /// The current dominant speaker, if any.
    public private(set) var dominantSpeaker: ProducerID?
    /// Whether the observer itself is paused (levels are ignored, ticks report nothing).
    public private(set) var isPaused = false

    private var order: [ProducerID] = []
    private var entries: [ProducerID: Entry] = [:]
    private var lastLevelIdleTime: Int64?

    // MARK: - Init

    public init(interval: Duration = .milliseconds(300)) {
        self.interval = min(.seconds(5), max(.milliseconds(100), interval))
    }

    // MARK: - API

    /// Adds a producer (mediasoup `AddProducer`); adding it again is a no-op.
    public mutating func addProducer(_ producerId: ProducerID, paused: Bool = false, now: Duration) {
        guard entries[producerId] == nil else { return }
        order.append(producerId)
        entries[producerId] = Entry(scorer: DominantSpeakerScorer(paused: paused, now: now.wholeMilliseconds))
    }

    /// Removes a producer. If it was dominant, the dominant speaker is recomputed at once and a
    /// change is returned if another producer takes over (mediasoup `RemoveProducer`).
    public mutating func removeProducer(_ producerId: ProducerID, now: Duration) -> Event? {
        guard entries.removeValue(forKey: producerId) != nil else { return nil }
        order.removeAll { $0 == producerId }
        guard producerId == dominantSpeaker else { return nil }
        dominantSpeaker = nil
        return isPaused ? nil : update(now: now.wholeMilliseconds)
    }

    /// The producer was paused: it cannot challenge until resumed.
    public mutating func pauseProducer(_ producerId: ProducerID) {
        entries[producerId]?.scorer.paused = true
    }

    /// The producer was resumed.
    public mutating func resumeProducer(_ producerId: ProducerID) {
        entries[producerId]?.scorer.paused = false
    }

    /// One RTP packet's audio level (RFC 6464) from a producer.
    ///
    /// - Parameters:
    ///   - dBov: 0 (loudest) … −127 (silence); clamped to that range.
    ///   - voiceActivity: the extension's V flag; unused, as in mediasoup (not every sender sets it).
    ///   - now: monotonic time of arrival.
    public mutating func receivedAudioLevel(producerId: ProducerID, dBov: Int, voiceActivity: Bool?, now: Duration) {
        guard !isPaused, var entry = entries[producerId] else { return }
        let dBov = clampedDBov(dBov)
        let ms = now.wholeMilliseconds
        // The algorithm works on 0 (silence) … 127 (loudest).
        entry.scorer.levelChanged(127 + dBov, now: ms)
        Self.smooth(&entry, towards: dBov, now: ms)
        entries[producerId] = entry
    }

    /// The periodic update (mediasoup `Update`); call it every ``interval``.
    public mutating func tick(now: Duration) -> Event? {
        guard !isPaused else { return nil }
        return update(now: now.wholeMilliseconds)
    }

    /// A producer's recent level in dBov (0 … −127), smoothed over ~150 ms and decaying to −127
    /// when it stops sending; nil for an unknown producer. Meant for a UI volume value.
    public func currentLevel(of producerId: ProducerID) -> Int? {
        guard let entry = entries[producerId] else { return nil }
        return Int(entry.smoothedDBov.rounded())
    }

    /// Pauses the observer (levels are ignored, ticks report nothing).
    public mutating func pause() {
        isPaused = true
    }

    /// Resumes a paused observer.
    public mutating func resume() {
        isPaused = false
    }

    // MARK: - Private

    private mutating func update(now: Int64) -> Event? {
        if let last = lastLevelIdleTime {
            if now - last >= Self.levelIdleTimeout {
                timeoutIdleLevels(now: now)
                lastLevelIdleTime = now
            }
        } else {
            lastLevelIdleTime = now
        }
        guard !order.isEmpty, let newDominant = calculateDominantSpeaker(), newDominant != dominantSpeaker else {
            return nil
        }
        dominantSpeaker = newDominant
        return .dominantSpeakerChanged(newDominant)
    }

    /// mediasoup `CalculateActiveSpeaker`: the new dominant speaker, or nil to keep the current one.
    private mutating func calculateDominantSpeaker() -> ProducerID? {
        if order.count == 1 {
            return order[0]
        }
        // Without a dominant speaker the first producer is the incumbent to beat (and wins if
        // nobody beats it).
        let incumbent = dominantSpeaker ?? order[0]
        var newDominant: ProducerID? = dominantSpeaker == nil ? incumbent : nil
        entries[incumbent]?.scorer.evaluateActivityScores()
        guard let incumbentScorer = entries[incumbent]?.scorer else { return nil }

        var bestC2 = Self.c2
        for producerId in order where producerId != dominantSpeaker {
            guard var entry = entries[producerId], !entry.scorer.paused else { continue }
            entry.scorer.evaluateActivityScores()
            entries[producerId] = entry
            let scorer = entry.scorer
            let c1 = Self.logRatio(scorer.activityScore(0), incumbentScorer.activityScore(0))
            let c2 = Self.logRatio(scorer.activityScore(1), incumbentScorer.activityScore(1))
            let c3 = Self.logRatio(scorer.activityScore(2), incumbentScorer.activityScore(2))
            if c1 > Self.c1, c2 > Self.c2, c3 > Self.c3, c2 > bestC2 {
                bestC2 = c2
                newDominant = producerId
            }
        }
        return newDominant
    }

    private static func logRatio(_ a: Double, _ b: Double) -> Double {
        // Both scores are floored at 1e-10, so the ratio is finite and positive.
        log(a / b)
    }

    /// mediasoup `TimeoutIdleLevels`: silent producers get silence frames; producers silent for
    /// an hour stop challenging.
    private mutating func timeoutIdleLevels(now: Int64) {
        for producerId in order {
            guard var entry = entries[producerId] else { continue }
            let idle = max(0, now - entry.scorer.lastLevelChangeTime)
            if idle > Self.speakerIdleTimeout, producerId != dominantSpeaker {
                entry.scorer.paused = true
            } else if idle > Self.levelIdleTimeout {
                entry.scorer.levelTimedOut(now: now)
                Self.smooth(&entry, towards: -127, now: now)
            }
            entries[producerId] = entry
        }
    }

    /// Exponential smoothing with a time constant, so the displayed level does not depend on
    /// the packet rate.
    private static func smooth(_ entry: inout Entry, towards dBov: Int, now: Int64) {
        guard let last = entry.lastSmoothedAt else {
            entry.smoothedDBov = Double(dBov)
            entry.lastSmoothedAt = now
            return
        }
        let elapsed = Double(max(0, now - last))
        let alpha = 1 - exp(-elapsed / levelSmoothingTimeConstant)
        entry.smoothedDBov += (Double(dBov) - entry.smoothedDBov) * alpha
        entry.lastSmoothedAt = now
    }
}
