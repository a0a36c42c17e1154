import CPrefetch
import DTLS
import ICELite
import Logging
import MediasoupWire
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
/// anyway and early DTLS is held until the endpoint exists. Its life is one ``Phase`` whose
/// cases carry their data (WebRTCTransport+State.swift).
///
/// The packet path is a guard ladder (style R6): every early return counts a ``DropReason``.
/// Owned by its ``Router``; reports its own closure to it. Confined to the worker's event loop.
package final class WebRTCTransport {
    // MARK: - Stored properties

    // The send path's state first (a class lays its stored properties out in declaration
    // order): the fan-out prefetches this object's first two cache lines a few consumers ahead,
    // and a forwarded packet then reads nothing else of it.

    /// What the send path needs of `.connected` (the outbound session and the tuple), kept beside
    /// ``phase`` so that a forwarded packet reads two words instead of copying the `Connected`
    /// payload out of the enum (a retain and release of ``MediaKeys`` and of the session per
    /// consumer, and a pointer chase through the keys object: measured in the fan-out profile).
    /// Rebuilt on every write of `phase` (didSet), so it can never outlive the keys that own the
    /// session; nil unless connected.
    @exclusivity(unchecked) private(set) var sendPath: SendPath?
    /// Bytes sent (per packet; loop-confined: no runtime exclusivity tracking).
    @exclusivity(unchecked) private(set) var bytesSent: UInt64 = 0

    /// Lower-case UUID.
    package let id: String
    /// The router that owns it. Lifecycle events (a close reason, valid tuples) are returned to
    /// the worker's demux, which hands them to this owner (style R7); only the packet path calls
    /// it, as mediasoup's `Transport::Listener` does: a decrypted RTP packet goes to
    /// ``Router/receiveRTP(_:for:now:)`` for the fan-out, a NACK to the router's retransmission.
    unowned let router: Router
    /// `unowned(unsafe)`: used for every packet sent (sink, counters), and the worker owns its
    /// routers and transports, which it closes before it goes away (all on its loop).
    unowned(unsafe) let worker: SFUWorker
    /// new → connecting → connected → closed, each with its own data. Hot-path state: read for
    /// every packet, never accessed overlapping (loop-confined).
    @exclusivity(unchecked) var phase: Phase = .new(Handshake()) {
        didSet { refreshSendPath() }
    }
    /// The ICE-lite agent: checks, tuple selection, consent (RFC 8445 §2.5, RFC 7675). It lives
    /// from creation to close in every phase (closing it is ``ICELiteServer/close()``).
    private(set) var ice: ICELiteServer
    private let createdAt: NIODeadline
    /// The SSRC we use as RTCP sender in receiver reports (random, RFC 3550 §8).
    let rtcpSSRC: UInt32
    /// No timer of this transport (DTLS retransmission, ICE consent, RR, the consumers' SRs) is
    /// due before this, so the worker's 20 ms tick skips it with one compare
    /// instead of asking DTLS, ICE and every consumer. It may be early, never late: anything that
    /// can bring a deadline forward (a STUN check, a DTLS record, connect, a new producer or
    /// consumer, an ICE restart) resets it to `.distantPast`, and ``tick(now:)`` recomputes it; nil
    /// when nothing is pending.
    var timersDueAt: NIODeadline? = .distantPast

    private(set) var producers: [String: Producer] = [:]
    private var producersBySSRC: [UInt32: Producer] = [:]
    /// Producers whose SSRC is learnt from the first packet (no ssrc in encodings).
    private var producersWithoutSSRC: [Producer] = []
    private(set) var consumers: [String: Consumer] = [:]
    private var consumersBySSRC: [UInt32: Consumer] = [:]
    /// Producer ids this transport consumes (one consumer per producer).
    private var consumedProducerIds: Set<String> = []

    // Per-packet byte count received (loop-confined: no runtime exclusivity tracking).
    @exclusivity(unchecked) var bytesReceived: UInt64 = 0
    /// mediasoup numbers consumer MIDs "0", "1", … per transport.
    private var nextMid = 0

    /// DTLS datagrams held before the endpoint can take them; the peer retransmits anyway.
    static let maxEarlyDTLS = 16

    // MARK: - Init

    init(id: String, router: Router, worker: SFUWorker, now: NIODeadline) {
        self.id = id
        self.router = router
        self.worker = worker
        self.createdAt = now
        self.rtcpSSRC = UInt32.random(in: 1...UInt32.max, using: &worker.random)
        // ICE credentials from the worker's generator (the system CSPRNG in production).
        self.ice = ICELiteServer(
            generator: &worker.random,
            configuration: .init(consentTimeout: worker.settings.consentTimeout, closeGracePeriod: worker.settings.disconnectedGrace))
    }

    /// The parameters the client needs (`transport:create`).
    package var iceUsernameFragment: String { ice.usernameFragment }
    package var icePassword: String { ice.password }
    /// RFC 7675: consent lapsed; the transport closes after the grace period unless a check comes.
    package var iceDisconnected: Bool { ice.state == .disconnected }

    // MARK: - Connect (signalling)

    /// `transport.connect({dtlsParameters})`: the client's DTLS role and certificate fingerprints.
    /// - Throws: ``SFUError`` `.alreadyConnected` on a second call, `.badDtlsParameters` when no
    ///   fingerprint is usable, `.transportClosed` after close.
    /// - Returns: why the transport must close, when DTLS failed at once (the router closes it).
    func connect(
        role remoteRole: DtlsRoleValue, fingerprints: [(algorithm: String, value: String)], certificate: DTLSCertificate, now: NIODeadline
    ) throws(SFUError) -> CloseReason? {
        var handshake: Handshake
        let selected: TransportAddress?
        switch phase {
        case .closed: throw SFUError(.transportClosed, id)
        case .connected: throw SFUError(.alreadyConnected, id)
        case .new(let current): (handshake, selected) = (current, nil)
        case .connecting(let tuple, let current): (handshake, selected) = (current, tuple)
        }
        guard handshake.dtls == nil else { throw SFUError(.alreadyConnected, id) }
        let parsed = fingerprints.compactMap { DTLSFingerprint(algorithm: $0.algorithm, value: $0.value) }
        guard !parsed.isEmpty else {
            throw SFUError(.badDtlsParameters, "no usable fingerprint in \(fingerprints.map { "\($0.algorithm) \($0.value)" })")
        }
        // mediasoup WebRtcTransport::Connect: the client says "server" → we are the DTLS client;
        // "client" → we are server; "auto" → we are client (we are ICE-controlled, RFC 5763 §5).
        let localRole: DTLSEndpoint.Role = remoteRole == .client ? .server : .client
        do {
            handshake.dtls = try DTLSEndpoint(role: localRole, certificate: certificate, remoteFingerprints: parsed)
        } catch {
            throw SFUError(.internalError, "DTLS endpoint: \(error)")
        }
        timersDueAt = .distantPast
        // Start at once when ICE already picked a tuple; otherwise when it does.
        if let selected {
            phase = .connecting(selected: selected, handshake)
            return startDTLS(now: now)
        }
        phase = .new(handshake)
        return nil
    }

    /// Starts the handshake of the `connecting` phase if `connect` came: the early datagrams go in.
    private func startDTLS(now: NIODeadline) -> CloseReason? {
        guard case .connecting(let selected, var handshake) = phase, let dtls = handshake.dtls, dtls.state == .new else { return nil }
        let early = handshake.earlyDTLS
        handshake.earlyDTLS = []
        phase = .connecting(selected: selected, handshake)
        dtls.start(now: now)
        for datagram in early { dtls.handleDatagram(datagram, now: now) }
        return drainDTLS(now: now)
    }

    // MARK: - Datagrams (from the worker's demux)

    /// What a STUN check asks of the transport's owners (style R7: the transport reports, the
    /// worker updates its demux and the router closes; the transport calls neither).
    struct STUNReport {
        /// The tuples that passed an ICE check (ICE-lite keeps a few), when a check passed: DTLS,
        /// RTP and RTCP from them reach this transport.
        var validTuples: [TransportAddress]?
        /// The transport must close (DTLS, started by the first tuple, failed at once).
        var close: CloseReason?
    }

    /// A STUN binding request for this transport (matched by USERNAME or tuple).
    func receivedSTUN(_ message: STUNMessage, from source: TransportAddress, now: NIODeadline) -> STUNReport {
        guard !isClosed else {
            worker.drop(.transportClosed)
            return STUNReport()
        }
        timersDueAt = .distantPast
        switch ice.receivedBindingRequest(message, from: source, now: now) {
        case .respond(let response, let destination):
            return validCheck(response: response, to: destination, now: now)
        case .respondAndSelect(let response, let destination, _):
            var report = validCheck(response: response, to: destination, now: now)
            // ICE-lite (RFC 8445 §7.3.1.5): the controlling side nominates with USE-CANDIDATE;
            // until then the first valid tuple is used, as mediasoup does.
            if report.close == nil { report.close = select(destination, now: now) }
            return report
        case .reject(let response, let destination, _):
            worker.drop(.stunRejected)
            bytesSent &+= UInt64(response.readableBytes)
            worker.sink.send(response, to: destination)
            return STUNReport()
        case .drop:
            worker.drop(.stunRejected)
            return STUNReport()
        }
    }

    /// A check passed: the tuple may now send DTLS/RTP/RTCP (mediasoup accepts media from every
    /// tuple with a valid check), and the response goes back.
    private func validCheck(response: ByteBuffer, to destination: TransportAddress, now: NIODeadline) -> STUNReport {
        bytesSent &+= UInt64(response.readableBytes)
        worker.sink.send(response, to: destination)
        var report = STUNReport(validTuples: ice.knownTuples)
        if remoteAddress == nil, let selected = ice.selectedTuple { report.close = select(selected, now: now) }
        return report
    }

    /// Media and DTLS go to `tuple` from now on; the first tuple moves `new` to `connecting`.
    private func select(_ tuple: TransportAddress, now: NIODeadline) -> CloseReason? {
        switch phase {
        case .new(let handshake):
            phase = .connecting(selected: tuple, handshake)
            return startDTLS(now: now)
        case .connecting(_, let handshake):
            phase = .connecting(selected: tuple, handshake)
        case .connected(var connected):
            connected.selected = tuple
            phase = .connected(connected)
        case .closed:
            break
        }
        return nil
    }

    /// A DTLS record from a tuple that passed an ICE check.
    /// - Returns: why the transport must close (DTLS failed or the peer closed it), for its router.
    func receivedDTLS(_ datagram: ByteBuffer, from source: TransportAddress, now: NIODeadline) -> CloseReason? {
        guard !isClosed else {
            worker.drop(.transportClosed)
            return nil
        }
        bytesReceived &+= UInt64(datagram.readableBytes)
        guard Self.isWellFormedDTLS(datagram) else {
            worker.drop(.dtlsMalformed)
            return nil
        }
        let dtls: DTLSEndpoint
        switch phase {
        case .connected(let connected):
            dtls = connected.keys.dtls
        case .new(var handshake):
            guard let started = handshake.started else {
                holdEarly(datagram, in: &handshake) { .new($0) }
                return nil
            }
            dtls = started
        case .connecting(let selected, var handshake):
            guard let started = handshake.started else {
                holdEarly(datagram, in: &handshake) { .connecting(selected: selected, $0) }
                return nil
            }
            dtls = started
        case .closed:
            return nil
        }
        timersDueAt = .distantPast
        dtls.handleDatagram(datagram, now: now)
        return drainDTLS(now: now)
    }

    /// Before connect (or before ICE picked a tuple): hold a few, the peer retransmits anyway.
    private func holdEarly(_ datagram: ByteBuffer, in handshake: inout Handshake, _ phase: (Handshake) -> Phase) {
        guard handshake.earlyDTLS.count < Self.maxEarlyDTLS else { return worker.drop(.earlyDTLSOverflow) }
        // Out of the enum first, so the array is not shared with the old payload when it grows.
        self.phase = .closed
        handshake.earlyDTLS.append(datagram)
        self.phase = phase(handshake)
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

    /// Sends what DTLS wants sent and acts on its state changes; returns why the transport must
    /// close when DTLS failed or closed.
    private func drainDTLS(now: NIODeadline) -> CloseReason? {
        guard let dtls else { return nil }
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
                if let reason = dtlsConnected(dtls, connection, now: now) { return reason }
            case .failed(let error):
                // A wrong fingerprint or a broken handshake: the client sees only a dead
                // transport, so say why here (mediasoup warns too).
                worker.logger.warning("DTLS failed", metadata: ["sfu.transport": "\(id)", "error": "\(error)"])
                return .dtlsFailed("\(error)")
            case .closed:
                return .dtlsClosed
            }
        }
        return nil
    }

    /// `connecting` → `connected`: the keys come from the connection, or the transport closes.
    private func dtlsConnected(_ dtls: DTLSEndpoint, _ connection: DTLSConnection, now: NIODeadline) -> CloseReason? {
        guard case .connecting(let selected, _) = phase else { return nil }
        let keys: MediaKeys
        do {
            keys = try MediaKeys(dtls: dtls, connection: connection)
        } catch {
            switch error {
            case .unknownProfile: return .unknownSRTPProfile
            case .session(let detail): return .srtpSessionFailed(detail)
            }
        }
        phase = .connected(Connected(selected: selected, keys: keys, nextReceiverReportAt: now + .milliseconds(500)))
        return nil
    }

    /// The first rungs of the SRTP and SRTCP guard ladders: the datagram's `length` is counted, and only a
    /// connected transport has a session to unprotect it with (otherwise a counted drop, nil).
    @inline(__always)
    func inboundSRTP(received length: Int) -> SRTPSession? {
        bytesReceived &+= UInt64(length)
        guard case .connected(let connected) = phase else {
            worker.drop(isClosed ? .transportClosed : .notDTLSConnected)
            return nil
        }
        return connected.keys.inbound
    }

    /// An SRTP packet from a tuple that passed an ICE check: the guard ladder of mediasoup
    /// `WebRtcTransport::OnRtpDataReceived`, then the producer and the router's fan-out.
    func receivedRTP(_ datagram: inout ByteBuffer, now: NIODeadline) {
        guard let srtp = inboundSRTP(received: datagram.readableBytes) else { return }
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
            router.receiveRTP(packet, for: producer, now: now)
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
    func drainDTLSFromTimer(now: NIODeadline) -> CloseReason? { drainDTLS(now: now) }

    /// RFC 7675 §5.1: consent expires 30 s after the last valid check on the selected tuple;
    /// the transport then counts as disconnected and closes after a grace period unless the
    /// client checks again (a client on a flaky network keeps its transport). Returns the close
    /// reason when it is time.
    func checkConsent(now: NIODeadline) -> CloseReason? {
        guard let deadline = ice.nextTimeout, now >= deadline else { return nil }
        return ice.timerFired(now: now) == .closed ? .iceConsentTimeout : nil
    }

    // MARK: - Send path

    /// The outbound SRTP session and the destination of a connected transport (``sendPath``).
    struct SendPath {
        /// Owned by the `MediaKeys` in ``phase``; `sendPath` is reset whenever `phase` changes.
        /// Unmanaged: the send path borrows it without a retain/release pair per packet.
        let srtp: Unmanaged<SRTPSession>
        let destination: TransportAddress
    }

    private func refreshSendPath() {
        if case .connected(let connected) = phase {
            sendPath = SendPath(srtp: .passUnretained(connected.keys.outbound), destination: connected.selected)
        } else {
            sendPath = nil
        }
    }

    /// The fan-out's prefetch pipeline for this transport (``Router/producerReceivedRTP(_:_:audioLevel:now:)``):
    /// step 0 (this object already asked for by the consumer): ask for the outbound session;
    /// steps 1 and 2: the session's stream and cipher, then the cipher's key schedule
    /// (``SRTPSession/prefetchForProtect(step:_:)``). Each step only reads lines an earlier
    /// step asked for, and nothing is retained.
    @inline(__always)
    func prefetchForSend(step: Int) {
        guard let sendPath else { return }
        if step == 0 {
            msab_prefetch_lines(sendPath.srtp.toOpaque(), 2)
        } else {
            SRTPSession.prefetchForProtect(step: step, sendPath.srtp)
        }
    }

    /// Copies `packet` into the sink, rewrites it for a consumer (SSRC, sequence number,
    /// timestamp, payload type, extension ids, MID), SRTP-protects it and sends it to the
    /// selected tuple. Returns false when nothing was sent.
    @inline(__always)
    func sendRTP(_ packet: RTPPacketView, sequenceNumber: UInt16, timestamp: UInt32, mapping: borrowing ConsumerMapping) -> Bool {
        guard let sendPath else { return false }
        return sendPath.srtp._withUnsafeGuaranteedRef { srtp in
            sendRTP(packet, sequenceNumber: sequenceNumber, timestamp: timestamp, mapping: mapping, srtp: srtp, to: sendPath.destination)
        }
    }

    /// ``sendRTP(_:sequenceNumber:timestamp:mapping:)`` with the outbound session borrowed.
    @inline(__always)
    private func sendRTP(
        _ packet: RTPPacketView, sequenceNumber: UInt16, timestamp: UInt32, mapping: borrowing ConsumerMapping, srtp: SRTPSession,
        to remoteAddress: TransportAddress
    ) -> Bool {
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
            sent = worker.protectRTP(out, length: length, with: srtp)
            return sent
        }
        guard sent > 0 else { return false }
        bytesSent &+= UInt64(sent)
        worker.counters.rtpOut &+= 1
        return true
    }

    /// Protects and sends one RTCP compound.
    func sendRTCPCompound(_ compound: ByteBuffer) {
        guard case .connected(let connected) = phase else { return }
        let srtp = connected.keys.outbound
        let remoteAddress = connected.selected
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
        timersDueAt = .distantPast
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

    func addConsumer(_ consumer: Consumer, firstSenderReportAt: NIODeadline) {
        consumers[consumer.id] = consumer
        consumersBySSRC[consumer.ssrc] = consumer
        consumedProducerIds.insert(consumer.producerId)
        consumer.nextSenderReportAt = firstSenderReportAt
        timersDueAt = .distantPast
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

    /// Closes DTLS (close_notify) and moves to `closed`. Children are closed by the router.
    func markClosed() {
        if let dtls, !isClosed {
            dtls.close()
            if let remoteAddress {
                while let datagram = dtls.pollDatagram() { worker.sink.send(datagram, to: remoteAddress) }
            }
        }
        guard !isClosed else { return }
        phase = .closed
        ice.close()
    }

    /// New ICE credentials (`transport.restartIce()`); the client re-checks with them.
    /// The router moves the demux entry from `previousUsernameFragment` to the new one.
    func restartIce() -> (usernameFragment: String, password: String, previousUsernameFragment: String) {
        let previous = ice.usernameFragment
        ice.restart(generator: &worker.random)
        timersDueAt = .distantPast
        return (ice.usernameFragment, ice.password, previous)
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
        var srtpProfile: String?
        if case .connected(let connected) = phase { srtpProfile = connected.keys.profile.description }
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
            remoteAddress: remoteAddress.map { "\($0)" }, srtpProfile: srtpProfile,
            bytesReceived: bytesReceived, bytesSent: bytesSent,
            producerIds: producers.keys.sorted(), consumerIds: consumers.keys.sorted())
    }
}
