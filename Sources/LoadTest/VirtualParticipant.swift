import DTLS
import NIOCore
import NIOPosix
import STUN
import SocketIOParser

/// One simulated room member, as a frontend drives a room (Tests/python/msabtest/client.py,
/// contract §3): Socket.IO connect with the token → `room:join` →
/// - speaker: `seat:take` → `transport:create {producer}` → `transport:connect` → `audio:produce`,
///   then one Opus packet every 20 ms;
/// - listener: `transport:create {consumer}` → `transport:connect` → for every producer in
///   `existingProducers` and every later `audio:newProducer`: `audio:consume` → `consumer:resume`;
///   every packet is SRTP-verified and counted.
/// ICE and DTLS run as soon as the transport exists, in parallel with the acks.
///
/// Confined to the load test's single event loop: every method runs there (the handlers call in
/// from the loop, the runner schedules on it), so no locking; `@unchecked Sendable` only lets
/// the runner hand a reference to closures that run on that same loop.
final class VirtualParticipant: SignallingPeer, @unchecked Sendable {
    enum Role: Sendable, Hashable {
        case speaker(seat: Int)
        case listener
    }

    /// Where the participant is in its life.
    enum Phase: Sendable, Hashable {
        case connecting
        case joining
        /// Speaker producing / listener receiving: the join is complete.
        case live
        case failed(String)
        case stopped

        /// Stopped on purpose; a failure stays what it was.
        mutating func stop() {
            if case .failed = self {} else { self = .stopped }
        }

        /// Fails, once: whether it was live, or nil when it had failed or stopped already.
        mutating func fail(_ reason: String) -> Bool? {
            switch self {
            case .failed, .stopped: return nil
            case .connecting, .joining, .live:
                defer { self = .failed(reason) }
                return self == .live
            }
        }
    }

    // MARK: - Stored properties

    let index: Int
    let role: Role
    let token: String
    /// The room it joins: the run's room, or a churn's side room.
    let room: String
    unowned let runner: LoadTestRunner
    private let loop: any EventLoop
    private(set) var phase: Phase = .connecting
    private(set) var liveAt: NIODeadline?
    private(set) var progress: ParticipantProgress

    let webSocket: WebSocketClientLink
    var socketIO: SocketIOClientStateMachine
    private var acks: [Int: ([JSONValue]) -> Void] = [:]

    private var routerCapabilities: JSONValue = .null
    private(set) var media: MediaLeg?
    private var transportId: String?
    private var transportConnected = false
    /// Producers still to consume (bounded: a room has at most a few dozen speakers).
    private var producersToConsume: [String] = []
    private var consumedProducers: Set<String> = []
    /// Also the bound of the received streams; streams whose producer closed
    /// (`audio:producerClosed`) are folded into totals (``ReceiveLog/retire(ssrc:)``), so the
    /// table stays bounded while speakers come and go.
    private static let maximumProducers = 64
    /// The producer behind each consumer SSRC (from the `audio:consume` ack).
    private var producerOfSSRC: [UInt32: String] = [:]

    // Churn (LoadTestRunner+Churn)
    /// Leaving on purpose (seat:leave sent, or room:leave): no longer counted as present.
    var leaving = false
    /// Sent chats awaiting their echo, oldest first (bounded by ``maximumPendingChats``).
    var pendingChats: [(content: String, deadline: NIODeadline)] = []
    static let maximumPendingChats = 8
    var chatsSent = 0
    var lastChatAt: NIODeadline?
    /// A silence already counted (one error per silent stretch).
    var silent = false

    // Speaker
    private var producing = false
    private var packetizer: OpusPacketizer

    // MARK: - Init

    init(index: Int, role: Role, token: String, runner: LoadTestRunner, loop: any EventLoop, now: NIODeadline, room: String? = nil) {
        var generator = SystemRandomNumberGenerator()
        self.index = index
        self.role = role
        self.token = token
        self.room = room ?? runner.options.room
        self.runner = runner
        self.loop = loop
        self.progress = ParticipantProgress(startedAt: now, maximumStreams: Self.maximumProducers)
        self.webSocket = WebSocketClientLink(using: &generator)
        self.socketIO = SocketIOClientStateMachine(auth: ["token": .string(token)])
        self.packetizer = OpusPacketizer(ssrc: UInt32.random(in: 1...UInt32.max, using: &generator))
    }

    // MARK: - Lifecycle

    /// Opens the signalling connection.
    func start() {
        let options = runner.options
        SignallingLink.bootstrap(on: loop, peer: self).connect(host: options.host, port: options.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                if case .failed = self.phase {
                    channel.close(promise: nil)
                } else {
                    self.webSocket.attach(channel)
                }
            case .failure(let error):
                self.fail("connect: \(error)")
            }
        }
    }

    /// Stops sending and closes both connections.
    func stop() {
        phase.stop()
        producing = false
        closeAll()
    }

    func fail(_ reason: String) {
        // A churn participant on its way out: the server closing its transports is the point.
        if leaving { return stop() }
        guard let wasLive = phase.fail(reason) else { return }
        producing = false
        closeAll()
        runner.participantFailed(self, reason: reason, wasLive: wasLive)
    }

    private func closeAll() {
        media?.close()
        webSocket.close()
    }

    // MARK: - Signalling I/O (from WebSocketConnectionHandler)

    func signallingActive() {
        webSocket.requestUpgrade(host: runner.options.host, port: runner.options.port, path: SignallingLink.path)
    }

    func signallingBytes(_ buffer: inout ByteBuffer) {
        let (events, failure) = webSocket.receive(&buffer)
        if let failure { return fail(failure) }
        for event in events {
            switch event {
            case .upgraded, .ping: break  // a ping is answered by the WebSocket link
            case .text(let text): handle(socketIO.receive(text: text))
            case .binary: handle(socketIO.receiveBinary())
            case .close: fail("server closed the WebSocket")
            }
        }
    }

    func signallingFlush() {
        webSocket.flush()
    }

    // MARK: - Media I/O (UDPLegHandler calls mediaDatagram, LoadParticipant's)

    /// Timers (the runner calls this every tick for participants with a media leg).
    func tick(now: NIODeadline, using generator: inout some RandomNumberGenerator) {
        guard let media else { return }
        handleMedia(media.handleTimeout(now: now, using: &generator))
    }

    /// The speakers' 20 ms clock.
    func sendAudioFrame() {
        guard producing, let media else { return }
        media.sendAudioFrame(from: &packetizer)
    }

    // MARK: - Socket.IO

    private func handle(_ outputs: [SocketIOClientStateMachine.Output]) {
        for output in outputs {
            switch output {
            case .send(let text):
                webSocket.write(.text, Array(text.utf8))
            case .connected:
                mark(.socketConnected)
                phase = .joining
                emit("room:join", ["roomId": .string(room)]) { [self] args in joined(args.first ?? .null) }
            case .ack(let id, let args):
                acks.removeValue(forKey: id)?(args)
            case .event(let name, let args):
                event(name, args.first ?? .null)
            case .closed(let reason):
                fail("Socket.IO: \(reason)")
            }
        }
        signallingFlush()
    }

    func emit(_ name: String, _ payload: JSONValue, ack: @escaping ([JSONValue]) -> Void) {
        guard let (id, frame) = socketIO.emit(name, payload) else {
            fail("cannot emit \(name): not connected or too many pending acks")
            return
        }
        acks[id] = ack
        webSocket.write(.text, Array(frame.utf8))
    }

    /// The ack's error string, if it is an error (`{error}` or `{success: false, error}`).
    func ackError(_ ack: JSONValue) -> String? {
        if let error = ack["error"] { return error.stringValue ?? "\(error)" }
        if ack["success"]?.boolValue == false { return "failed" }
        return nil
    }

    private func joined(_ ack: JSONValue) {
        if let error = ackError(ack) { return fail("room:join: \(error)") }
        mark(.roomJoined)
        routerCapabilities = ack["rtpCapabilities"] ?? .null
        for producer in ack["existingProducers"]?.arrayValue ?? [] {
            if let id = producer["producerId"]?.stringValue { queueConsume(id) }
        }
        switch role {
        case .speaker(let preferred):
            // A seat this user still holds (msab keeps a seat for a while after a disconnect, so a
            // rerun in the same room finds it) is used as is; otherwise the preferred seat, or the
            // first one neither taken nor locked.
            let userID = runner.options.firstUserID + index
            var taken: Set<Int> = Set((ack["lockedSeats"]?.arrayValue ?? []).compactMap(\.intValue))
            for seat in ack["seats"]?.arrayValue ?? [] {
                guard let seatIndex = seat["seatIndex"]?.intValue else { continue }
                if seat["user"]?["id"]?.intValue == userID || seat["userId"]?.intValue == userID { return createTransport(type: "producer") }
                taken.insert(seatIndex)
            }
            guard let seat = ([preferred] + Array(0..<LoadTestOptions.maximumSpeakers)).first(where: { !taken.contains($0) }) else {
                return fail("seat:take: every seat is taken or locked")
            }
            emit("seat:take", ["roomId": .string(room), "seatIndex": .number(Double(seat))]) { [self] args in
                if let error = ackError(args.first ?? .null) { return fail("seat:take \(seat): \(error)") }
                runner.seatTaken()
                createTransport(type: "producer")
            }
        case .listener:
            createTransport(type: "consumer")
        }
    }

    private func event(_ name: String, _ payload: JSONValue) {
        switch name {
        case "audio:newProducer":
            if let id = payload["producerId"]?.stringValue { queueConsume(id) }
        case "audio:producerClosed":
            if let id = payload["producerId"]?.stringValue { producerClosed(id) }
        default:
            break  // room:userJoined, seat:updated, … are not needed to measure media
        }
        if runner.options.churn != nil { churnEvent(name, payload) }
    }

    private func createTransport(type: String) {
        emit("transport:create", ["type": .string(type), "roomId": .string(room)]) { [self] args in
            transportCreated(args.first ?? .null)
        }
    }

    private func transportCreated(_ ack: JSONValue) {
        if let error = ackError(ack) { return fail("transport:create: \(error)") }
        mark(.transportCreated)
        guard let id = ack["id"]?.stringValue,
            let ufrag = ack["iceParameters"]?["usernameFragment"]?.stringValue,
            let password = ack["iceParameters"]?["password"]?.stringValue,
            let candidate = (ack["iceCandidates"]?.arrayValue ?? []).first(where: { ($0["protocol"]?.stringValue ?? "udp") == "udp" }),
            let address = candidate["address"]?.stringValue ?? candidate["ip"]?.stringValue,
            let port = candidate["port"]?.intValue,
            let remote = try? SocketAddress(ipAddress: address, port: port)
        else { return fail("transport:create: unusable answer") }
        var fingerprints: [DTLSFingerprint] = []
        for entry in ack["dtlsParameters"]?["fingerprints"]?.arrayValue ?? [] {
            if let algorithm = entry["algorithm"]?.stringValue, let value = entry["value"]?.stringValue,
                let fingerprint = DTLSFingerprint(algorithm: algorithm, value: value)
            {
                fingerprints.append(fingerprint)
            }
        }
        guard !fingerprints.isEmpty else { return fail("transport:create: no usable DTLS fingerprint") }
        let dtls: DTLSEndpoint
        do {
            dtls = try DTLSEndpoint(role: .client, certificate: runner.certificate, remoteFingerprints: fingerprints)
        } catch {
            return fail("DTLS: \(error)")
        }
        var generator = SystemRandomNumberGenerator()
        let credentials = ICEControllingAgent.Credentials(
            localUsernameFragment: "lt\(index)x\(UInt32.random(in: 0...UInt32.max, using: &generator))",
            remoteUsernameFragment: ufrag, remotePassword: password)
        media = MediaLeg(
            ice: ICEControllingAgent(credentials: credentials, tieBreaker: UInt64.random(in: 0...UInt64.max, using: &generator)), dtls: dtls,
            remote: remote)
        transportId = id
        runner.registerMedia(self)

        // The socket first, so ICE starts as soon as it is bound; transport:connect goes in parallel.
        UDPLegHandler.bind(host: remote.protocol == .inet6 ? "::" : "0.0.0.0", on: loop, participant: self)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard let leg = media, leg.channel == nil else {
                        channel.close(promise: nil)
                        return
                    }
                    leg.channel = channel
                    var generator = SystemRandomNumberGenerator()
                    leg.start(now: .now(), using: &generator)
                case .failure(let error):
                    fail("UDP bind: \(error)")
                }
            }

        let fingerprint = runner.certificate.fingerprint(.sha256)
        let dtlsParameters: JSONValue = [
            "role": "client",
            "fingerprints": [["algorithm": .string(fingerprint.algorithm.rawValue), "value": .string(fingerprint.value)]],
        ]
        emit("transport:connect", ["roomId": .string(room), "transportId": .string(id), "dtlsParameters": dtlsParameters]) { [self] args in
            if let error = ackError(args.first ?? .null) { return fail("transport:connect: \(error)") }
            mark(.transportConnected)
            transportConnected = true
            if let media { handleMedia(media.signallingConnected(now: .now())) }
            switch role {
            case .speaker: produce()
            case .listener: consumeQueued()
            }
        }
    }

    // MARK: - Speaker

    private func produce() {
        guard let transportId else { return }
        let rtpParameters: JSONValue = [
            "mid": "0",
            "codecs": [
                [
                    "mimeType": "audio/opus", "payloadType": .number(Double(OpusPacketizer.payloadType)), "clockRate": 48_000, "channels": 2,
                    "parameters": ["minptime": 10, "useinbandfec": 1], "rtcpFeedback": [],
                ]
            ],
            "headerExtensions": [],
            "encodings": [["ssrc": .number(Double(packetizer.ssrc)), "dtx": false]],
            "rtcp": ["cname": .string("loadtest-\(index)"), "reducedSize": true, "mux": true],
        ]
        emit("audio:produce", ["roomId": .string(room), "transportId": .string(transportId), "kind": "audio", "rtpParameters": rtpParameters]) {
            [self] args in
            if let error = ackError(args.first ?? .null) { return fail("audio:produce: \(error)") }
            producing = true
            speakerMaybeLive()
        }
    }

    private func speakerMaybeLive() {
        guard producing, progress.dtlsUp, phase == .joining else { return }
        goLive(at: .now())
    }

    // MARK: - Listener

    private func queueConsume(_ producerId: String) {
        guard case .listener = role, !consumedProducers.contains(producerId), !producersToConsume.contains(producerId) else { return }
        guard consumedProducers.count + producersToConsume.count < Self.maximumProducers else { return }
        producersToConsume.append(producerId)
        if transportConnected { consumeQueued() }
    }

    /// The speaker left: its stream is done (a later producer of the same user is a new one).
    private func producerClosed(_ producerId: String) {
        consumedProducers.remove(producerId)
        producersToConsume.removeAll { $0 == producerId }
        for (ssrc, producer) in producerOfSSRC where producer == producerId {
            producerOfSSRC[ssrc] = nil
            progress.retire(ssrc: ssrc)
        }
    }

    private func consumeQueued() {
        guard let transportId else { return }
        let queued = producersToConsume
        producersToConsume.removeAll()
        for producerId in queued {
            consumedProducers.insert(producerId)
            let payload: JSONValue = [
                "roomId": .string(room), "transportId": .string(transportId), "producerId": .string(producerId),
                "rtpCapabilities": routerCapabilities,
            ]
            emit("audio:consume", payload) { [self] args in
                let ack = args.first ?? .null
                if let error = ackError(ack) { return fail("audio:consume: \(error)") }
                guard let consumerId = ack["id"]?.stringValue else { return fail("audio:consume: no consumer id") }
                if let ssrc = ack["rtpParameters"]?["encodings"]?.arrayValue?.first?["ssrc"]?.intValue.flatMap({ UInt32(exactly: $0) }),
                    producerOfSSRC.count < Self.maximumProducers
                {
                    producerOfSSRC[ssrc] = producerId
                }
                mark(.consumed)
                emit("consumer:resume", ["roomId": .string(room), "consumerId": .string(consumerId)]) { [self] args in
                    if let error = ackError(args.first ?? .null) { return fail("consumer:resume: \(error)") }
                    mark(.resumed)
                }
            }
        }
    }

    /// Whether a listener's join completes with its first packet (a side room has no speaker).
    private var expectsAudio: Bool { runner.options.speakers > 0 && room == runner.options.room }

    /// Records the first time a milestone is reached.
    private func mark(_ milestone: JoinMilestone) {
        progress.mark(milestone, at: .now())
    }

    // MARK: - Media events

    func handleMedia(_ events: [MediaLeg.Event]) {
        for event in events {
            let now = NIODeadline.now()
            switch progress.apply(event, now: now) {
            case nil: break
            case .dtlsConnected:
                speakerMaybeLive()
                // Without speakers there is no audio to wait for: a listener whose media is up has
                // joined (its join → audio time is then not sampled).
                if case .listener = role, !expectsAudio, phase == .joining { goLive(at: now) }
            case .failed(let reason):
                fail(reason)
            case .audio:
                guard phase == .joining else { break }
                mark(.firstAudio)
                goLive(at: now)
            }
        }
    }

    private func goLive(at now: NIODeadline) {
        phase = .live
        liveAt = now
        runner.participantLive(self)
    }
}
