/// A codec a router or endpoint can handle (mediasoup `RtpCodecCapability`).
///
/// Appears in `RtpCapabilities.codecs` (router capabilities sent to clients, device capabilities
/// received in `audio:consume`) and as a router media codec.
public struct RtpCodecCapability: Codable, Sendable, Hashable {
    /// Media kind; ORTC validation overrides it with the `mimeType`'s media component.
    public var kind: MediaKind
    /// `audio/opus`, `video/VP8`, … (compared case-insensitively).
    public var mimeType: String
    /// Payload type the endpoint prefers; the router assigns one when absent.
    public var preferredPayloadType: Int?
    /// RTP clock rate in Hz.
    public var clockRate: Int
    /// Channel count (audio only; validation defaults it to 1 for audio and removes it for video).
    public var channels: Int?
    /// Codec-specific parameters (fmtp).
    public var parameters: CodecParameters?
    /// Supported RTCP feedback.
    public var rtcpFeedback: [RtcpFeedback]?

    public init(
        kind: MediaKind,
        mimeType: String,
        preferredPayloadType: Int? = nil,
        clockRate: Int,
        channels: Int? = nil,
        parameters: CodecParameters? = nil,
        rtcpFeedback: [RtcpFeedback]? = nil
    ) {
        self.kind = kind
        self.mimeType = mimeType
        self.preferredPayloadType = preferredPayloadType
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
    }
}
