/// A certificate fingerprint hash function name (RFC 8122 §5, mediasoup `FingerprintAlgorithm`).
///
/// An open set of names rather than an enum: a peer naming an unknown function must not make the
/// whole `transport:connect` payload undecodable; the DTLS layer decides what it can verify.
public struct FingerprintAlgorithm: RawRepresentable, Codable, Sendable, Hashable, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static let sha1: Self = "sha-1"
    public static let sha224: Self = "sha-224"
    public static let sha256: Self = "sha-256"
    public static let sha384: Self = "sha-384"
    public static let sha512: Self = "sha-512"
}

/// A DTLS certificate fingerprint (RFC 8122 §5 `a=fingerprint`, mediasoup `DtlsFingerprint`).
public struct DtlsFingerprint: Codable, Sendable, Hashable {
    /// Hash function name, e.g. `sha-256`.
    public var algorithm: FingerprintAlgorithm
    /// Upper-case hex bytes separated by colons.
    public var value: String

    public init(algorithm: FingerprintAlgorithm, value: String) {
        self.algorithm = algorithm
        self.value = value
    }
}
