/// The DTLS parameters of a transport (mediasoup `DtlsParameters`).
public struct DtlsParameters: Codable, Sendable, Hashable {
    /// DTLS role; absent means `auto`.
    public var role: DtlsRole?
    /// Certificate fingerprints.
    public var fingerprints: [DtlsFingerprint]

    public init(role: DtlsRole? = nil, fingerprints: [DtlsFingerprint]) {
        self.role = role
        self.fingerprints = fingerprints
    }
}
