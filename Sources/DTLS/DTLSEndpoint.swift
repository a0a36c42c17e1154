import COpenSSL
public import NIOCore

/// The SRTP profiles of DTLS-SRTP (RFC 5764 §4.1.2, RFC 7714 §14.2), in our order of preference.
public enum SRTPProtectionProfile: String, Sendable, Hashable, CaseIterable {
    case aeadAES256GCM = "SRTP_AEAD_AES_256_GCM"
    case aeadAES128GCM = "SRTP_AEAD_AES_128_GCM"
    case aes128CMSHA1_80 = "SRTP_AES128_CM_SHA1_80"
    case aes128CMSHA1_32 = "SRTP_AES128_CM_SHA1_32"

    public var keyLength: Int {
        switch self {
        case .aeadAES256GCM: 32
        case .aeadAES128GCM, .aes128CMSHA1_80, .aes128CMSHA1_32: 16
        }
    }

    public var saltLength: Int {
        switch self {
        case .aeadAES256GCM, .aeadAES128GCM: 12
        case .aes128CMSHA1_80, .aes128CMSHA1_32: 14
        }
    }
}

/// Keys exported from a finished DTLS-SRTP handshake: ours to protect what we send, the peer's to
/// unprotect what we receive (each key‖salt, as libsrtp wants them).
public struct SRTPKeyingMaterial: Sendable, Hashable {
    public var profile: SRTPProtectionProfile
    public var localKeyAndSalt: [UInt8]
    public var remoteKeyAndSalt: [UInt8]
}

/// A DTLS 1.2 endpoint over OpenSSL with memory BIOs, sans I/O: datagrams in with
/// `handleDatagram`, datagrams out with `pollDatagram`, retransmission with
/// `pollTimeoutMs`/`handleTimeout` (OpenSSL keeps its own clock for those timers; the caller only
/// decides when to ask). Not thread-safe: confine it to one event loop.
public final class DTLSEndpoint: @unchecked Sendable {
    public enum Role: Sendable { case client, server }

    public enum State: Sendable, Equatable {
        case new
        case connecting
        case connected(SRTPKeyingMaterial)
        case failed(String)
        case closed
    }

    public let role: Role
    public private(set) var state: State = .new
    let context: OpaquePointer
    let ssl: OpaquePointer
    let readBIO: OpaquePointer
    let writeBIO: OpaquePointer
    var remoteFingerprint: (algorithm: String, value: String)?
    var handshakeDone = false

    public init(role: Role, certificate: DTLSCertificate) {
        DTLSLibrary.initialize()
        self.role = role
        let ctx = SSL_CTX_new(DTLS_method())!
        SSL_CTX_use_certificate(ctx, certificate.certificate)
        SSL_CTX_use_PrivateKey(ctx, certificate.key)
        msab_ctx_min_dtls12(ctx)
        msab_ctx_verify_peer(ctx)
        msab_ctx_read_ahead(ctx, 1)
        msab_ctx_ecdh_auto(ctx)
        SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA")
        // Returns 0 on success (media-notes).
        _ = SSL_CTX_set_tlsext_use_srtp(ctx, SRTPProtectionProfile.allCases.map(\.rawValue).joined(separator: ":"))
        context = ctx
        ssl = SSL_new(ctx)!
        readBIO = BIO_new(BIO_s_mem())!
        msab_mem_eof_retry(readBIO)
        writeBIO = msab_dgram_bio_new()!
        SSL_set_bio(ssl, readBIO, writeBIO)
        msab_ssl_set_mtu(ssl, 1200)
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)  // frees both BIOs
        SSL_CTX_free(context)
    }

    /// The fingerprint the peer announced (transport:connect); the handshake fails if its
    /// certificate does not match it. May be set after the handshake started.
    public func setRemoteFingerprint(algorithm: String, value: String) {
        remoteFingerprint = (algorithm, value)
        if handshakeDone, case .connecting = state { finishHandshake() }
    }

    /// Starts the handshake (a client sends its ClientHello).
    public func start() {
        guard case .new = state else { return }
        state = .connecting
        drive()
    }

    /// A datagram from the peer.
    public func handleDatagram(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .failed, .closed: return
        case .new: start()
        default: break
        }
        _ = BIO_write(readBIO, bytes.baseAddress, Int32(bytes.count))
        drive()
    }

    /// The next datagram to send, if any.
    public func pollDatagram() -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: 1500)
        let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1500) { raw in
            Int(msab_dgram_pop(writeBIO, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(raw.count)))
        }
        return n > 0 ? buffer : nil
    }

    /// Milliseconds until a retransmission is due; nil when none is pending.
    public func pollTimeoutMs() -> Int? {
        guard case .connecting = state else { return nil }
        let ms = msab_dtls_timeout_ms(ssl)
        return ms < 0 ? nil : Int(ms)
    }

    /// Retransmits the last flight if its timer expired.
    public func handleTimeout() {
        guard case .connecting = state else { return }
        if msab_dtls_handle_timeout(ssl) < 0 { state = .failed("handshake timed out") }
    }

    /// Sends close_notify.
    public func close() {
        switch state {
        case .connected, .connecting: SSL_shutdown(ssl)
        default: break
        }
        state = .closed
    }

    func drive() {
        if !handshakeDone {
            let result = SSL_do_handshake(ssl)
            if result == 1 {
                handshakeDone = true
                finishHandshake()
            } else {
                let error = SSL_get_error(ssl, result)
                if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
                    state = .failed("handshake error \(error)")
                    ERR_clear_error()
                }
            }
            return
        }
        // After the handshake only alerts matter (application data is not used by WebRTC media).
        var scratch = [UInt8](repeating: 0, count: 2048)
        let n = SSL_read(ssl, &scratch, Int32(scratch.count))
        if n <= 0 {
            let error = SSL_get_error(ssl, n)
            if error == SSL_ERROR_ZERO_RETURN {
                state = .closed
            } else if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
                ERR_clear_error()
            }
        }
    }

    func finishHandshake() {
        guard let expected = remoteFingerprint else { return }  // wait for transport:connect
        guard let peer = SSL_get1_peer_certificate(ssl) else {
            state = .failed("no peer certificate")
            return
        }
        defer { X509_free(peer) }
        guard let actual = DTLSCertificate.fingerprint(of: peer, algorithm: expected.algorithm),
              actual.uppercased() == expected.value.uppercased() else {
            state = .failed("peer fingerprint mismatch")
            return
        }
        guard let selected = SSL_get_selected_srtp_profile(ssl), let name = selected.pointee.name,
              let profile = SRTPProtectionProfile(rawValue: String(cString: name)) else {
            state = .failed("no SRTP profile negotiated")
            return
        }
        let total = 2 * (profile.keyLength + profile.saltLength)
        var material = [UInt8](repeating: 0, count: total)
        let label = "EXTRACTOR-dtls_srtp"
        guard SSL_export_keying_material(ssl, &material, total, label, label.utf8.count, nil, 0, 0) == 1 else {
            state = .failed("keying material export failed")
            return
        }
        let k = profile.keyLength, s = profile.saltLength
        let clientKey = Array(material[0..<k]), serverKey = Array(material[k..<2 * k])
        let clientSalt = Array(material[2 * k..<2 * k + s]), serverSalt = Array(material[2 * k + s..<2 * k + 2 * s])
        let client = clientKey + clientSalt, server = serverKey + serverSalt
        state = .connected(SRTPKeyingMaterial(profile: profile, localKeyAndSalt: role == .client ? client : server,
                                              remoteKeyAndSalt: role == .client ? server : client))
    }
}
