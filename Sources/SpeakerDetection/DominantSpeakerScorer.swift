#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-producer state of dominant speaker identification: mediasoup's
/// `ActiveSpeakerObserver::Speaker` (`worker/src/RTC/ActiveSpeakerObserver.cpp`), itself a port
/// of Jitsi's `DominantSpeakerIdentification.java`, which implements
/// I. Volfin and I. Cohen, "Dominant Speaker Identification for Multipoint Videoconferencing",
/// Computer Speech & Language 27(4), 2013.
///
/// Levels arrive as 0 (silence) … 127 (loudest), one per 20 ms "frame". Three time scales:
/// - *immediates* (one per frame, the last 50 frames = 1 s): the level quantised into N1 = 13
///   sub-bands, after removing the adaptive noise floor (`minLevel`);
/// - *mediums* (one per 5 frames = 100 ms, 10 of them): how many immediates exceed 7 (active);
/// - *long* (one per 10 mediums = 1 s): how many mediums exceed 4.
/// Each scale's newest value gives a speech-activity score (paper §3, eq. 6: log-likelihood
/// ratio of a binomial speech model against an exponential non-speech model).
struct DominantSpeakerScorer: Sendable {
    // MARK: Constants (names as in mediasoup)

    /// Sub-bands per scale: immediates 0…13, mediums 0…5, long 0…10.
    static let n1 = 13
    static let n2 = 5
    static let n3 = 10
    static let longCount = 1
    static let maxLevel = 127
    static let minLevel = 0
    /// Frames over which a new noise floor candidate is collected (15 s of 20 ms frames).
    static let minLevelWindowLength = 15 * 1000 / 20
    /// A medium counts the immediates above this; a long counts the mediums above `longThreshold`.
    static let mediumThreshold = 7
    static let longThreshold = 4
    static let subunitLengthN1 = (maxLevel - minLevel + n1 - 1) / n1
    static let immediateBufferLength = longCount * n3 * n2
    static let mediumsBufferLength = longCount * n3
    static let longsBufferLength = longCount
    static let levelsBufferLength = longCount * n3 * n2
    static let minActivityScore = 0.0000000001
    /// The algorithm expects one level per 20 ms.
    static let frameMilliseconds: Int64 = 20

    // MARK: State

    var paused: Bool
    private(set) var immediateActivityScore = minActivityScore
    private(set) var mediumActivityScore = minActivityScore
    private(set) var longActivityScore = minActivityScore
    private(set) var lastLevelChangeTime: Int64

    private var noiseFloor = minLevel
    private var nextNoiseFloor = minLevel
    private var nextNoiseFloorWindowLength = 0
    private var immediates = [Int](repeating: 0, count: immediateBufferLength)
    private var mediums = [Int](repeating: 0, count: mediumsBufferLength)
    private var longs = [Int](repeating: 0, count: longsBufferLength)
    /// Circular buffer of the last 50 frame levels; `nextLevelIndex` is the next write position.
    private var levels = [Int](repeating: 0, count: levelsBufferLength)
    private var nextLevelIndex = 0

    init(paused: Bool, now: Int64) {
        self.paused = paused
        self.lastLevelChangeTime = now
    }

    /// The score on one time scale: 0 immediate, 1 medium, 2 long.
    func activityScore(_ scale: Int) -> Double {
        switch scale {
        case 0: immediateActivityScore
        case 1: mediumActivityScore
        default: longActivityScore
        }
    }

    /// A new level (0 silence … 127 loudest) at `now` ms.
    ///
    /// One packet stands for all the 20 ms frames since the previous one (at least one, at most
    /// the whole buffer), so paused, DTX or 40/60 ms-ptime senders still fill the timeline.
    mutating func levelChanged(_ level: Int, now: Int64) {
        guard lastLevelChangeTime <= now else { return }
        let elapsed = now - lastLevelChangeTime
        lastLevelChangeTime = now
        let level = min(Self.maxLevel, max(Self.minLevel, level))
        let frames = Int(min(max(elapsed / Self.frameMilliseconds, 1), Int64(Self.levelsBufferLength)))
        for _ in 0..<frames {
            levels[nextLevelIndex] = level
            nextLevelIndex = (nextLevelIndex + 1) % Self.levelsBufferLength
        }
        updateNoiseFloor(level)
    }

    /// No level for a while: count the gap as silence.
    mutating func levelTimedOut(now: Int64) {
        levelChanged(Self.minLevel, now: now)
    }

    /// Recomputes the scores, each scale only if the finer one changed (as mediasoup).
    mutating func evaluateActivityScores() {
        guard computeImmediates() else { return }
        immediateActivityScore = Self.activityScore(immediates[0], Self.n1, 0.5, 0.78)
        guard Self.computeBigs(immediates, &mediums, threshold: Self.mediumThreshold) else { return }
        mediumActivityScore = Self.activityScore(mediums[0], Self.n2, 0.5, 24)
        guard Self.computeBigs(mediums, &longs, threshold: Self.longThreshold) else { return }
        longActivityScore = Self.activityScore(longs[0], Self.n3, 0.5, 47)
    }

    // MARK: - Private

    /// Quantises the last 50 frames (newest first) into sub-bands, zeroing what is within one
    /// sub-band of the noise floor.
    private mutating func computeImmediates() -> Bool {
        // mediasoup computes this threshold in an int8_t, which wraps for a noise floor ≥ 118;
        // we keep it in range instead (such a floor means "everything is noise" either way).
        let threshold = noiseFloor + Self.subunitLengthN1
        var changed = false
        for i in 0..<Self.immediateBufferLength {
            let index = (nextLevelIndex - i - 1 + Self.levelsBufferLength) % Self.levelsBufferLength
            let level = levels[index] < threshold ? Self.minLevel : levels[index]
            let immediate = level / Self.subunitLengthN1
            if immediates[i] != immediate {
                immediates[i] = immediate
                changed = true
            }
        }
        return changed
    }

    /// Each big value counts the littles above `threshold` in its slice (newest slice first).
    private static func computeBigs(_ littles: [Int], _ bigs: inout [Int], threshold: Int) -> Bool {
        let perBig = littles.count / bigs.count
        var changed = false
        for b in bigs.indices {
            let sum = littles[(b * perBig)..<((b + 1) * perBig)].count { $0 > threshold }
            if bigs[b] != sum {
                bigs[b] = sum
                changed = true
            }
        }
        return changed
    }

    /// Paper eq. 6: log C(nR, vL) + vL·log p + (nR − vL)·log(1 − p) − log λ + λ·vL, floored.
    static func activityScore(_ vL: Int, _ nR: Int, _ p: Double, _ lambda: Double) -> Double {
        let score =
            log(Double(binomialCoefficient(nR, vL))) + Double(vL) * log(p) + Double(nR - vL) * log(1 - p) - log(lambda)
            + lambda * Double(vL)
        return max(score, minActivityScore)
    }

    static func binomialCoefficient(_ n: Int, _ r: Int) -> Int {
        let r = max(r, n - r)
        var t = 1
        var j = 1
        var i = n
        while i > r {
            t = t * i / j
            i -= 1
            j += 1
        }
        return t
    }

    /// Tracks the noise floor: the lowest non-silent level, re-estimated every 15 s as the
    /// geometric mean of the current floor and the lowest level of the window.
    private mutating func updateNoiseFloor(_ level: Int) {
        guard level != Self.minLevel else { return }
        if noiseFloor == Self.minLevel || noiseFloor > level {
            noiseFloor = level
            nextNoiseFloor = Self.minLevel
            nextNoiseFloorWindowLength = 0
        } else if nextNoiseFloor == Self.minLevel {
            nextNoiseFloor = level
            nextNoiseFloorWindowLength = 1
        } else {
            nextNoiseFloor = min(nextNoiseFloor, level)
            nextNoiseFloorWindowLength += 1
            if nextNoiseFloorWindowLength >= Self.minLevelWindowLength {
                let mean = Double(noiseFloor * nextNoiseFloor).squareRoot()
                noiseFloor = Int(min(Double(Self.maxLevel), max(Double(Self.minLevel), mean)))
                nextNoiseFloor = Self.minLevel
                nextNoiseFloorWindowLength = 0
            }
        }
    }
}
