import COpenSSL
import Synchronization

/// The worker's DTLS identity: an ECDSA P-256 key and a self-signed X.509 certificate
/// (WebRTC authenticates it by the fingerprint signalled out of band, RFC 8827 §6.5, so the
/// subject and issuer carry no meaning).
///
/// Generate one per worker and share it with every ``DTLSEndpoint``. Immutable after creation;
/// OpenSSL's X509/EVP_PKEY objects are reference counted and safe to read from several threads,
/// hence `@unchecked Sendable`.
public final class DTLSCertificate: @unchecked Sendable {
    // MARK: - Stored properties

    /// `X509 *`, owned (freed in deinit).
    let x509: OpaquePointer
    /// `EVP_PKEY *`, owned (freed in deinit).
    let privateKey: OpaquePointer
    /// Configured `SSL_CTX`s by use_srtp offer (see ``DTLSContext``).
    let contexts = Mutex<[String: DTLSContext]>([:])

    // MARK: - Init

    /// Generates a fresh P-256 key and a self-signed certificate: version 3, random 64-bit serial,
    /// valid from one day ago for `validityDays` (OpenSSL stamps the validity from the system
    /// clock; certificate validity is not part of any protocol state machine here), signed with
    /// ECDSA-SHA256.
    public init(commonName: String = "msab", validityDays: Int = 30) throws(DTLSError) {
        LibOpenSSL.ensureInitialized()
        guard let key = Self.generateP256Key() else { throw Self.failure("EC P-256 key generation failed") }
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw Self.failure("X509_new failed")
        }
        var ok = X509_set_version(certificate, 2) == 1  // v3
        // Random positive serial (RFC 5280 §4.1.2.2: at most 20 octets, positive).
        if let serial = BN_new() {
            ok = ok && BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1
            ok = ok && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate)) != nil
            BN_free(serial)
        } else {
            ok = false
        }
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(certificate), -86_400) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(certificate), Int(validityDays) * 86_400) != nil
        ok = ok && X509_set_pubkey(certificate, key) == 1
        if ok, let name = X509_get_subject_name(certificate) {
            ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
            ok = ok && X509_set_issuer_name(certificate, name) == 1
        } else {
            ok = false
        }
        ok = ok && X509_sign(certificate, key, EVP_sha256()) > 0
        guard ok else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw Self.failure("building the self-signed certificate failed")
        }
        self.x509 = certificate
        self.privateKey = key
    }

    /// Loads a certificate and its private key from PEM text (fixed identities in tests or
    /// configuration). Throws if either fails to parse or they do not belong together.
    public init(pemCertificate: String, pemPrivateKey: String) throws(DTLSError) {
        LibOpenSSL.ensureInitialized()
        let certificate: OpaquePointer? = Self.withMemoryBIO(pemCertificate) { PEM_read_bio_X509($0, nil, nil, nil) }
        guard let certificate else { throw Self.failure("PEM certificate does not parse") }
        let key: OpaquePointer? = Self.withMemoryBIO(pemPrivateKey) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        guard let key else {
            X509_free(certificate)
            throw Self.failure("PEM private key does not parse")
        }
        guard X509_check_private_key(certificate, key) == 1 else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw Self.failure("private key does not match the certificate")
        }
        self.x509 = certificate
        self.privateKey = key
    }

    deinit {
        X509_free(self.x509)
        EVP_PKEY_free(self.privateKey)
    }

    // MARK: - API

    /// The certificate's fingerprint with `algorithm`, in the `AB:CD:…` form mediasoup publishes
    /// in `dtlsParameters.fingerprints`. Always publish at least sha-256 (aiortc ignores others).
    public func fingerprint(_ algorithm: DTLSFingerprint.Algorithm) -> DTLSFingerprint {
        // X509_digest over our own certificate cannot fail for these built-in digests.
        DTLSFingerprint(algorithm: algorithm, digest: Self.digest(of: self.x509, algorithm) ?? [])
    }

    /// Fingerprints for every supported algorithm, sha-1 … sha-512.
    public var fingerprints: [DTLSFingerprint] { DTLSFingerprint.Algorithm.allCases.map { self.fingerprint($0) } }

    /// The certificate as PEM text.
    public var pemCertificate: String {
        Self.writeToMemoryBIO { PEM_write_bio_X509($0, self.x509) == 1 }
    }

    /// The private key as unencrypted PKCS#8 PEM text. Handle with care.
    public var pemPrivateKey: String {
        Self.writeToMemoryBIO { PEM_write_bio_PrivateKey($0, self.privateKey, nil, nil, 0, nil, nil) == 1 }
    }

    // MARK: - Internal

    /// Digest of the DER encoding of `certificate` (`X509 *`).
    static func digest(of certificate: OpaquePointer, _ algorithm: DTLSFingerprint.Algorithm) -> [UInt8]? {
        let md: OpaquePointer? =
            switch algorithm {
            case .sha1: EVP_sha1()
            case .sha224: EVP_sha224()
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, md, &out, &length) == 1 else { return nil }
        return Array(out[0..<Int(length)])
    }

    // MARK: - Private

    /// EVP_EC_gen is variadic (not callable from Swift): use the EVP_PKEY_CTX keygen API.
    private static func generateP256Key() -> OpaquePointer? {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) == 1
        else { return nil }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen(context, &key) == 1 else { return nil }
        return key
    }

    private static func withMemoryBIO<T>(_ text: String, _ body: (OpaquePointer) -> T?) -> T? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw -> T? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    private static func writeToMemoryBIO(_ body: (OpaquePointer) -> Bool) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard body(bio) else { return "" }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = msab_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func failure(_ what: String) -> DTLSError {
        DTLSError(type: .certificate, reason: "\(what): \(LibOpenSSL.drainErrors())")
    }
}
