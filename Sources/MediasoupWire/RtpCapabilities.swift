/// What a router or an endpoint can send/receive (mediasoup `RtpCapabilities`).
///
/// mediasoup-client also reports `fecMechanisms` (always `[]`); it is kept so the object
/// round-trips unchanged.
public struct RtpCapabilities: Codable, Sendable, Hashable {
    /// Supported codecs, media and RTX.
    public var codecs: [RtpCodecCapability]?
    /// Supported RTP header extensions.
    public var headerExtensions: [RtpHeaderExtension]?
    /// Legacy mediasoup-client field (always empty).
    public var fecMechanisms: [String]?

    public init(
        codecs: [RtpCodecCapability]? = nil,
        headerExtensions: [RtpHeaderExtension]? = nil,
        fecMechanisms: [String]? = nil
    ) {
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.fecMechanisms = fecMechanisms
    }
}
