import NIOCore
import Testing

@testable import LoadTest

/// The glue both load-test participants share (msab's and Janus's): the join timeline, the
/// bounded receive log, the media-event steps and the phase's stop/fail rules.
@Suite("Participant progress: timeline, bounded receive log, media steps, phase")
struct ParticipantProgressTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("a milestone keeps the first time it was reached, in ms after the start")
    func timelineKeepsFirstMark() {
        var timeline = JoinTimeline(startedAt: start)
        timeline.mark(.roomJoined, at: start + .milliseconds(40))
        timeline.mark(.roomJoined, at: start + .milliseconds(90))
        #expect(timeline.milestones == [.roomJoined: 40])
    }

    @Test("the receive log counts at most maximumStreams SSRCs, and retiring one makes room")
    func receiveLogIsBounded() {
        var log = ReceiveLog(maximumStreams: 2)
        let late = start + .milliseconds(20)
        let counted = [
            log.received(sequenceNumber: 1, timestamp: 0, ssrc: 10, at: start),
            log.received(sequenceNumber: 1, timestamp: 0, ssrc: 11, at: start),
            log.received(sequenceNumber: 1, timestamp: 0, ssrc: 12, at: late),
            log.received(sequenceNumber: 2, timestamp: 960, ssrc: 10, at: late),
        ]
        #expect(counted == [true, true, false, true])
        #expect(log.streams.keys.sorted() == [10, 11])
        // An uncounted packet still arrived: silence detection must not see a gap.
        #expect(log.lastPacketAt == late)
        #expect(log.streams[10]?.received == 2)

        log.retire(ssrc: 10)
        #expect(log.retired.received == 2 && log.retired.jitterCount == 1)
        let countedAfterRetire = log.received(sequenceNumber: 1, timestamp: 0, ssrc: 12, at: late)
        #expect(countedAfterRetire)
        #expect(log.streams.keys.sorted() == [11, 12])
    }

    @Test("media events become milestones and the steps a participant decides on")
    func mediaSteps() {
        var progress = ParticipantProgress(startedAt: start, maximumStreams: 1)
        let ice = progress.apply(.iceConnected, now: start + .milliseconds(5))
        #expect(ice == nil)
        #expect(!progress.dtlsUp)
        let dtls = progress.apply(.dtlsConnected, now: start + .milliseconds(9))
        #expect(dtls == .dtlsConnected)
        #expect(progress.dtlsUp)
        #expect(progress.timeline.milestones == [.iceConnected: 5, .dtlsConnected: 9])
        let steps = [
            progress.apply(.rtp(sequenceNumber: 1, timestamp: 0, ssrc: 7), now: start),
            progress.apply(.rtp(sequenceNumber: 1, timestamp: 0, ssrc: 8), now: start),  // beyond the bound
            progress.apply(.failed("ICE timeout"), now: start),
        ]
        #expect(steps == [.audio, nil, .failed("ICE timeout")])
    }

    @Test("a phase fails once (reporting whether it was live); stop keeps a failure")
    func phaseRules() {
        var phase = VirtualParticipant.Phase.live
        let first = phase.fail("gone")
        let second = phase.fail("again")
        #expect(first == true && second == nil)
        #expect(phase == .failed("gone"))
        phase.stop()
        #expect(phase == .failed("gone"))

        var joining = VirtualParticipant.Phase.joining
        let wasLive = joining.fail("timeout")
        #expect(wasLive == false)
        var stopped = VirtualParticipant.Phase.connecting
        stopped.stop()
        let afterStop = stopped.fail("late")
        #expect(stopped == .stopped && afterStop == nil)
    }
}
