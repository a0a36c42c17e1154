/// The fields a codec capability (``RtpCodecCapability``) and a codec's parameters
/// (``RtpCodecParameters``) have in common, so that ORTC validates them once.
protocol RtpCodecFields {
    var clockRate: Int { get }
    var channels: Int? { get set }
    var parameters: CodecParameters? { get set }
    var rtcpFeedback: [RtcpFeedback]? { get set }
}

extension RtpCodecCapability: RtpCodecFields {}
extension RtpCodecParameters: RtpCodecFields {}
