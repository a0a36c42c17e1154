import MediasoupWire
import NIOCore
import SpeakerDetection

/// Something attached to a router that watches its producers' audio (mediasoup `RtpObserver`):
/// fed every forwarded packet's RFC 6464 level, asked for its events on the worker's tick. Told
/// the media plane's time (``NIODeadline`` instants, `TimeAmount` spans); the adapters below hand
/// SpeakerDetection, a module with no NIO, its `Duration`s (``NIODeadline/speakerDetectionTime``,
/// ``NIOCore/TimeAmount/speakerDetectionSpan``).
protocol RTPObserver: AnyObject {
    func addProducer(_ producer: Producer, now: NIODeadline)
    func removeProducer(_ producer: Producer, now: NIODeadline) -> [MediaRouterEvent]
    func producerPaused(_ producer: Producer, _ paused: Bool)
    /// One packet's level (dBov, 0 loudest … -127) and the V flag.
    func receivedAudioLevel(_ producer: Producer, dBov: Int, voiceActivity: Bool, now: NIODeadline)
    /// Events due at `now` (the observer keeps its own interval).
    func tick(now: NIODeadline) -> [MediaRouterEvent]
}

/// What both SpeakerDetection observers take the same way: pause, resume, and each packet's level.
protocol SpeakerDetector {
    mutating func pauseProducer(_ producerId: String)
    mutating func resumeProducer(_ producerId: String)
    mutating func receivedAudioLevel(producerId: String, dBov: Int, voiceActivity: Bool?, now: Duration)
}

extension AudioLevelObserver<String>: SpeakerDetector {}
extension ActiveSpeakerObserver<String>: SpeakerDetector {}

/// An ``RTPObserver`` around a ``SpeakerDetector``: the pause and level hand-offs, written once.
protocol SpeakerDetectorRTPObserver: RTPObserver {
    associatedtype Detector: SpeakerDetector
    var observer: Detector { get set }
}

extension SpeakerDetectorRTPObserver {
    func producerPaused(_ producer: Producer, _ paused: Bool) {
        if paused { observer.pauseProducer(producer.id) } else { observer.resumeProducer(producer.id) }
    }

    func receivedAudioLevel(_ producer: Producer, dBov: Int, voiceActivity: Bool, now: NIODeadline) {
        observer.receivedAudioLevel(producerId: producer.id, dBov: dBov, voiceActivity: voiceActivity, now: now.speakerDetectionTime)
    }
}

/// mediasoup's `AudioLevelObserver` on a router: every `interval`, the producers whose average
/// level is above `threshold`, loudest first (`volumes`), or `silence` once when nobody is.
/// MSAB (HEAD): maxEntries 16, threshold -55 dBov, interval 500 ms.
final class AudioLevelRTPObserver: SpeakerDetectorRTPObserver {
    var observer: AudioLevelObserver<String>
    private var timer: IntervalTimer

    init(maxEntries: Int, threshold: Int, interval: TimeAmount) {
        observer = AudioLevelObserver(options: .init(maxEntries: maxEntries, threshold: threshold, interval: interval.speakerDetectionSpan))
        timer = IntervalTimer(interval: interval)
    }

    func addProducer(_ producer: Producer, now: NIODeadline) {
        observer.addProducer(producer.id, paused: producer.paused)
    }

    func removeProducer(_ producer: Producer, now: NIODeadline) -> [MediaRouterEvent] {
        observer.removeProducer(producer.id)
        return []
    }

    func tick(now: NIODeadline) -> [MediaRouterEvent] {
        guard timer.fire(now: now) else { return [] }
        switch observer.tick(now: now.speakerDetectionTime) {
        case .volumes(let volumes): return [.audioLevels(volumes.map { (producerId: $0.producerId, volume: $0.volume) })]
        case .silence: return [.silence]
        case nil: return []
        }
    }
}

/// mediasoup's `ActiveSpeakerObserver` on a router: `dominantSpeaker` when it changes.
/// MSAB: interval 200 ms.
final class ActiveSpeakerRTPObserver: SpeakerDetectorRTPObserver {
    var observer: ActiveSpeakerObserver<String>
    private var timer: IntervalTimer

    init(interval: TimeAmount) {
        observer = ActiveSpeakerObserver(interval: interval.speakerDetectionSpan)
        timer = IntervalTimer(interval: interval)
    }

    func addProducer(_ producer: Producer, now: NIODeadline) {
        observer.addProducer(producer.id, paused: producer.paused, now: now.speakerDetectionTime)
    }

    func removeProducer(_ producer: Producer, now: NIODeadline) -> [MediaRouterEvent] {
        event(observer.removeProducer(producer.id, now: now.speakerDetectionTime))
    }

    func tick(now: NIODeadline) -> [MediaRouterEvent] {
        guard timer.fire(now: now) else { return [] }
        return event(observer.tick(now: now.speakerDetectionTime))
    }

    private func event(_ event: ActiveSpeakerObserver<String>.Event?) -> [MediaRouterEvent] {
        guard case .dominantSpeakerChanged(let producerId) = event else { return [] }
        return [.dominantSpeaker(producerId: producerId, volume: observer.currentLevel(of: producerId) ?? -127)]
    }
}

extension NIODeadline {
    /// The same instant as SpeakerDetection's `Duration` since the monotonic clock's origin.
    var speakerDetectionTime: Duration { .nanoseconds(Int64(clamping: uptimeNanoseconds)) }
}

extension TimeAmount {
    /// The same span as SpeakerDetection's `Duration`.
    var speakerDetectionSpan: Duration { .nanoseconds(nanoseconds) }
}
