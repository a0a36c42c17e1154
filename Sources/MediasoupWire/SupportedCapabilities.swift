/// What msab's SFU can do (the audio part of mediasoup's supportedRtpCapabilities.ts) and the
/// router capabilities built from a router's media codecs (mediasoup's
/// `ortc.generateRouterRtpCapabilities`).
public enum SupportedCapabilities {
    public static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
    public static let absSendTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let transportWideCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    public static let audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

    /// Opus is the codec of audio rooms; its RTCP feedback as mediasoup advertises it.
    public static let opus = RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2,
                                                parameters: [:], rtcpFeedback: [RtcpFeedback(type: "nack", parameter: ""),
                                                                                RtcpFeedback(type: "transport-cc", parameter: "")])

    /// mediasoup's header extensions, in its order (video ones included as mediasoup lists them).
    public static let headerExtensions: [RtpHeaderExtension] = [
        RtpHeaderExtension(kind: .audio, uri: midURI, preferredId: 1),
        RtpHeaderExtension(kind: .video, uri: midURI, preferredId: 1),
        RtpHeaderExtension(kind: .audio, uri: absSendTimeURI, preferredId: 4),
        RtpHeaderExtension(kind: .video, uri: absSendTimeURI, preferredId: 4),
        // mediasoup: "For audio we just enable transport-wide-cc-01 when receiving media."
        RtpHeaderExtension(kind: .audio, uri: transportWideCCURI, preferredId: 5, direction: .recvonly),
        RtpHeaderExtension(kind: .video, uri: transportWideCCURI, preferredId: 5),
        RtpHeaderExtension(kind: .audio, uri: audioLevelURI, preferredId: 10),
    ]

    /// mediasoup's dynamic payload type pool, in its order.
    public static let dynamicPayloadTypes: [Int] = Array(100...127) + Array(96...99)

    public struct UnsupportedCodec: Error, Sendable, Hashable, CustomStringConvertible {
        public var mimeType: String
        public var description: String { "media codec not supported [mimeType:\(mimeType)]" }
    }

    /// `generateRouterRtpCapabilities`: each media codec matched against the supported ones,
    /// given a payload type (its own, or the next dynamic one), parameters merged.
    public static func routerCapabilities(mediaCodecs: [RtpCodecCapability]) throws -> RtpCapabilities {
        var pool = dynamicPayloadTypes
        var codecs: [RtpCodecCapability] = []
        for mediaCodec in mediaCodecs {
            guard mediaCodec.kind == .audio, mediaCodec.mimeType.lowercased() == opus.mimeType,
                  mediaCodec.clockRate == opus.clockRate, (mediaCodec.channels ?? 1) == 2 else {
                throw UnsupportedCodec(mimeType: mediaCodec.mimeType)
            }
            var codec = opus
            if let preferred = mediaCodec.preferredPayloadType {
                codec.preferredPayloadType = preferred
                pool.removeAll { $0 == preferred }
            } else {
                codec.preferredPayloadType = pool.removeFirst()
            }
            var parameters = codec.parameters ?? [:]
            for (key, value) in mediaCodec.parameters ?? [:] { parameters[key] = value }
            codec.parameters = parameters
            codecs.append(codec)
        }
        return RtpCapabilities(codecs: codecs, headerExtensions: headerExtensions)
    }
}
