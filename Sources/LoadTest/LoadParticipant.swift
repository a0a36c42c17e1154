import NIOCore

/// What the runner and the I/O handlers need of a simulated participant, whichever server it
/// talks to: msab (``VirtualParticipant``, Socket.IO + mediasoup JSON) or Janus
/// (``JanusParticipant``, Janus API + SDP). The media legs behind both are the same
/// (``MediaLeg``, ``OpusPacketizer``, ``ReceiveStreamStats``), so what a listener verifies and
/// counts is the same against either server.
///
/// Confined to the load test's event loop, like the runner.
protocol LoadParticipant: SignallingPeer {
    var role: VirtualParticipant.Role { get }
    var phase: VirtualParticipant.Phase { get }
    /// Its join milestones and what it received (read through the properties below).
    var progress: ParticipantProgress { get }
    var media: MediaLeg? { get }

    func start()
    func stop()
    /// ICE/DTLS timers and the like (every runner tick once the participant registered media).
    func tick(now: NIODeadline, using generator: inout some RandomNumberGenerator)
    /// The speakers' 20 ms clock.
    func sendAudioFrame()

    /// What its media leg reported (through ``ParticipantProgress/apply(_:now:)``).
    func handleMedia(_ events: [MediaLeg.Event])
}

extension VirtualParticipant: LoadParticipant {}

extension LoadParticipant {
    var startedAt: NIODeadline { progress.timeline.startedAt }
    /// When each join step completed (ms after `startedAt`), for the report's phase breakdown.
    var milestones: [JoinMilestone: Double] { progress.timeline.milestones }
    var streams: [UInt32: ReceiveStreamStats] { progress.receiveLog.streams }
    var lastPacketAt: NIODeadline? { progress.receiveLog.lastPacketAt }
    /// The totals of streams that ended while the test ran (their SSRC went away).
    var retiredStreams: StreamTotals { progress.receiveLog.retired }

    /// A datagram from the media socket (UDPLegHandler); the signalling I/O is SignallingPeer's.
    /// Before the leg exists it is dropped: the server (ICE-lite, msab and Janus alike) sends
    /// nothing before our first check, so nothing is lost.
    func mediaDatagram(_ datagram: ByteBuffer, from source: SocketAddress) {
        guard let media else { return }
        handleMedia(media.receive(datagram, from: source, now: .now()))
    }

    /// The signalling connection closed under a participant that did not stop.
    func signallingClosed() {
        if case .stopped = phase { return }
        fail("signalling connection closed")
    }
}
