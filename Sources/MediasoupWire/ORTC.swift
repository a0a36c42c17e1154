/// Pure capability-negotiation functions: the behaviour of mediasoup's `node/src/ortc.ts`
/// (v3.14, a82dba8), rewritten in Swift.
///
/// The flow, as mediasoup's `Router`/`Transport` drive it:
/// 1. ``generateRouterRtpCapabilities(mediaCodecs:supported:)`` once per router: what
///    `room:join` returns as `rtpCapabilities`.
/// 2. On `audio:produce`: ``validateRtpParameters(_:)``, then
///    ``getProducerRtpParametersMapping(_:routerRtpCapabilities:firstMappedSsrc:)`` and
///    ``getConsumableRtpParameters(kind:_:routerRtpCapabilities:rtpMapping:)``.
/// 3. On `audio:consume`: ``canConsume(_:rtpCapabilities:)``, then
///    ``getConsumerRtpParameters(consumableRtpParameters:remoteRtpCapabilities:ssrc:enableRtx:cname:mid:)``.
///
/// Unlike the JavaScript, nothing is mutated in place: validation returns the normalized copy,
/// and random values (mapped SSRCs, consumer SSRC) are passed in so results are reproducible.
public enum ORTC {
    /// Dynamic payload types in mediasoup's allocation order: 100…127, then 96…99.
    static let dynamicPayloadTypes: [Int] = Array(100...127) + Array(96...99)

    static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
    static let absSendTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    static let transportWideCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    static let audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
}

// MARK: - Codec helpers shared by capabilities and parameters

/// The fields `matchCodecs` looks at, common to ``RtpCodecCapability`` and ``RtpCodecParameters``.
protocol CodecDescription {
    var mimeType: String { get }
    var clockRate: Int { get }
    var channels: Int? { get }
    var parameters: CodecParameters? { get }
}

extension RtpCodecCapability: CodecDescription {}
extension RtpCodecParameters: CodecDescription {}

extension CodecDescription {
    /// `video/rtx`, `audio/rtx` (mediasoup `isRtxCodec`: `/.+\/rtx$/i`).
    var isRtx: Bool {
        let lower = mimeType.lowercased()
        return lower.hasSuffix("/rtx") && lower.count > 4
    }

    /// The `apt` parameter of an RTX codec (RFC 4588 §8.6).
    var apt: Int? { parameters?["apt"]?.integerValue }
}

extension ORTC {
    /// The media kind named by a MIME type (`^(audio|video)/(.+)$`, case-insensitive), or nil.
    static func kind(ofMimeType mimeType: String) -> MediaKind? {
        guard let slash = mimeType.firstIndex(of: "/") else { return nil }
        let subtype = mimeType[mimeType.index(after: slash)...]
        guard !subtype.isEmpty else { return nil }
        return MediaKind(rawValue: mimeType[..<slash].lowercased())
    }

    /// Whether two codecs are the same codec (mediasoup `matchCodecs`).
    ///
    /// Compares MIME type (case-insensitively), clock rate and channels, then codec-specific
    /// parameters: multiopus stream counts always; H.264 packetization-mode and VP9 profile-id
    /// when `strict`. (H.264 profile-level-id compatibility, which mediasoup checks with the
    /// `h264-profile-level-id` package, is not ported: the SFU is audio-only.)
    static func matchCodecs(_ a: some CodecDescription, _ b: some CodecDescription, strict: Bool) -> Bool {
        let aMimeType = a.mimeType.lowercased()
        guard aMimeType == b.mimeType.lowercased(), a.clockRate == b.clockRate, a.channels == b.channels else {
            return false
        }
        let aParameters = a.parameters ?? [:]
        let bParameters = b.parameters ?? [:]
        switch aMimeType {
        case "audio/multiopus":
            return aParameters["num_streams"] == bParameters["num_streams"]
                && aParameters["coupled_streams"] == bParameters["coupled_streams"]
        case "video/h264", "video/h264-svc":
            guard strict else { return true }
            return (aParameters["packetization-mode"]?.integerValue ?? 0) == (bParameters["packetization-mode"]?.integerValue ?? 0)
        case "video/vp9":
            guard strict else { return true }
            return (aParameters["profile-id"]?.integerValue ?? 0) == (bParameters["profile-id"]?.integerValue ?? 0)
        default:
            return true
        }
    }
}
