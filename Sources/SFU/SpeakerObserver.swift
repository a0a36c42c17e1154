/// Speaker detection for a router, told the time: the RFC 6464 levels of each producer are
/// averaged over an interval (mediasoup's AudioLevelObserver: threshold -55 dBov, interval
/// 500 ms), and the dominant speaker changes only when another producer is louder by a margin or
/// the current one falls silent (hysteresis, in the spirit of mediasoup's ActiveSpeakerObserver).
final class SpeakerObserver {
    enum Event {
        case levels([(String, Int)])
        case dominant(String, Int)
        case levelsAndDominant([(String, Int)], String, Int)
        case silence
    }

    let threshold = -55
    let intervalMs: UInt64 = 500
    /// How much louder (dB) a challenger must be to take over.
    let margin = 3
    var sums: [String: (total: Int, count: Int)] = [:]
    var producers: Set<String> = []
    var nextTickMs: UInt64 = 0
    var dominant: String?
    var lastActive: [String] = []
    var silent = true

    func add(_ producer: String) { producers.insert(producer) }

    func remove(_ producer: String) {
        producers.remove(producer)
        sums[producer] = nil
        if dominant == producer { dominant = nil }
    }

    @inline(__always)
    func level(_ producer: String, dBov: Int?) {
        guard let dBov, producers.contains(producer) else { return }
        let current = sums[producer] ?? (0, 0)
        sums[producer] = (current.total + dBov, current.count + 1)
    }

    func tick(now: UInt64) -> Event? {
        if nextTickMs == 0 { nextTickMs = now + intervalMs }
        guard now >= nextTickMs else { return nil }
        nextTickMs = now + intervalMs
        let averages = sums.compactMap { id, s -> (String, Int)? in
            guard s.count > 0 else { return nil }
            let average = s.total / s.count
            return average > threshold ? (id, average) : nil
        }.sorted { $0.1 > $1.1 }
        sums.removeAll(keepingCapacity: true)
        guard let loudest = averages.first else {
            dominant = nil
            if silent { return nil }
            silent = true
            return .silence
        }
        silent = false
        var newDominant: (String, Int)?
        if let current = dominant, let currentLevel = averages.first(where: { $0.0 == current })?.1 {
            if loudest.0 != current, loudest.1 >= currentLevel + margin { newDominant = loudest }
        } else if loudest.0 != dominant {
            newDominant = loudest
        }
        if let newDominant {
            dominant = newDominant.0
            return .levelsAndDominant(averages, newDominant.0, newDominant.1)
        }
        return .levels(averages)
    }
}
