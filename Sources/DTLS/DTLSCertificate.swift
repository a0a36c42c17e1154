import COpenSSL

/// The DTLS identity of a worker: an ECDSA P-256 key and a self-signed certificate, generated
/// once, whose fingerprint is published in every transport's `dtlsParameters`.
public final class DTLSCertificate: @unchecked Sendable {
    // @unchecked: the key and certificate are never mutated after init; OpenSSL allows
    // concurrent reads of both.
    let key: OpaquePointer
    let certificate: OpaquePointer

    public struct GenerationFailed: Error {}

    public init() throws {
        DTLSLibrary.initialize()
        guard let key = msab_generate_p256() else { throw GenerationFailed() }
        guard let certificate = msab_self_signed(key, 30) else {
            EVP_PKEY_free(key)
            throw GenerationFailed()
        }
        self.key = key
        self.certificate = certificate
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// The certificate's fingerprint as mediasoup publishes it (`AB:CD:…`), for "sha-1",
    /// "sha-224", "sha-256", "sha-384" or "sha-512"; nil for another algorithm.
    public func fingerprint(_ algorithm: String) -> String? {
        Self.fingerprint(of: certificate, algorithm: algorithm)
    }

    static func digest(named algorithm: String) -> OpaquePointer? {
        switch algorithm.lowercased() {
        case "sha-1": EVP_sha1()
        case "sha-224": EVP_sha224()
        case "sha-256": EVP_sha256()
        case "sha-384": EVP_sha384()
        case "sha-512": EVP_sha512()
        default: nil
        }
    }

    static func fingerprint(of certificate: OpaquePointer, algorithm: String) -> String? {
        guard let digest = digest(named: algorithm) else { return nil }
        var buffer = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, digest, &buffer, &length) == 1 else { return nil }
        let hex: [Character] = Array("0123456789ABCDEF")
        return buffer[0..<Int(length)].map { String([hex[Int($0 >> 4)], hex[Int($0 & 0x0F)]]) }.joined(separator: ":")
    }
}

/// One-time OpenSSL set-up (mediasoup's DepOpenSSL).
enum DTLSLibrary {
    static let initialized: Bool = {
        OPENSSL_init_ssl(0, nil)
        // Create the datagram BIO method once, before any concurrent use.
        if let probe = msab_dgram_bio_new() { BIO_free(probe) }
        return true
    }()

    static func initialize() { _ = initialized }
}
