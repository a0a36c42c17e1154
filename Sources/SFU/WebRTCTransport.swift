import CPrefetch
import DTLS
import ICELite
import Logging
import NIOCore
import RTP
import SRTP
import STUN

/// One client's ICE-lite + DTLS-SRTP transport on the worker's shared UDP port (mediasoup
/// `WebRtcTransport` registered with a `WebRtcServer`).
///
/// Composes the sans-I/O cores: ``ICELiteServer`` answers the client's connectivity checks and
/// picks the tuple, ``DTLSEndpoint`` runs the handshake once `connect` told us the role and the
/// fingerprint, and two ``SRTPSession``s (inbound/outbound) carry the media. Datagrams may arrive
/// before `connect` (pymediasoup fires `transport:connect` without waiting): STUN is answered
/// anyway and early DTLS is held until the endpoint exists.
///
/// ```
///   new ──first valid ICE check──▶ connecting ──DTLS connected──▶ connected
///    │                                │                              │
///    └────────────────────────────────┴── DTLS failed ──▶ failed ──▶ closed
///                       close() / DTLS close_notify / ICE consent lost ──▶ closed
/// ```
///
/// The packet path is a guard ladder (style R6): every early return counts a ``DropReason``.
/// Owned by its ``Router``; reports its own closure to it. Confined to the worker's event loop.
package final class WebRTCTransport {
    /// The transport's life (mediasoup's combined ICE/DTLS view).
    package enum State: String, Sendable, Hashable {
        /// Created; no valid ICE check yet.
        case new
        /// ICE has a tuple; DTLS not connected yet.
        case connecting
        /// DTLS connected, SRTP keyed: media flows.
        case connected
        /// DTLS failed (closing follows at once).
        case failed
        /// Closed; terminal.
        case closed
    }

    // MARK: - Stored properties

    /// Lower-case UUID.
    package let id: String
    unowned let router: Router
    /// `unowned(unsafe)`: used for every packet sent (sink, counters), and the worker owns its
    /// routers and transports, which it closes before it goes away (all on its loop).
    unowned(unsafe) let worker: SFUWorker
    package private(set) var state: State = .new
    /// The ICE-lite agent: checks, tuple selection, consent (RFC 8445 §2.5, RFC 7675).
    private(set) var ice: ICELiteServer
    private let createdAt: NIODeadline
    private(set) var dtls: DTLSEndpoint?
    /// DTLS datagrams that came before `connect` created the endpoint.
    private var earlyDTLS: [ByteBuffer] = []
    private(set) var remoteDTLSRole: DtlsRoleValue?
    private(set) var srtpInboundSession: SRTPSession?
    private var srtpOutbound: SRTPSession?
    private(set) var srtpProfile: SRTPProfile?
    /// The tuple media is sent to (ICE's selected tuple).
    package private(set) var remoteAddress: TransportAddress?
    /// The SSRC we use as RTCP sender in receiver reports (random, RFC 3550 §8).
    let rtcpSSRC = UInt32.random(in: 1...UInt32.max)
    var nextReceiverReportAt: NIODeadline?
    /// No timer of this transport (DTLS retransmission, ICE consent, RR, the consumers' SRs) is
    /// due before this (monotonic ns), so the worker's 20 ms tick skips it with one compare
    /// instead of asking DTLS, ICE and every consumer. It may be early, never late: anything that
    /// can bring a deadline forward (a STUN check, a DTLS record, connect, a new producer or
    /// consumer, an ICE restart) resets it to 0, and ``tick(now:)`` recomputes it.
    var timersDueAt: UInt64 = 0

    private(set) var producers: [String: Producer] = [:]
    private var producersBySSRC: [UInt32: Producer] = [:]
    /// Producers whose SSRC is learnt from the first packet (no ssrc in encodings).
    private var producersWithoutSSRC: [Producer] = []
    private(set) var consumers: [String: Consumer] = [:]
    private var consumersBySSRC: [UInt32: Consumer] = [:]
    /// Producer ids this transport consumes (one consumer per producer).
    private var consumedProducerIds: Set<String> = []

    // Per-packet byte counts (loop-confined: no runtime exclusivity tracking).
    @exclusivity(unchecked) var bytesReceived: UInt64 = 0
    @exclusivity(unchecked) private(set) var bytesSent: UInt64 = 0
    /// mediasoup numbers consumer MIDs "0", "1", … per transport.
    private var nextMid = 0

    // MARK: - Init

    init(id: String, router: Router, worker: SFUWorker, now: NIODeadline) {
        self.id = id
        self.router = router
        self.worker = worker
        self.createdAt = now
        var generator = SystemRandomNumberGenerator()
        self.ice = ICELiteServer(
            generator: &generator,
            configuration: .init(consentTimeout: worker.settings.consentTimeout, closeGracePeriod: worker.settings.disconnectedGrace))
    }

    /// The parameters the client needs (`transport:create`).
    package var iceUsernameFragment: String { ice.usernameFragment }
    package var icePassword: String { ice.password }
    /// RFC 7675: consent lapsed; the transport closes after the grace period unless a check comes.
    package var iceDisconnected: Bool { ice.state == .disconnected }

    package var isClosed: Bool { state == .closed }

    // MARK: - Connect (signalling)

    /// `transport.connect({dtlsParameters})`: the client's DTLS role and certificate fingerprints.
    /// - Throws: ``SFUError`` `.alreadyConnected` on a second call, `.badDtlsParameters` when no
    ///   fingerprint is usable, `.transportClosed` after close.
    func connect(role remoteRole: DtlsRoleValue, fingerprints: [(algorithm: String, value: String)], now: NIODeadline) throws(SFUError) {
        guard state != .closed, state != .failed else { throw SFUError(.transportClosed, id) }
        guard dtls == nil else { throw SFUError(.alreadyConnected, id) }
        let parsed = fingerprints.compactMap { DTLSFingerprint(algorithm: $0.algorithm, value: $0.value) }
        guard !parsed.isEmpty else {
            throw SFUError(.badDtlsParameters, "no usable fingerprint in \(fingerprints.map { "\($0.algorithm) \($0.value)" })")
        }
        // mediasoup WebRtcTransport::Connect: the client says "server" → we are the DTLS client;
        // "client" → we are server; "auto" → we are client (we are ICE-controlled, RFC 5763 §5).
        let localRole: DTLSEndpoint.Role = remoteRole == .client ? .server : .client
        let endpoint: DTLSEndpoint
        do {
            endpoint = try DTLSEndpoint(role: localRole, certificate: worker.certificate, remoteFingerprints: parsed)
        } catch {
            throw SFUError(.internalError, "DTLS endpoint: \(error)")
        }
        remoteDTLSRole = remoteRole
        dtls = endpoint
        timersDueAt = 0
        // Start at once when ICE already picked a tuple; otherwise when it does.
        if remoteAddress != nil { startDTLS(now: now) }
    }

    private func startDTLS(now: NIODeadline) {
        guard let dtls, dtls.state == .new else { return }
        dtls.start(now: now)
        let early = earlyDTLS
        earlyDTLS = []
        for datagram in early { dtls.handleDatagram(datagram, now: now) }
        drainDTLS(now: now)
    }

    // MARK: - Datagrams (from the worker's demux)

    /// A STUN binding request for this transport (matched by USERNAME or tuple).
    func receivedSTUN(_ message: STUNMessage, from source: TransportAddress, now: NIODeadline) {
        guard state != .closed else {
            worker.drop(.transportClosed)
            return
        }
        timersDueAt = 0
        switch ice.receivedBindingRequest(message, from: source, now: now) {
        case .respond(let response, let destination):
            validCheck(response: response, to: destination, now: now)
        case .respondAndSelect(let response, let destination, _):
            validCheck(response: response, to: destination, now: now)
            // ICE-lite (RFC 8445 §7.3.1.5): the controlling side nominates with USE-CANDIDATE;
            // until then the first valid tuple is used, as mediasoup does.
            select(destination, now: now)
        case .reject(let response, let destination, _):
            worker.drop(.stunRejected)
            bytesSent &+= UInt64(response.readableBytes)
            worker.sink.send(response, to: destination)
        case .drop:
            worker.drop(.stunRejected)
        }
    }

    /// A check passed: the tuple may now send DTLS/RTP/RTCP (mediasoup accepts media from every
    /// tuple with a valid check), and the response goes back.
    private func validCheck(response: ByteBuffer, to destination: TransportAddress, now: NIODeadline) {
        worker.setTuples(ice.knownTuples, for: self)
        bytesSent &+= UInt64(response.readableBytes)
        worker.sink.send(response, to: destination)
        if remoteAddress == nil, let selected = ice.selectedTuple { select(selected, now: now) }
    }

    private func select(_ tuple: TransportAddress, now: NIODeadline) {
        let first = remoteAddress == nil
        remoteAddress = tuple
        if state == .new { state = .connecting }
        if first { startDTLS(now: now) }
    }

    /// A DTLS record from a tuple that passed an ICE check.
    func receivedDTLS(_ datagram: ByteBuffer, from source: TransportAddress, now: NIODeadline) {
        guard state != .closed else {
            worker.drop(.transportClosed)
            return
        }
        bytesReceived &+= UInt64(datagram.readableBytes)
        guard Self.isWellFormedDTLS(datagram) else {
            worker.drop(.dtlsMalformed)
            return
        }
        guard let dtls, dtls.state != .new else {
            // Before connect (or before ICE picked a tuple): hold a few, the peer retransmits anyway.
            if earlyDTLS.count < 16 { earlyDTLS.append(datagram) } else { worker.drop(.earlyDTLSOverflow) }
            return
        }
        timersDueAt = 0
        dtls.handleDatagram(datagram, now: now)
        drainDTLS(now: now)
    }

    /// Whether the datagram is a sequence of whole DTLS records (RFC 6347 §4.1):
    ///
    ///     | type (20–25) | version (0xFE xx) | epoch (2) | sequence (6) | length (2) | fragment |
    ///
    /// OpenSSL discards bad records silently; checking here lets the drop be counted and keeps
    /// garbage from a known tuple out of the TLS stack.
    package static func isWellFormedDTLS(_ datagram: ByteBuffer) -> Bool {
        datagram.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                guard bytes.count - offset >= 13, (20...25).contains(bytes[offset]), bytes[offset + 1] == 0xFE else { return false }
                let length = Int(bytes[offset + 11]) << 8 | Int(bytes[offset + 12])
                offset += 13 + length
            }
            return offset == bytes.count && offset > 0
        }
    }

    /// Sends what DTLS wants sent and acts on its state changes.
    private func drainDTLS(now: NIODeadline) {
        guard let dtls else { return }
        if let remoteAddress {
            while let datagram = dtls.pollDatagram() {
                bytesSent &+= UInt64(datagram.readableBytes)
                worker.sink.send(datagram, to: remoteAddress)
            }
        } else {
            while dtls.pollDatagram() != nil {}
        }
        while let event = dtls.pollEvent() {
            switch event {
            case .connected(let connection):
                dtlsConnected(connection, now: now)
            case .failed(let error):
                state = .failed
                // A wrong fingerprint or a broken handshake: the client sees only a dead
                // transport, so say why here (mediasoup warns too).
                worker.logger.warning("DTLS failed", metadata: ["sfu.transport": "\(id)", "error": "\(error)"])
                router.transportClosedItself(self, reason: "DTLS failed: \(error)")
                return
            case .closed:
                router.transportClosedItself(self, reason: "DTLS closed")
                return
            }
        }
    }

    private func dtlsConnected(_ connection: DTLSConnection, now: NIODeadline) {
        guard let profile = SRTPProfile(rawValue: connection.profile.rawValue) else {
            state = .failed
            router.transportClosedItself(self, reason: "DTLS negotiated an unknown SRTP profile")
            return
        }
        do {
            srtpInboundSession = try SRTPSession(profile: profile, keyAndSalt: connection.remoteKeyingMaterial, direction: .inbound)
            srtpOutbound = try SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
        } catch {
            state = .failed
            router.transportClosedItself(self, reason: "SRTP session: \(error)")
            return
        }
        srtpProfile = profile
        state = .connected
        nextReceiverReportAt = now + .milliseconds(500)
    }

    /// An SRTP packet from a tuple that passed an ICE check: the guard ladder of mediasoup
    /// `WebRtcTransport::OnRtpDataReceived`, then the producer and the router's fan-out.
    func receivedRTP(_ datagram: inout ByteBuffer, now: NIODeadline) {
        bytesReceived &+= UInt64(datagram.readableBytes)
        guard state == .connected else {
            worker.drop(state == .closed ? .transportClosed : .notDTLSConnected)
            return
        }
        guard let srtp = srtpInboundSession else {
            worker.drop(.noSRTPSession)
            return
        }
        let nowNs = now.uptimeNanoseconds
        datagram.withUnsafeMutableReadableBytes { bytes in
            let length: Int
            do {
                length = try srtp.unprotectRTP(bytes, length: bytes.count)
            } catch {
                worker.drop(.srtpUnprotectFailed)
                return
            }
            guard let packet = RTPPacketView(UnsafeMutableRawBufferPointer(rebasing: bytes[0..<length])) else {
                worker.drop(.rtpParseFailed)
                return
            }
            guard let producer = producerForSSRC(packet.ssrc) else {
                worker.drop(.unknownSSRC)
                return
            }
            router.receiveRTP(packet, for: producer, now: nowNs)
        }
    }

    @inline(__always)
    func producerForSSRC(_ ssrc: UInt32) -> Producer? {
        if let producer = producersBySSRC[ssrc] { return producer }
        guard !producersWithoutSSRC.isEmpty else { return nil }
        // Learn the SSRC of a producer whose encodings did not name one (one stream per producer).
        let producer = producersWithoutSSRC.removeFirst()
        producersBySSRC[ssrc] = producer
        return producer
    }

    func consumerForSSRC(_ ssrc: UInt32) -> Consumer? { consumersBySSRC[ssrc] }

    /// After a DTLS timer: send the retransmitted flight, act on a failure.
    func drainDTLSFromTimer(now: NIODeadline) { drainDTLS(now: now) }

    /// RFC 7675 §5.1: consent expires 30 s after the last valid check on the selected tuple;
    /// the transport then counts as disconnected and closes after a grace period unless the
    /// client checks again (a client on a flaky network keeps its transport). Returns the close
    /// reason when it is time.
    func checkConsent(now: NIODeadline) -> String? {
        guard let deadline = ice.nextTimeout, now >= deadline else { return nil }
        return ice.timerFired(now: now) == .closed ? "ICE consent timeout" : nil
    }

    // MARK: - Send path

    /// Asks for what ``sendRTP(_:sequenceNumber:timestamp:mapping:)`` will touch: this object and
    /// its outbound SRTP state (the fan-out calls it a couple of consumers ahead).
    @inline(__always)
    func prefetchForSend() {
        msab_prefetch_lines(Unmanaged.passUnretained(self).toOpaque(), 2)
        srtpOutbound?.prefetchForProtect()
    }

    /// Copies `packet` into the sink, rewrites it for a consumer (SSRC, sequence number,
    /// timestamp, payload type, extension ids, MID), SRTP-protects it and sends it to the
    /// selected tuple. Returns false when nothing was sent.
    @inline(__always)
    func sendRTP(_ packet: RTPPacketView, sequenceNumber: UInt16, timestamp: UInt32, mapping: borrowing ConsumerMapping) -> Bool {
        guard let srtp = srtpOutbound, let remoteAddress else { return false }
        let length = packet.bytes.count
        let hasExtension = packet.hasExtension
        let payloadType = mapping.payloadType
        let ssrc = mapping.ssrc
        var sent = 0
        worker.sink.send(to: remoteAddress, capacity: length + srtp.profile.rtpOverhead) { out in
            guard let target = out.baseAddress, let source = packet.bytes.baseAddress else { return 0 }
            target.copyMemory(from: source, byteCount: length)
            // Fixed-header offsets (RFC 3550 §5.1): PT in byte 1, sequence 2–3, timestamp 4–7, SSRC 8–11.
            out[1] = (out[1] & 0x80) | payloadType
            target.storeBytes(of: sequenceNumber.bigEndian, toByteOffset: 2, as: UInt16.self)
            target.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
            target.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
            if hasExtension, let view = RTPPacketView(target, length: length) {
                view.remapExtensionIDs(mapping.extensionIDs)
                if mapping.midExtensionID != 0 { view.rewriteMid(id: mapping.midExtensionID, to: mapping.mid) }
            }
            do {
                sent = try srtp.protectRTP(out, length: length)
            } catch {
                worker.drop(.srtpProtectFailed)
                return 0
            }
            return sent
        }
        guard sent > 0 else { return false }
        bytesSent &+= UInt64(sent)
        worker.counters.rtpOut &+= 1
        return true
    }

    /// Protects and sends one RTCP compound.
    func sendRTCPCompound(_ compound: ByteBuffer) {
        guard let srtp = srtpOutbound, let remoteAddress else { return }
        var buffer = compound
        do {
            try srtp.protectRTCP(&buffer)
        } catch {
            worker.drop(.srtpProtectFailed)
            return
        }
        bytesSent &+= UInt64(buffer.readableBytes)
        worker.counters.rtcpOut &+= 1
        worker.sink.send(buffer, to: remoteAddress)
    }

    // MARK: - Children

    func addProducer(_ producer: Producer) {
        timersDueAt = 0
        producers[producer.id] = producer
        if let ssrc = producer.ssrc {
            producersBySSRC[ssrc] = producer
        } else {
            producersWithoutSSRC.append(producer)
        }
    }

    func removeProducer(_ producer: Producer) {
        producers[producer.id] = nil
        if let ssrc = producer.ssrc, producersBySSRC[ssrc] === producer { producersBySSRC[ssrc] = nil }
        producersWithoutSSRC.removeAll { $0 === producer }
    }

    /// Whether an SSRC is already used by a producer of this transport.
    func hasProducer(ssrc: UInt32) -> Bool { producersBySSRC[ssrc] != nil }

    func addConsumer(_ consumer: Consumer, now: NIODeadline) {
        consumers[consumer.id] = consumer
        consumersBySSRC[consumer.ssrc] = consumer
        consumedProducerIds.insert(consumer.producerId)
        // Spread SRs: the first one 1–5 s after creation.
        consumer.nextSenderReportAt = now.uptimeNanoseconds &+ UInt64.random(in: 1_000_000_000...SFUWorker.senderReportInterval)
        timersDueAt = 0
    }

    func nextConsumerMid() -> String {
        defer { nextMid += 1 }
        return String(nextMid)
    }

    func removeConsumer(_ consumer: Consumer) {
        guard consumers.removeValue(forKey: consumer.id) != nil else { return }
        if consumersBySSRC[consumer.ssrc] === consumer { consumersBySSRC[consumer.ssrc] = nil }
        consumedProducerIds.remove(consumer.producerId)
    }

    /// Whether a consumer of `producerId` is open on this transport.
    func isConsuming(producerId: String) -> Bool { consumedProducerIds.contains(producerId) }

    // MARK: - Close

    /// Closes DTLS (close_notify) and marks the transport closed. Children are closed by the router.
    func markClosed() {
        guard state != .closed else { return }
        if let dtls {
            dtls.close()
            if let remoteAddress {
                while let datagram = dtls.pollDatagram() { worker.sink.send(datagram, to: remoteAddress) }
            }
        }
        state = .closed
        ice.close()
        srtpInboundSession = nil
        srtpOutbound = nil
        earlyDTLS = []
    }

    /// New ICE credentials (`transport.restartIce()`); the client re-checks with them.
    func restartIce() -> (usernameFragment: String, password: String) {
        let previous = ice.usernameFragment
        var generator = SystemRandomNumberGenerator()
        ice.restart(generator: &generator)
        timersDueAt = 0
        worker.iceRestarted(self, previousUsernameFragment: previous)
        return (ice.usernameFragment, ice.password)
    }
}

/// The `role` of the client's `dtlsParameters`, as the SFU core needs it (MediasoupWire's
/// `DtlsRole` is mapped onto this at the API boundary).
enum DtlsRoleValue: Sendable, Hashable {
    case auto, client, server
}

extension WebRTCTransport {
    /// State and counters for `stats()`.
    package var stats: TransportStats {
        let dtlsState: String =
            switch dtls?.state {
            case .none: "new"
            case .some(.new): "new"
            case .some(.connecting): "connecting"
            case .some(.connected): "connected"
            case .some(.failed): "failed"
            case .some(.closed): "closed"
            }
        let iceState = ice.state.rawValue
        return TransportStats(
            id: id, state: state.rawValue, iceState: iceState, dtlsState: dtlsState,
            remoteAddress: remoteAddress.map { "\($0)" }, srtpProfile: srtpProfile?.description,
            bytesReceived: bytesReceived, bytesSent: bytesSent,
            producerIds: producers.keys.sorted(), consumerIds: consumers.keys.sorted())
    }
}
