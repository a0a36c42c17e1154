import COpenSSL
public import NIOCore

/// One DTLS 1.2 endpoint (one per WebRTC transport) doing the DTLS-SRTP handshake of
/// RFC 5764 over OpenSSL, sans-I/O: datagrams go in through ``handleDatagram(_:now:)`` and come
/// out of ``pollDatagram()``; the caller runs the retransmission timer from ``pollTimeout()``.
///
/// ```
///   new ──start──▶ connecting ──handshake done + fingerprint verified──▶ connected
///                      │  ╲                                                 │
///                      │   ╲── fingerprint mismatch / handshake error ──▶ failed
///                      │                                                    │
///                      └──────── close_notify / alert / close() ───────▶ closed
/// ```
///
/// The peer's fingerprint usually arrives with `transport:connect`, which may come after the
/// peer's first DTLS datagrams (pymediasoup fires `connect` without awaiting it). The endpoint
/// therefore lets the handshake run and verifies the certificate when both the handshake and
/// the fingerprint are there, whichever comes last; `connected` is only reported after that.
/// Datagrams that arrive before ``start(now:)`` are held (up to 16) and fed in at start.
///
/// Time: every event carries `now`, used to turn OpenSSL's remaining timer into a deadline.
/// OpenSSL 3.0 measures its retransmission timer on its own clock (`DTLSv1_get_timeout` /
/// `DTLSv1_handle_timeout`, no injection point), so a retransmission happens when real time,
/// not `now`, has passed the timer; everything else here is deterministic. The timer's
/// initial value and cap are set through `DTLS_set_timer_cb`.
///
/// Not thread-safe and not `Sendable`: confine an endpoint to one event loop.
public final class DTLSEndpoint {
    /// Which side of the handshake we play (mediasoup `DtlsTransport::Role`).
    public enum Role: Sendable, Hashable {
        /// We send the ClientHello (the peer said `role: "server"`).
        case client
        /// We answer the ClientHello (the peer said `role: "client"`).
        case server
    }

    /// Where the endpoint is in its life.
    public enum State: Sendable, Hashable {
        /// Created, ``start(now:)`` not called yet.
        case new
        /// Handshaking, or handshake done and waiting for the remote fingerprint.
        case connecting
        /// Handshake done, certificate verified, SRTP keys exported.
        case connected(DTLSConnection)
        /// The handshake or the verification failed; terminal.
        case failed(DTLSError)
        /// close_notify or an alert received, or ``close()`` called; terminal.
        case closed
    }

    /// A state change, reported once through ``pollEvent()``.
    public enum Event: Sendable, Hashable {
        case connected(DTLSConnection)
        case failed(DTLSError)
        case closed
    }

    /// Why an incoming datagram was dropped without reaching OpenSSL.
    public enum DropReason: Sendable, Hashable, CaseIterable {
        /// First byte outside 20…63, so not DTLS (RFC 7983 §7).
        case notDTLS
        /// The endpoint failed or closed.
        case terminated
        /// More than 16 datagrams arrived before start.
        case earlyQueueFull
    }

    // MARK: - Stored properties

    /// Our role.
    public let role: Role
    /// The current state.
    public private(set) var state: State = .new
    /// Datagrams dropped before reaching OpenSSL, by reason (RFC 7983 demux misses, late packets).
    public private(set) var droppedDatagrams: [DropReason: Int] = [:]
    /// Application-data records received after the handshake (no SCTP here): read and discarded.
    public private(set) var discardedApplicationRecords = 0

    private let certificate: DTLSCertificate
    private var remoteFingerprints: [DTLSFingerprint] = []
    private var handshakeComplete = false
    private var earlyDatagrams: [ByteBuffer] = []
    private var events: [Event] = []
    private var lastNow: NIODeadline?
    private let outbox: DatagramOutbox
    private var outboxReference: Unmanaged<DatagramOutbox>
    /// The shared context the `SSL` was made from, and the `SSL *` (owned).
    private let context: DTLSContext
    private let ssl: OpaquePointer
    /// `BIO *` (memory) OpenSSL reads incoming datagrams from; owned by `ssl`.
    private let readBIO: OpaquePointer

    /// DTLS payload bytes per datagram (mediasoup uses 1350; 1200 keeps clear of tunnels).
    public static let mtu = 1200
    private static let earlyQueueLimit = 16

    // MARK: - Init

    /// Creates an endpoint.
    /// - Parameters:
    ///   - role: client (we send ClientHello) or server.
    ///   - certificate: the worker's certificate.
    ///   - srtpProfiles: use_srtp offer / acceptable set, most preferred first.
    ///   - remoteFingerprints: the peer's signalled fingerprints, if known already.
    ///   - initialRetransmitTimeout: first retransmission timeout (doubles each time, up to
    ///     `maximumRetransmitTimeout`). mediasoup uses 100 ms rather than RFC 6347's 1 s, as
    ///     media setup latency matters more than the odd extra packet.
    public init(
        role: Role,
        certificate: DTLSCertificate,
        srtpProfiles: [DTLSSRTPProfile] = DTLSSRTPProfile.defaultOffer,
        remoteFingerprints: [DTLSFingerprint] = [],
        initialRetransmitTimeout: TimeAmount = .milliseconds(100),
        maximumRetransmitTimeout: TimeAmount = .seconds(4)
    ) throws(DTLSError) {
        precondition(!srtpProfiles.isEmpty, "DTLSEndpoint needs at least one SRTP profile")
        LibOpenSSL.ensureInitialized()
        self.role = role
        self.certificate = certificate
        self.remoteFingerprints = remoteFingerprints
        self.outbox = DatagramOutbox(
            initialTimeoutMicroseconds: UInt32(clamping: max(1, initialRetransmitTimeout.nanoseconds / 1000)),
            maximumTimeoutMicroseconds: UInt32(clamping: max(1, maximumRetransmitTimeout.nanoseconds / 1000)))
        self.outboxReference = Unmanaged.passRetained(self.outbox)

        let context: DTLSContext
        do {
            context = try certificate.context(srtpProfiles: srtpProfiles)
        } catch {
            self.outboxReference.release()
            throw error
        }
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            self.outboxReference.release()
            throw DTLSError(type: .openSSL, reason: "SSL_new: \(LibOpenSSL.drainErrors())")
        }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(LibOpenSSL.datagramWriteMethod) else {
            SSL_free(ssl)
            self.outboxReference.release()
            throw DTLSError(type: .openSSL, reason: "BIO_new: \(LibOpenSSL.drainErrors())")
        }
        // An empty read BIO means "no datagram yet" (retry), not end of file.
        _ = msab_BIO_set_mem_eof_return(readBIO, -1)
        let outboxPointer = self.outboxReference.toOpaque()
        BIO_set_data(writeBIO, outboxPointer)
        SSL_set_bio(ssl, readBIO, writeBIO)  // ssl owns both BIOs from here
        _ = SSL_set_ex_data(ssl, 0, outboxPointer)
        DTLS_set_timer_cb(ssl, dtlsTimerCallback)
        SSL_set_info_callback(ssl, dtlsInfoCallback)
        // RFC 6347 §4.1.1.1: fragment handshake messages to the path MTU we choose; with
        // SSL_OP_NO_QUERY_MTU OpenSSL takes this value instead of asking the BIO.
        _ = msab_DTLS_set_link_mtu(ssl, Self.mtu)
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
        self.context = context
        self.ssl = ssl
        self.readBIO = readBIO
    }

    deinit {
        SSL_free(self.ssl)  // frees both BIOs (the shared context outlives it: `context`)
        self.outboxReference.release()
    }

    // MARK: - API

    /// The certificate this endpoint presents.
    public var localCertificate: DTLSCertificate { self.certificate }

    /// Adds a fingerprint the peer signalled for its certificate. When the handshake has already
    /// completed, verifies now (→ `connected` or `failed`). A certificate matching any one
    /// signalled fingerprint is accepted (RFC 8122 §5).
    public func setRemoteFingerprint(_ fingerprint: DTLSFingerprint) {
        self.remoteFingerprints.append(fingerprint)
        if case .connecting = self.state, self.handshakeComplete {
            self.verifyAndConnect()
        }
    }

    /// String form of ``setRemoteFingerprint(_:)`` for values straight from signalling.
    /// - Throws: `.invalidFingerprint` for an unknown algorithm or malformed value.
    public func setRemoteFingerprint(algorithm: String, value: String) throws(DTLSError) {
        guard let fingerprint = DTLSFingerprint(algorithm: algorithm, value: value) else {
            throw DTLSError(type: .invalidFingerprint, reason: "\(algorithm) \(value)")
        }
        self.setRemoteFingerprint(fingerprint)
    }

    /// Starts the handshake: as client, queues the ClientHello; as server, processes any
    /// ClientHello that arrived before start.
    public func start(now: NIODeadline) {
        guard case .new = self.state else { return }
        self.lastNow = now
        self.state = .connecting
        if self.role == .client {
            self.driveHandshake()
        }
        let early = self.earlyDatagrams
        self.earlyDatagrams = []
        for datagram in early {
            self.handleDatagram(datagram, now: now)
        }
    }

    /// Feeds one received UDP datagram. Non-DTLS bytes (RFC 7983 first-byte ranges) are counted
    /// and dropped; OpenSSL itself silently discards records that fail its checks.
    public func handleDatagram(_ datagram: ByteBuffer, now: NIODeadline) {
        self.lastNow = now
        guard let first = datagram.readableBytesView.first, (20...63).contains(first) else {
            self.droppedDatagrams[.notDTLS, default: 0] += 1
            return
        }
        switch self.state {
        case .new:
            guard self.earlyDatagrams.count < Self.earlyQueueLimit else {
                self.droppedDatagrams[.earlyQueueFull, default: 0] += 1
                return
            }
            self.earlyDatagrams.append(datagram)
            return
        case .failed, .closed:
            self.droppedDatagrams[.terminated, default: 0] += 1
            return
        case .connecting, .connected:
            break
        }
        datagram.withUnsafeReadableBytes { bytes in
            _ = BIO_write(self.readBIO, bytes.baseAddress, Int32(bytes.count))
        }
        if self.handshakeComplete {
            self.readRecords()
        } else {
            self.driveHandshake()
        }
        // Keep datagram boundaries: whatever OpenSSL did not consume belongs to this datagram.
        _ = msab_BIO_reset(self.readBIO)
    }

    /// The next datagram to send, or nil when none is pending. Call until nil after every event.
    public func pollDatagram() -> ByteBuffer? {
        self.outbox.pop()
    }

    /// The next state change, or nil.
    public func pollEvent() -> Event? {
        self.events.isEmpty ? nil : self.events.removeFirst()
    }

    /// When ``handleTimeout(now:)`` should next be called, or nil when no retransmission timer
    /// runs. Computed as the `now` of the latest event plus OpenSSL's remaining time.
    public func pollTimeout() -> NIODeadline? {
        guard case .connecting = self.state, let lastNow = self.lastNow else {
            // After the handshake OpenSSL may still hold the last flight for retransmission;
            // that is answered when the peer retransmits, so no timer is needed here.
            return nil
        }
        var remaining: Int64 = 0
        guard msab_DTLSv1_get_timeout(self.ssl, &remaining) == 1 else { return nil }
        return lastNow + .microseconds(remaining)
    }

    /// Lets OpenSSL retransmit the current flight if its timer expired. When the peer stayed
    /// silent through all of OpenSSL's retries the endpoint fails.
    public func handleTimeout(now: NIODeadline) {
        self.lastNow = now
        guard case .connecting = self.state, !self.handshakeComplete else { return }
        ERR_clear_error()
        if msab_DTLSv1_handle_timeout(self.ssl) < 0 {
            self.fail(DTLSError(type: .retransmissionsExhausted, reason: LibOpenSSL.drainErrors()))
        }
    }

    /// Sends close_notify (RFC 5246 §7.2.1) if a handshake was under way or done, and closes.
    public func close() {
        switch self.state {
        case .connecting, .connected:
            ERR_clear_error()
            _ = SSL_shutdown(self.ssl)
            ERR_clear_error()
            self.transition(to: .closed, event: .closed)
        case .new:
            self.transition(to: .closed, event: .closed)
        case .failed, .closed:
            break
        }
    }

    // MARK: - Private

    /// Runs SSL_do_handshake after new input or at start.
    private func driveHandshake() {
        ERR_clear_error()
        let result = SSL_do_handshake(self.ssl)
        if result == 1 {
            self.handshakeComplete = true
            self.verifyAndConnect()
            // Records that followed the Finished in the same datagram.
            if case .connected = self.state { self.readRecords() }
            return
        }
        switch SSL_get_error(self.ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return  // waiting for the peer's next flight
        case SSL_ERROR_ZERO_RETURN:
            self.transition(to: .closed, event: .closed)
        default:
            self.fail(self.handshakeError())
        }
    }

    /// Reads (and discards) records after the handshake; notices close_notify and fatal alerts.
    private func readRecords() {
        var scratch = [UInt8](repeating: 0, count: 2048)
        while true {
            ERR_clear_error()
            let count = SSL_read(self.ssl, &scratch, Int32(scratch.count))
            if count > 0 {
                self.discardedApplicationRecords += 1
                continue
            }
            switch SSL_get_error(self.ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            case SSL_ERROR_ZERO_RETURN:
                // close_notify (RFC 5246 §7.2.1).
                self.transition(to: .closed, event: .closed)
                return
            default:
                // A fatal alert or a broken record stream after the handshake ends the association.
                if case .connected = self.state {
                    ERR_clear_error()
                    self.transition(to: .closed, event: .closed)
                } else {
                    self.fail(self.handshakeError())
                }
                return
            }
        }
    }

    /// Checks the peer certificate against the signalled fingerprints and, if it matches,
    /// exports the SRTP keys (RFC 5764 §4.2) and reports `connected`.
    private func verifyAndConnect() {
        guard case .connecting = self.state, self.handshakeComplete else { return }
        guard !self.remoteFingerprints.isEmpty else { return }  // wait for transport:connect
        guard let peer = SSL_get1_peer_certificate(self.ssl) else {
            self.fail(DTLSError(type: .fingerprintMismatch, reason: "peer sent no certificate"))
            return
        }
        defer { X509_free(peer) }
        var matched: DTLSFingerprint?
        var seen: [String] = []
        for expected in self.remoteFingerprints {
            guard let digest = DTLSCertificate.digest(of: peer, expected.algorithm) else { continue }
            let actual = DTLSFingerprint(algorithm: expected.algorithm, digest: digest)
            if actual.value == expected.value {
                matched = expected
                break
            }
            seen.append(actual.description)
        }
        guard let matched else {
            self.fail(
                DTLSError(
                    type: .fingerprintMismatch,
                    reason: "peer certificate \(seen.joined(separator: ", ")) matches none of \(self.remoteFingerprints)"))
            return
        }
        guard let selected = SSL_get_selected_srtp_profile(self.ssl),
            let profile = DTLSSRTPProfile(rawValue: UInt16(truncatingIfNeeded: selected.pointee.id))
        else {
            self.fail(DTLSError(type: .noSRTPProfile, reason: "no use_srtp agreement"))
            return
        }
        // RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt.
        let keyLength = profile.keyLength
        let saltLength = profile.saltLength
        var material = [UInt8](repeating: 0, count: 2 * (keyLength + saltLength))
        let label = "EXTRACTOR-dtls_srtp"
        ERR_clear_error()
        guard SSL_export_keying_material(self.ssl, &material, material.count, label, label.utf8.count, nil, 0, 0) == 1 else {
            self.fail(DTLSError(type: .keyExportFailed, reason: LibOpenSSL.drainErrors()))
            return
        }
        let clientKey = material[0..<keyLength]
        let serverKey = material[keyLength..<(2 * keyLength)]
        let clientSalt = material[(2 * keyLength)..<(2 * keyLength + saltLength)]
        let serverSalt = material[(2 * keyLength + saltLength)...]
        let client = Array(clientKey + clientSalt)
        let server = Array(serverKey + serverSalt)
        let connection = DTLSConnection(
            profile: profile,
            localKeyingMaterial: self.role == .client ? client : server,
            remoteKeyingMaterial: self.role == .client ? server : client,
            remoteFingerprint: matched)
        self.transition(to: .connected(connection), event: .connected(connection))
    }

    /// The error for a failed SSL call during the handshake. OpenSSL also retransmits from
    /// inside SSL_do_handshake when its timer expired, so running out of retransmissions can
    /// surface there too (SSL_R_READ_TIMEOUT_EXPIRED).
    private func handshakeError() -> DTLSError {
        let timedOut = ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_READ_TIMEOUT_EXPIRED
        return DTLSError(type: timedOut ? .retransmissionsExhausted : .handshakeFailed, reason: self.failureReason())
    }

    private func failureReason() -> String {
        var reason = LibOpenSSL.drainErrors()
        if let alert = self.outbox.receivedAlert {
            reason += " (alert received: level \(alert.level), description \(alert.description))"
        }
        return reason
    }

    private func fail(_ error: DTLSError) {
        switch self.state {
        case .failed, .closed: return
        default: self.transition(to: .failed(error), event: .failed(error))
        }
    }

    private func transition(to state: State, event: Event) {
        self.state = state
        self.events.append(event)
    }
}
