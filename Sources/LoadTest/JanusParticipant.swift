import DTLS
import NIOCore
import NIOPosix

/// One simulated member of a Janus VideoRoom (`msab loadtest --target janus`): the I/O shell
/// of a ``JanusClientStateMachine`` (signalling) and a ``MediaLeg`` (media), the same leg the
/// msab target uses, so a speaker sends the same Opus packets and a listener verifies and counts
/// them the same way.
///
/// Order: bind the UDP socket first (its address goes into the SDP as our one host candidate),
/// then connect the WebSocket (subprotocol `janus-protocol`) and let the state machine run the
/// API; when Janus's SDP arrives the leg starts ICE as the controlling agent (Janus is ICE-lite)
/// and DTLS as the client (we answer `a=setup:active` and offer it too, which makes Janus the
/// DTLS server, `src/sdp.c` v1.1.2).
///
/// Confined to the load test's event loop, as ``VirtualParticipant`` is.
final class JanusParticipant: LoadParticipant, @unchecked Sendable {
    // MARK: - Stored properties

    let index: Int
    let role: VirtualParticipant.Role
    private unowned let runner: LoadTestRunner
    private let loop: any EventLoop
    private(set) var phase: VirtualParticipant.Phase = .connecting
    private(set) var progress: ParticipantProgress
    private(set) var media: MediaLeg?

    private let webSocket: WebSocketClientLink
    private var udp: (any Channel)?
    private var janus: JanusClientStateMachine?
    private let localUsernameFragment: String
    private let localPassword: String
    private var packetizer: OpusPacketizer
    private var producing = false
    private static let maximumStreams = 64

    // MARK: - Init

    init(index: Int, role: VirtualParticipant.Role, runner: LoadTestRunner, loop: any EventLoop, now: NIODeadline) {
        var generator = SystemRandomNumberGenerator()
        self.index = index
        self.role = role
        self.runner = runner
        self.loop = loop
        self.progress = ParticipantProgress(startedAt: now, maximumStreams: Self.maximumStreams)
        self.webSocket = WebSocketClientLink(using: &generator)
        self.packetizer = OpusPacketizer(ssrc: UInt32.random(in: 1...UInt32.max, using: &generator))
        // RFC 8839 §5.4: ufrag ≥ 4 and pwd ≥ 22 ice-chars.
        self.localUsernameFragment = "lt\(index)x\(UInt32.random(in: 0...UInt32.max, using: &generator))"
        self.localPassword = (0..<24).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined()
    }

    // MARK: - Lifecycle

    func start() {
        guard let address = runner.mediaSourceAddress else {
            return fail("no local address toward \(runner.options.host) (give --media-address)")
        }
        UDPLegHandler.bind(host: address, on: loop, participant: self)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard phase == .connecting, let port = channel.localAddress?.port else {
                        channel.close(promise: nil)
                        return
                    }
                    udp = channel
                    mark(.transportCreated)
                    // Ticks from now on: keepalives and a subscriber's listparticipants retries
                    // run before there is a media leg.
                    runner.registerMedia(self)
                    connectSignalling(localAddress: address, localPort: port)
                case .failure(let error):
                    fail("UDP bind \(address): \(error)")
                }
            }
    }

    func stop() {
        phase.stop()
        producing = false
        closeAll()
    }

    func fail(_ reason: String) {
        guard let wasLive = phase.fail(reason) else { return }
        producing = false
        closeAll()
        runner.participantFailed(self, reason: reason, wasLive: wasLive)
    }

    // MARK: - Signalling I/O

    func signallingActive() {
        webSocket.requestUpgrade(host: runner.options.host, port: runner.options.port, path: "/", subprotocol: "janus-protocol")
    }

    func signallingBytes(_ buffer: inout ByteBuffer) {
        let (events, failure) = webSocket.receive(&buffer)
        if let failure { return fail(failure) }
        for event in events {
            switch event {
            case .upgraded:
                mark(.socketConnected)
                phase = .joining
                handle(janus?.connected(now: .now()) ?? [])
            case .text(let text):
                handle(janus?.receive(text: text, now: .now()) ?? [])
            case .binary: fail("Janus sent a binary frame")
            case .ping: break  // answered by the WebSocket link
            case .close: fail("Janus closed the WebSocket")
            }
        }
    }

    func signallingFlush() {
        webSocket.flush()
    }

    // MARK: - Media I/O (mediaDatagram is LoadParticipant's)

    func tick(now: NIODeadline, using generator: inout some RandomNumberGenerator) {
        if let outputs = janus?.handleTimeout(now: now), !outputs.isEmpty { handle(outputs) }
        guard let media else { return }
        handleMedia(media.handleTimeout(now: now, using: &generator))
    }

    func sendAudioFrame() {
        guard producing, let media else { return }
        media.sendAudioFrame(from: &packetizer)
    }

    // MARK: - Private

    private func connectSignalling(localAddress: String, localPort: Int) {
        let options = runner.options
        let fingerprint = runner.certificate.fingerprint(.sha256)
        // Host candidate priority, RFC 8445 §5.1.2.1 (type preference 126, component 1).
        let local = AudioSessionDescription(
            usernameFragment: localUsernameFragment, password: localPassword, fingerprints: [fingerprint], setup: .active,
            direction: role == .listener ? .recvonly : .sendonly, opusPayloadType: OpusPacketizer.payloadType,
            candidates: [.init(address: localAddress, port: localPort, priority: (126 << 24) | (65_535 << 8) | 255)],
            ssrc: role == .listener ? nil : packetizer.ssrc)
        var configuration = JanusClientStateMachine.Configuration(
            role: role == .listener ? .subscriber : .publisher, room: options.janusRoom, display: "loadtest \(index)")
        configuration.keepaliveInterval = .seconds(25)
        janus = JanusClientStateMachine(configuration: configuration, local: local)
        // A participant's signalling is its own connection, as with msab (one Socket.IO each).
        // Runner, options and certificate are confined to this loop; only the handler crosses.
        SignallingLink.bootstrap(on: loop, peer: self)
            .connect(host: options.host, port: options.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    if case .failed = phase { channel.close(promise: nil) } else { webSocket.attach(channel) }
                case .failure(let error):
                    fail("connect: \(error)")
                }
            }
    }

    private func handle(_ outputs: [JanusClientStateMachine.Output]) {
        for output in outputs {
            switch output {
            case .send(let text):
                webSocket.write(.text, Array(text.utf8))
            case .remoteDescription(let remote):
                startMedia(remote)
            case .running:
                mark(.resumed)
                if case .speaker = role {
                    producing = true
                    speakerMaybeLive()
                }
            case .failed(let reason):
                fail("Janus: \(reason)")
            }
        }
        signallingFlush()
    }

    private func startMedia(_ remote: AudioSessionDescription) {
        mark(.roomJoined)
        guard media == nil, let udp else { return }
        guard let candidate = remote.candidates.first, let address = try? SocketAddress(ipAddress: candidate.address, port: candidate.port) else {
            return fail("Janus's SDP has no usable UDP candidate (does Janus gather this interface? see nat.ice_enforce_list)")
        }
        let dtls: DTLSEndpoint
        do {
            dtls = try DTLSEndpoint(role: .client, certificate: runner.certificate, remoteFingerprints: remote.fingerprints)
        } catch {
            return fail("DTLS: \(error)")
        }
        var generator = SystemRandomNumberGenerator()
        let credentials = ICEControllingAgent.Credentials(
            localUsernameFragment: localUsernameFragment, remoteUsernameFragment: remote.usernameFragment, remotePassword: remote.password,
            localPassword: localPassword)
        let leg = MediaLeg(
            ice: ICEControllingAgent(credentials: credentials, tieBreaker: UInt64.random(in: 0...UInt64.max, using: &generator)), dtls: dtls,
            remote: address)
        leg.channel = udp
        media = leg
        // Janus has our fingerprint in the SDP already: DTLS may start as soon as ICE is up.
        handleMedia(leg.signallingConnected(now: .now()))
        leg.start(now: .now(), using: &generator)
    }

    func handleMedia(_ events: [MediaLeg.Event]) {
        for event in events {
            switch progress.apply(event, now: .now()) {
            case nil: break
            case .dtlsConnected: speakerMaybeLive()
            case .failed(let reason): fail(reason)
            case .audio:
                guard phase == .joining else { break }
                mark(.firstAudio)
                phase = .live
                runner.participantLive(self)
            }
        }
    }

    private func speakerMaybeLive() {
        guard case .speaker = role, producing, progress.dtlsUp, phase == .joining else { return }
        phase = .live
        runner.participantLive(self)
    }

    private func closeAll() {
        media?.close()
        if media == nil { udp?.close(promise: nil) }  // the leg closes the channel it holds
        udp = nil
        webSocket.close()
    }

    private func mark(_ milestone: JoinMilestone) {
        progress.mark(milestone, at: .now())
    }
}
