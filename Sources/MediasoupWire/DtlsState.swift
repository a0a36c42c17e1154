/// DTLS state of a WebRTC transport (mediasoup `DtlsState`).
public enum DtlsState: String, Codable, Sendable, Hashable, CaseIterable {
    case new
    case connecting
    case connected
    case failed
    case closed
}
