/// A codec as actually used by a producer or consumer (mediasoup `RtpCodecParameters`).
public struct RtpCodecParameters: Codable, Sendable, Hashable {
    /// `audio/opus`, `video/rtx`, … (compared case-insensitively).
    public var mimeType: String
    /// The RTP payload type used on the wire.
    public var payloadType: Int
    /// RTP clock rate in Hz.
    public var clockRate: Int
    /// Channel count (audio only; validation defaults it to 1 for audio and removes it for video).
    public var channels: Int?
    /// Codec-specific parameters (fmtp).
    public var parameters: CodecParameters?
    /// RTCP feedback in use.
    public var rtcpFeedback: [RtcpFeedback]?

    public init(
        mimeType: String,
        payloadType: Int,
        clockRate: Int,
        channels: Int? = nil,
        parameters: CodecParameters? = nil,
        rtcpFeedback: [RtcpFeedback]? = nil
    ) {
        self.mimeType = mimeType
        self.payloadType = payloadType
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
    }
}
