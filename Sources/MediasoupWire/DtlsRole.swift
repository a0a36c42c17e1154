/// DTLS role (mediasoup `DtlsRole`); `auto` lets the other side decide (RFC 5763 `a=setup:actpass`).
public enum DtlsRole: String, Codable, Sendable, Hashable, CaseIterable {
    case auto
    case client
    case server
}
