/// The SRTP parameters of a pipe transport (mediasoup `SrtpParameters`): the crypto suite and the
/// master key‖salt the transport protects with, base64. Each side of a pipe makes its own and
/// hands it to the other side's `connect` over the control path (mediasoup `PipeTransport`).
public struct SrtpParameters: Codable, Sendable, Hashable {
    /// `AEAD_AES_256_GCM` (the default and the only suite msab's pipes accept),
    /// `AEAD_AES_128_GCM`, `AES_CM_128_HMAC_SHA1_80`, `AES_CM_128_HMAC_SHA1_32`.
    public var cryptoSuite: String
    /// Master key followed by master salt, base64 (60 characters for AEAD_AES_256_GCM).
    public var keyBase64: String

    public init(cryptoSuite: String, keyBase64: String) {
        self.cryptoSuite = cryptoSuite
        self.keyBase64 = keyBase64
    }
}
