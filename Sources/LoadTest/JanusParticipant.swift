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
    let startedAt: NIODeadline
    private(set) var lastPacketAt: NIODeadline?
    private(set) var milestones: [JoinMilestone: Double] = [:]
    private(set) var streams: [UInt32: ReceiveStreamStats] = [:]
    private(set) var media: MediaLeg?

    private var tcp: (any Channel)?
    private var udp: (any Channel)?
    private var codec: WebSocketClientCodec
    private let webSocketKey: String
    private var inbound = ByteBuffer()
    private var janus: JanusClientStateMachine?
    private var wroteSignalling = false
    private let localUsernameFragment: String
    private let localPassword: String
    private var packetizer: OpusPacketizer
    private var producing = false
    private var dtlsUp = false
    private static let maximumStreams = 64

    // MARK: - Init

    init(index: Int, role: VirtualParticipant.Role, runner: LoadTestRunner, loop: any EventLoop, now: NIODeadline) {
        var generator = SystemRandomNumberGenerator()
        self.index = index
        self.role = role
        self.runner = runner
        self.loop = loop
        self.startedAt = now
        self.webSocketKey = WebSocketClientCodec.makeKey(using: &generator)
        self.codec = WebSocketClientCodec(key: webSocketKey)
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
        DatagramBootstrap(group: loop)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPLegHandler(participant: self))
                }
            }
            .bind(host: address, port: 0)
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
        if case .failed = phase {} else { phase = .stopped }
        producing = false
        closeAll()
    }

    func fail(_ reason: String) {
        switch phase {
        case .failed, .stopped: return
        case .connecting, .joining, .live:
            let wasLive = phase == .live
            phase = .failed(reason)
            producing = false
            closeAll()
            runner.participantFailed(self, reason: reason, wasLive: wasLive)
        }
    }

    // MARK: - Signalling I/O

    func signallingActive() {
        let request = WebSocketClientCodec.handshakeRequest(
            host: "\(runner.options.host):\(runner.options.port)", path: "/", key: webSocketKey, subprotocol: "janus-protocol")
        tcp?.writeAndFlush(ByteBuffer(string: request), promise: nil)
    }

    func signallingBytes(_ buffer: inout ByteBuffer) {
        inbound.writeBuffer(&buffer)
        let events: [WebSocketClientCodec.Event]
        do {
            events = try codec.feed(&inbound)
        } catch {
            fail("WebSocket: \(error)")
            return
        }
        inbound.discardReadBytes()
        for event in events {
            switch event {
            case .upgraded:
                mark(.socketConnected)
                phase = .joining
                handle(janus?.connected(now: .now()) ?? [])
            case .text(let text):
                handle(janus?.receive(text: text, now: .now()) ?? [])
            case .binary: fail("Janus sent a binary frame")
            case .ping(let payload): writeFrame(.pong, Array(payload.readableBytesView))
            case .close: fail("Janus closed the WebSocket")
            }
        }
    }

    func signallingFlush() {
        guard wroteSignalling else { return }
        wroteSignalling = false
        tcp?.flush()
    }

    func signallingClosed() {
        if case .stopped = phase { return }
        fail("signalling connection closed")
    }

    // MARK: - Media I/O

    func mediaDatagram(_ datagram: ByteBuffer, from source: SocketAddress) {
        // Before Janus's SDP there is no leg: Janus (ICE-lite) sends nothing first, so nothing is lost.
        guard let media else { return }
        handle(media.receive(datagram, from: source, now: .now()))
    }

    func tick(now: NIODeadline, using generator: inout some RandomNumberGenerator) {
        if let outputs = janus?.handleTimeout(now: now), !outputs.isEmpty { handle(outputs) }
        guard let media else { return }
        handle(media.handleTimeout(now: now, using: &generator))
    }

    func sendAudioFrame() {
        guard producing, let media else { return }
        var packet = packetizer.next(reservingCapacity: 32)
        media.sendRTP(&packet)
        media.flush()
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
                    if case .failed = phase { channel.close(promise: nil) } else { tcp = channel }
                case .failure(let error):
                    fail("connect: \(error)")
                }
            }
    }

    private func handle(_ outputs: [JanusClientStateMachine.Output]) {
        for output in outputs {
            switch output {
            case .send(let text):
                writeFrame(.text, Array(text.utf8))
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
        handle(leg.signallingConnected(now: .now()))
        leg.start(now: .now(), using: &generator)
    }

    private func handle(_ events: [MediaLeg.Event]) {
        for event in events {
            switch event {
            case .iceConnected:
                mark(.iceConnected)
            case .dtlsConnected:
                mark(.dtlsConnected)
                dtlsUp = true
                speakerMaybeLive()
            case .failed(let reason):
                fail(reason)
            case .rtp(let sequenceNumber, let timestamp, let ssrc):
                let now = NIODeadline.now()
                lastPacketAt = now
                guard streams[ssrc] != nil || streams.count < Self.maximumStreams else { continue }
                streams[ssrc, default: ReceiveStreamStats()].received(
                    sequenceNumber: sequenceNumber, timestamp: timestamp, arrivalNanoseconds: UInt64(clamping: now.uptimeNanoseconds))
                if phase == .joining {
                    mark(.firstAudio)
                    phase = .live
                    runner.participantLive(self)
                }
            }
        }
    }

    private func speakerMaybeLive() {
        guard case .speaker = role, producing, dtlsUp, phase == .joining else { return }
        phase = .live
        runner.participantLive(self)
    }

    private func writeFrame(_ opcode: WebSocketClientCodec.Opcode, _ payload: [UInt8]) {
        guard let tcp else { return }
        tcp.write(SignallingLink.maskedFrame(opcode, payload, allocator: tcp.allocator), promise: nil)
        wroteSignalling = true
    }

    private func closeAll() {
        media?.close()
        if media == nil { udp?.close(promise: nil) }  // the leg closes the channel it holds
        udp = nil
        tcp?.close(promise: nil)
        tcp = nil
    }

    private func mark(_ milestone: JoinMilestone) {
        guard milestones[milestone] == nil else { return }
        milestones[milestone] = Double(NIODeadline.now().uptimeNanoseconds - startedAt.uptimeNanoseconds) / 1_000_000
    }
}
