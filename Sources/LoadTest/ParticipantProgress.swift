import NIOCore

/// What a room participant records of its join and its media, whichever server it talks to
/// (``VirtualParticipant``, ``JanusParticipant``): the join's milestones, what it received, and
/// whether DTLS is up. It turns each ``MediaLeg`` event into the one thing the participant must
/// decide about; the participant owns its phase. Pure: the time is passed in.
struct ParticipantProgress: Sendable {
    private(set) var timeline: JoinTimeline
    private(set) var receiveLog: ReceiveLog
    private(set) var dtlsUp = false

    /// A media event the participant acts on.
    enum Step: Sendable, Hashable {
        /// DTLS is up (SRTP keys in place): a speaker that produces is live.
        case dtlsConnected
        /// A verified packet was counted: a joining listener is live.
        case audio
        case failed(String)
    }

    init(startedAt: NIODeadline, maximumStreams: Int) {
        timeline = JoinTimeline(startedAt: startedAt)
        receiveLog = ReceiveLog(maximumStreams: maximumStreams)
    }

    mutating func mark(_ milestone: JoinMilestone, at now: NIODeadline) {
        timeline.mark(milestone, at: now)
    }

    /// Records one media event; nil when there is nothing to decide.
    mutating func apply(_ event: MediaLeg.Event, now: NIODeadline) -> Step? {
        switch event {
        case .iceConnected:
            timeline.mark(.iceConnected, at: now)
            return nil
        case .dtlsConnected:
            timeline.mark(.dtlsConnected, at: now)
            dtlsUp = true
            return .dtlsConnected
        case .failed(let reason):
            return .failed(reason)
        case .rtp(let sequenceNumber, let timestamp, let ssrc):
            return receiveLog.received(sequenceNumber: sequenceNumber, timestamp: timestamp, ssrc: ssrc, at: now) ? .audio : nil
        }
    }

    /// A stream ended (its producer closed).
    mutating func retire(ssrc: UInt32) {
        receiveLog.retire(ssrc: ssrc)
    }
}
