/// An RTP header extension as actually used by a producer or consumer
/// (mediasoup `RtpHeaderExtensionParameters`).
public struct RtpHeaderExtensionParameters: Codable, Sendable, Hashable {
    /// The extension URI.
    public var uri: String
    /// The RFC 8285 id used on the wire.
    public var id: Int
    /// Whether the extension is encrypted (RFC 6904); validation defaults it to `false`.
    public var encrypt: Bool?
    /// Extension parameters; validation defaults them to `{}`.
    public var parameters: CodecParameters?

    public init(uri: String, id: Int, encrypt: Bool? = nil, parameters: CodecParameters? = nil) {
        self.uri = uri
        self.id = id
        self.encrypt = encrypt
        self.parameters = parameters
    }
}
