import COpenSSL
import Synchronization

/// One configured `SSL_CTX` (DTLS 1.2, a certificate and key, the cipher list, the use_srtp
/// offer), shared by every ``DTLSEndpoint`` with the same certificate and SRTP profiles.
///
/// Creating and configuring an `SSL_CTX` is most of what a handshake costs OpenSSL 3 besides
/// the cryptography: `SSL_CTX_new` fetches every cipher and digest from the provider (locks and
/// name lookups), the cipher list is parsed, the key checked against the certificate. mediasoup
/// builds its context once per worker (`DtlsTransport::ClassInit`); an endpoint now only makes
/// its `SSL` from the shared context. `SSL_new` takes its own reference on the context, and
/// OpenSSL allows `SSL_new` from one context on several threads, hence `@unchecked Sendable`.
final class DTLSContext: @unchecked Sendable {
    /// `SSL_CTX *`, owned (one reference, released in deinit).
    let pointer: OpaquePointer

    init(certificate: DTLSCertificate, srtpProfiles: [DTLSSRTPProfile]) throws(DTLSError) {
        LibOpenSSL.ensureInitialized()
        ERR_clear_error()
        guard let context = SSL_CTX_new(DTLS_method()) else {
            throw DTLSError(type: .openSSL, reason: "SSL_CTX_new: \(LibOpenSSL.drainErrors())")
        }
        do {
            try Self.configure(context: context, certificate: certificate, srtpProfiles: srtpProfiles)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        pointer = context
    }

    deinit { SSL_CTX_free(pointer) }

    private static func configure(context: OpaquePointer, certificate: DTLSCertificate, srtpProfiles: [DTLSSRTPProfile])
        throws(DTLSError)
    {
        func check(_ ok: Bool, _ what: String) throws(DTLSError) {
            if !ok { throw DTLSError(type: .openSSL, reason: "\(what): \(LibOpenSSL.drainErrors())") }
        }
        // DTLS 1.2 only (DTLS 1.0 lacks AEAD suites; every WebRTC peer speaks 1.2).
        try check(msab_SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION) == 1, "min version")
        try check(msab_SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION) == 1, "max version")
        try check(SSL_CTX_use_certificate(context, certificate.x509) == 1, "use certificate")
        try check(SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1, "use private key")
        try check(SSL_CTX_check_private_key(context) == 1, "check private key")
        _ = SSL_CTX_set_options(
            context,
            msab_SSL_OP_CIPHER_SERVER_PREFERENCE() | msab_SSL_OP_NO_TICKET() | msab_SSL_OP_SINGLE_ECDH_USE()
                | msab_SSL_OP_NO_QUERY_MTU() | msab_SSL_OP_NO_RENEGOTIATION())
        _ = msab_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        _ = msab_SSL_CTX_set_read_ahead(context, 0)
        // Ask for the peer's certificate (the server must request it, RFC 5763 §5) and accept
        // any chain; the fingerprint decides afterwards.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, dtlsVerifyCallback)
        SSL_CTX_set_verify_depth(context, 4)
        // ECDHE with ECDSA or RSA, no anonymous/PSK/NULL suites (mediasoup's list, AES-GCM allowed).
        try check(SSL_CTX_set_cipher_list(context, "DEFAULT:!NULL:!aNULL:!SHA256:!SHA384:!aECDH:!AESGCM+AES256:!aPSK") == 1, "cipher list")
        // RFC 5764 §4.1.1 use_srtp. Unusually, this returns 0 on success.
        let offer = srtpProfiles.map(\.openSSLName).joined(separator: ":")
        try check(SSL_CTX_set_tlsext_use_srtp(context, offer) == 0, "use_srtp \(offer)")
    }
}

extension DTLSCertificate {
    /// The shared context for this certificate and `srtpProfiles`, made at the first use.
    func context(srtpProfiles: [DTLSSRTPProfile]) throws(DTLSError) -> DTLSContext {
        let key = srtpProfiles.map(\.openSSLName).joined(separator: ":")
        if let cached = contexts.withLock({ $0[key] }) { return cached }
        // Made outside the lock (it is slow); two endpoints racing make two, and one is kept.
        let made = try DTLSContext(certificate: self, srtpProfiles: srtpProfiles)
        return contexts.withLock { contexts in
            if let cached = contexts[key] { return cached }
            // Bounded: a handful of profile orders are ever used; past the cap, not cached.
            if contexts.count < Self.maxCachedContexts { contexts[key] = made }
            return made
        }
    }

    static let maxCachedContexts = 8
}
