/// A certificate fingerprint as signalled in SDP `a=fingerprint` (RFC 8122 §5) and in
/// mediasoup's `dtlsParameters.fingerprints`: a hash function name and the upper-case hex
/// digest of the DER certificate, bytes separated by colons (`AB:CD:…`).
public struct DTLSFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The hash functions mediasoup accepts (RFC 8122 §5 "hash-func" names in lower case).
    public enum Algorithm: String, CaseIterable, Hashable, Sendable {
        case sha1 = "sha-1"
        case sha224 = "sha-224"
        case sha256 = "sha-256"
        case sha384 = "sha-384"
        case sha512 = "sha-512"

        /// Digest length in bytes.
        public var digestLength: Int {
            switch self {
            case .sha1: 20
            case .sha224: 28
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }
    }

    /// The hash function.
    public var algorithm: Algorithm
    /// `AB:CD:…`, upper case (normalised by the initialiser).
    public var value: String

    /// Parses a signalled fingerprint. Accepts either case and the algorithm name in either
    /// case ("SHA-256" appears in the wild); returns nil for an unknown algorithm or a value
    /// that is not `digestLength` colon-separated hex bytes.
    public init?(algorithm: String, value: String) {
        guard let algorithm = Algorithm(rawValue: algorithm.lowercased()) else { return nil }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == algorithm.digestLength,
            parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) })
        else { return nil }
        self.algorithm = algorithm
        self.value = value.uppercased()
    }

    /// Builds the fingerprint of a digest.
    init(algorithm: Algorithm, digest: some Sequence<UInt8>) {
        let digits = [Character]("0123456789ABCDEF")
        var text = ""
        for byte in digest {
            if !text.isEmpty { text.append(":") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        self.algorithm = algorithm
        self.value = text
    }

    public var description: String { "\(self.algorithm.rawValue) \(self.value)" }
}
