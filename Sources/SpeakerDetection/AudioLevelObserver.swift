/// Reports the loudest producers every interval: mediasoup's `AudioLevelObserver`
/// (`worker/src/RTC/AudioLevelObserver.cpp`) as a value type that is told the time.
///
/// Feed it every RTP packet's RFC 6464 audio level with ``receivedAudioLevel(producerId:dBov:voiceActivity:now:)``
/// and call ``tick(now:)`` every ``Options/interval``. Each tick averages the levels received
/// since the previous tick, per producer, and reports:
/// - ``Event/volumes(_:)``: producers with at least 10 levels in the interval whose average is at
///   or above the threshold, loudest first, at most `maxEntries`;
/// - ``Event/silence``: once, when no producer qualifies any more (never before the first
///   `volumes`, never twice in a row);
/// - `nil`: nothing to report (still silent).
public struct AudioLevelObserver<ProducerID: Hashable & Sendable>: Sendable {
    /// Observer settings (mediasoup `AudioLevelObserverOptions`).
    public struct Options: Sendable, Hashable {
        /// Maximum producers per `volumes` event (mediasoup default 1).
        public var maxEntries: Int
        /// Minimum average level in dBov, ≤ 0 (mediasoup default −80).
        public var threshold: Int
        /// Tick period; clamped to 250 ms … 5 s as mediasoup does (default 1 s).
        public var interval: Duration

        public init(maxEntries: Int = 1, threshold: Int = -80, interval: Duration = .milliseconds(1000)) {
            precondition(maxEntries >= 1, "AudioLevelObserver maxEntries must be at least 1, got \(maxEntries)")
            precondition(threshold <= 0, "AudioLevelObserver threshold is dBov and must be ≤ 0, got \(threshold)")
            self.maxEntries = maxEntries
            self.threshold = threshold
            self.interval = min(.seconds(5), max(.milliseconds(250), interval))
        }
    }

    /// One producer's average level over the last interval.
    public struct Volume: Sendable, Hashable {
        /// The producer.
        public var producerId: ProducerID
        /// Average RFC 6464 level in dBov (0 loudest … −127).
        public var volume: Int

        public init(producerId: ProducerID, volume: Int) {
            self.producerId = producerId
            self.volume = volume
        }
    }

    /// What a tick reports.
    public enum Event: Sendable, Hashable {
        /// The loudest producers above the threshold, loudest first.
        case volumes([Volume])
        /// No producer is above the threshold any more.
        case silence
    }

    /// Per-producer sums since the last tick (mediasoup `DBovs`).
    private struct Accumulator: Sendable {
        /// Sum of levels as positive −dBov values.
        var totalSum = 0
        var count = 0
    }

    // MARK: - Stored properties

    /// The settings in force (after clamping).
    public let options: Options
    /// Active (not paused) producers, in the order they were added.
    private var order: [ProducerID] = []
    private var accumulators: [ProducerID: Accumulator] = [:]
    /// Producers added but paused: mediasoup drops them from the map until resumed.
    private var pausedProducers: Set<ProducerID> = []
    private var silence = true
    /// Whether the observer itself is paused (levels are ignored).
    public private(set) var isPaused = false

    /// mediasoup ignores producers with fewer than 10 levels in an interval (too little data
    /// for an average; with 20 ms packets that is 200 ms of audio).
    static var minimumLevelsPerInterval: Int { 10 }

    // MARK: - Init

    public init(options: Options = Options()) {
        self.options = options
    }

    // MARK: - API

    /// Adds a producer (mediasoup `AddProducer`); adding it again is a no-op.
    public mutating func addProducer(_ producerId: ProducerID, paused: Bool = false) {
        guard accumulators[producerId] == nil, !pausedProducers.contains(producerId) else { return }
        if paused {
            pausedProducers.insert(producerId)
        } else {
            order.append(producerId)
            accumulators[producerId] = Accumulator()
        }
    }

    /// Removes a producer; its pending levels are discarded.
    public mutating func removeProducer(_ producerId: ProducerID) {
        pausedProducers.remove(producerId)
        guard accumulators.removeValue(forKey: producerId) != nil else { return }
        order.removeAll { $0 == producerId }
    }

    /// The producer was paused: it stops counting until resumed (mediasoup `ProducerPaused`).
    public mutating func pauseProducer(_ producerId: ProducerID) {
        guard accumulators.removeValue(forKey: producerId) != nil else { return }
        order.removeAll { $0 == producerId }
        pausedProducers.insert(producerId)
    }

    /// The producer was resumed (mediasoup `ProducerResumed`).
    public mutating func resumeProducer(_ producerId: ProducerID) {
        guard pausedProducers.remove(producerId) != nil else { return }
        order.append(producerId)
        accumulators[producerId] = Accumulator()
    }

    /// One RTP packet's audio level (RFC 6464) from a producer.
    ///
    /// - Parameters:
    ///   - dBov: 0 (loudest) … −127 (silence); clamped to that range.
    ///   - voiceActivity: the extension's V flag; unused, as in mediasoup (not every sender sets it).
    ///   - now: monotonic time; unused here (the average is per tick), accepted so both observers
    ///     have the same input.
    public mutating func receivedAudioLevel(producerId: ProducerID, dBov: Int, voiceActivity: Bool?, now: Duration) {
        guard !isPaused, var accumulator = accumulators[producerId] else { return }
        // At most 127 per packet and reset every interval: Int64 would need 7e16 packets in one.
        accumulator.totalSum &+= -clampedDBov(dBov)
        accumulator.count &+= 1
        accumulators[producerId] = accumulator
    }

    /// The periodic update (mediasoup `Update`); call it every ``Options/interval``.
    public mutating func tick(now: Duration) -> Event? {
        guard !isPaused else { return nil }
        var volumes: [Volume] = []
        for producerId in order {
            guard let accumulator = accumulators[producerId], accumulator.count >= Self.minimumLevelsPerInterval else { continue }
            // mediasoup divides integers: the average is truncated toward 0 dBov.
            let average = -(accumulator.totalSum / accumulator.count)
            if average >= options.threshold {
                volumes.append(Volume(producerId: producerId, volume: average))
            }
        }
        resetAccumulators()

        if !volumes.isEmpty {
            silence = false
            // Loudest first; equal volumes keep the order the producers were added in.
            let sorted = volumes.enumerated().sorted { lhs, rhs in
                lhs.element.volume != rhs.element.volume ? lhs.element.volume > rhs.element.volume : lhs.offset < rhs.offset
            }
            return .volumes(sorted.prefix(options.maxEntries).map(\.element))
        }
        if !silence {
            silence = true
            return .silence
        }
        return nil
    }

    /// Pauses the observer: levels are ignored and ticks report nothing. Returns ``Event/silence``
    /// if volumes were being reported (mediasoup `Paused`).
    public mutating func pause() -> Event? {
        guard !isPaused else { return nil }
        isPaused = true
        resetAccumulators()
        guard !silence else { return nil }
        silence = true
        return .silence
    }

    /// Resumes a paused observer.
    public mutating func resume() {
        isPaused = false
    }

    // MARK: - Private

    private mutating func resetAccumulators() {
        for producerId in order {
            accumulators[producerId] = Accumulator()
        }
    }
}
