/// What a producer sends or a consumer receives (mediasoup `RtpParameters`).
public struct RtpParameters: Codable, Sendable, Hashable {
    /// The MID (RFC 8843) of the m-section.
    public var mid: String?
    /// Codecs in use: media codecs and their RTX codecs.
    public var codecs: [RtpCodecParameters]
    /// Header extensions in use; validation defaults them to `[]`.
    public var headerExtensions: [RtpHeaderExtensionParameters]?
    /// Streams; validation defaults them to `[]`.
    public var encodings: [RtpEncodingParameters]?
    /// RTCP settings; validation defaults them to `{reducedSize: true}`.
    public var rtcp: RtcpParameters?

    public init(
        mid: String? = nil,
        codecs: [RtpCodecParameters],
        headerExtensions: [RtpHeaderExtensionParameters]? = nil,
        encodings: [RtpEncodingParameters]? = nil,
        rtcp: RtcpParameters? = nil
    ) {
        self.mid = mid
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.encodings = encodings
        self.rtcp = rtcp
    }
}
