import DTLS
import NIOCore
import SRTP
import STUN

/// One participant's WebRTC transport in the client role: a controlling ICE agent, a DTLS client
/// and, once DTLS is up, an SRTP session each way, over one UDP socket to the server's candidate.
/// Datagrams are routed by their first byte (RFC 7983 §7: STUN 0–3, DTLS 20–63, RTP/RTCP
/// 128–191). The socket I/O lives in ``UDPLegHandler``; this type only decides.
///
/// Confined to the load test's event loop (not thread-safe).
final class MediaLeg {
    /// What happened on the leg, for the participant.
    enum Event {
        case iceConnected
        case dtlsConnected
        case failed(String)
        /// An authenticated, decrypted RTP packet.
        case rtp(sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32)
    }

    /// Datagrams dropped, by reason; an `authentication` drop means a packet whose SRTP tag did
    /// not verify, which the load test reports.
    struct Drops {
        var srtpAuthentication = 0
        var srtpReplay = 0
        var srtpOther = 0
        var beforeSRTP = 0
        var unclassified = 0
        /// Binding requests from the server left unanswered (``ICEControllingAgent/RequestDropReason``).
        var iceRequest = 0
    }

    // MARK: - Stored properties

    private(set) var ice: ICEControllingAgent
    let dtls: DTLSEndpoint
    private(set) var outbound: SRTPSession?
    private(set) var inbound: SRTPSession?
    private(set) var drops = Drops()
    private(set) var rtcpReceived = 0
    /// Authenticated RTP packets whose payload is not one of the fixture's Opus frames (audio
    /// that is not what the speakers sent).
    private(set) var foreignPayloads = 0
    let remote: SocketAddress
    var channel: (any Channel)?
    private var pending: [ByteBuffer] = []
    private var failed = false
    /// `transport:connect` acknowledged.
    private var signalled = false
    /// Something was written since the last flush (a received RTP packet writes nothing, and a
    /// flush per packet would cost a syscall check per packet for thousands of listeners).
    private var dirty = false
    private static let maximumPending = 32

    // MARK: - Init

    init(ice: ICEControllingAgent, dtls: DTLSEndpoint, remote: SocketAddress) {
        self.ice = ice
        self.dtls = dtls
        self.remote = remote
    }

    // MARK: - API

    /// Starts ICE (DTLS starts once ICE has a selected pair).
    func start(now: NIODeadline, using generator: inout some RandomNumberGenerator) {
        send(ice.start(now: now, using: &generator))
        flush()
    }

    /// `transport:connect` was acknowledged: the server knows its DTLS role (it is `auto` until the
    /// peer names its own) and our fingerprint, so a ClientHello will now be answered.
    func signallingConnected(now: NIODeadline) -> [Event] {
        signalled = true
        var events: [Event] = []
        startDTLSIfReady(now: now, into: &events)
        flush()
        return events
    }

    /// Handles one datagram from the server; `source` is where it came from (a STUN request's
    /// answer names it in XOR-MAPPED-ADDRESS).
    func receive(_ datagram: ByteBuffer, from source: SocketAddress, now: NIODeadline) -> [Event] {
        guard !failed, let first = datagram.readableBytesView.first else { return [] }
        var events: [Event] = []
        switch first {
        case 0...3:
            var copy = datagram
            guard let message = try? copy.readSTUNMessage() else {
                drops.unclassified += 1
                return []
            }
            if message.type.messageClass == .request {
                answer(message, from: source)
                return []
            }
            switch ice.receive(message, now: now) {
            case .connected:
                events.append(.iceConnected)
                startDTLSIfReady(now: now, into: &events)
            case .failed(let reason):
                failed = true
                events.append(.failed("ICE: \(reason)"))
            case .ignored:
                break
            }
        case 20...63:
            dtls.handleDatagram(datagram, now: now)
            drainDTLS(into: &events)
        case 128...191:
            guard let inbound else {
                drops.beforeSRTP += 1
                return []
            }
            var packet = datagram
            // RTCP packet types 192–223 share the range; RTP's marker‖PT byte never falls in it
            // with dynamic payload types (RFC 5761 §4).
            if let second = packet.getInteger(at: packet.readerIndex + 1, as: UInt8.self), (192...223).contains(second) {
                do {
                    try inbound.unprotectRTCP(&packet)
                    rtcpReceived += 1
                } catch {
                    count(error)
                }
                return []
            }
            do {
                try inbound.unprotectRTP(&packet)
            } catch {
                count(error)
                return []
            }
            if !OpusFixturePayloads.contains(rtpPacket: packet) { foreignPayloads += 1 }
            guard let sequence = packet.getInteger(at: packet.readerIndex + 2, as: UInt16.self),
                let timestamp = packet.getInteger(at: packet.readerIndex + 4, as: UInt32.self),
                let ssrc = packet.getInteger(at: packet.readerIndex + 8, as: UInt32.self)
            else {
                drops.srtpOther += 1
                return []
            }
            events.append(.rtp(sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc))
        default:
            drops.unclassified += 1
        }
        flush()
        return events
    }

    /// Runs ICE and DTLS timers.
    func handleTimeout(now: NIODeadline, using generator: inout some RandomNumberGenerator) -> [Event] {
        guard !failed else { return [] }
        var events: [Event] = []
        if let request = ice.handleTimeout(now: now, using: &generator) { send(request) }
        if case .failed(let reason) = ice.state {
            failed = true
            return [.failed("ICE: \(reason)")]
        }
        if let deadline = dtls.pollTimeout(), now >= deadline {
            dtls.handleTimeout(now: now)
            drainDTLS(into: &events)
        }
        flush()
        return events
    }

    /// Protects and sends one RTP packet (the buffer needs the profile's overhead of capacity).
    /// False when SRTP is not up yet.
    @discardableResult
    func sendRTP(_ packet: inout ByteBuffer) -> Bool {
        guard let outbound, !failed else { return false }
        do {
            try outbound.protectRTP(&packet)
        } catch {
            return false
        }
        send(packet)
        return true
    }

    /// A speaker's 20 ms tick: the packetizer's next Opus packet, protected and sent now.
    func sendAudioFrame(from packetizer: inout OpusPacketizer) {
        var packet = packetizer.next(reservingCapacity: 32)
        sendRTP(&packet)
        flush()
    }

    /// Writes what is queued.
    func flush() {
        guard let channel else { return }
        if !pending.isEmpty {
            for datagram in pending { channel.write(AddressedEnvelope(remoteAddress: remote, data: datagram), promise: nil) }
            pending.removeAll(keepingCapacity: true)
            dirty = true
        }
        guard dirty else { return }
        dirty = false
        channel.flush()
    }

    /// Takes the datagrams queued while no channel is attached (the in-memory tests' wire).
    func takePending() -> [ByteBuffer] {
        defer { pending.removeAll() }
        return pending
    }

    func close() {
        failed = true
        dtls.close()
        channel?.close(promise: nil)
        channel = nil
    }

    // MARK: - Private

    /// The server's own check (libnice in lite mode sends one; RFC 8445 §7.3): answered on the
    /// one pair there is, i.e. toward `remote`. A request from elsewhere would get an answer it
    /// cannot use, so it is dropped and counted.
    private func answer(_ request: STUNMessage, from source: SocketAddress) {
        guard source == remote, let mapped = TransportAddress(source) else {
            drops.iceRequest += 1
            return
        }
        switch ice.answer(request, from: mapped) {
        case .respond(let response):
            send(response)
            flush()
        case .drop:
            drops.iceRequest += 1
        }
    }

    private func send(_ datagram: ByteBuffer) {
        if let channel {
            channel.write(AddressedEnvelope(remoteAddress: remote, data: datagram), promise: nil)
            dirty = true
        } else if pending.count < Self.maximumPending {
            pending.append(datagram)
        }
    }

    /// DTLS starts when ICE has a pair AND the server has the `transport:connect`. Starting on
    /// ICE alone (as browsers do) works when the connect is quick, but under load the server may
    /// answer the connect many seconds later: it holds only the first 16 early datagrams, and
    /// OpenSSL gives up after its retransmissions, so the handshake would fail for a slow ack.
    private func startDTLSIfReady(now: NIODeadline, into events: inout [Event]) {
        guard signalled, ice.state == .connected, dtls.state == .new else { return }
        dtls.start(now: now)
        drainDTLS(into: &events)
    }

    private func drainDTLS(into events: inout [Event]) {
        while let datagram = dtls.pollDatagram() { send(datagram) }
        while let event = dtls.pollEvent() {
            switch event {
            case .connected(let connection):
                guard let profile = SRTPProfile(rawValue: connection.profile.rawValue) else {
                    failed = true
                    events.append(.failed("DTLS: SRTP profile \(connection.profile) unknown to SRTP"))
                    continue
                }
                do {
                    outbound = try SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
                    inbound = try SRTPSession(profile: profile, keyAndSalt: connection.remoteKeyingMaterial, direction: .inbound)
                    events.append(.dtlsConnected)
                } catch {
                    failed = true
                    events.append(.failed("SRTP: \(error)"))
                }
            case .failed(let error):
                failed = true
                events.append(.failed("DTLS: \(error)"))
            case .closed:
                failed = true
                events.append(.failed("DTLS closed by the server"))
            }
        }
    }

    private func count(_ error: any Error) {
        guard let error = error as? SRTPError else {
            drops.srtpOther += 1
            return
        }
        switch error.type {
        case .authFail: drops.srtpAuthentication += 1
        case .replayFail: drops.srtpReplay += 1
        default: drops.srtpOther += 1
        }
    }
}
