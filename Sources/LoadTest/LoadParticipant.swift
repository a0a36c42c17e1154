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
    var startedAt: NIODeadline { get }
    var lastPacketAt: NIODeadline? { get }
    var milestones: [JoinMilestone: Double] { get }
    var streams: [UInt32: ReceiveStreamStats] { get }
    var media: MediaLeg? { get }
    /// The totals of streams that ended while the test ran (their SSRC went away).
    var retiredStreams: StreamTotals { get }

    func start()
    func stop()
    /// ICE/DTLS timers and the like (every runner tick once the participant registered media).
    func tick(now: NIODeadline, using generator: inout some RandomNumberGenerator)
    /// The speakers' 20 ms clock.
    func sendAudioFrame()

    // Media I/O (UDPLegHandler); the signalling I/O is SignallingPeer's.
    func mediaDatagram(_ datagram: ByteBuffer, from source: SocketAddress)
}

extension VirtualParticipant: LoadParticipant {}

extension LoadParticipant {
    /// A participant whose streams never end early (Janus's: one feed for the whole test).
    var retiredStreams: StreamTotals { StreamTotals() }
}
