// Validation of capabilities and parameters, as `validateRtp*` in mediasoup's `node/src/ortc.ts`.
//
// Codable already rejects what JavaScript's `typeof` checks reject (a string where a number is
// due, a missing mandatory key), so these functions check the rest and fill defaults exactly as
// mediasoup does. A few checks are stricter than mediasoup's node layer because the values end up
// in 7-bit / 8-bit wire fields (the mediasoup worker rejects them later); each is marked.

extension ORTC {
    /// Validates router or endpoint capabilities and returns them with mediasoup's defaults filled
    /// in: `codecs` and `headerExtensions` default to `[]`, each codec as in
    /// ``validateRtpCodecCapability(_:)``, each extension as in ``validateRtpHeaderExtension(_:)``.
    public static func validateRtpCapabilities(_ caps: RtpCapabilities) throws(ORTCError) -> RtpCapabilities {
        var caps = caps
        var codecs: [RtpCodecCapability] = []
        for (index, codec) in (caps.codecs ?? []).enumerated() {
            codecs.append(try validateRtpCodecCapability(codec, path: "caps.codecs[\(index)]"))
        }
        caps.codecs = codecs
        var extensions: [RtpHeaderExtension] = []
        for (index, ext) in (caps.headerExtensions ?? []).enumerated() {
            extensions.append(try validateRtpHeaderExtension(ext, path: "caps.headerExtensions[\(index)]"))
        }
        caps.headerExtensions = extensions
        return caps
    }

    /// Validates a codec capability: `kind` is overridden by the MIME type's media component,
    /// `channels` defaults to 1 for audio and is removed for video, `parameters` defaults to `{}`,
    /// `rtcpFeedback` to `[]` and each feedback's `parameter` to `""`.
    public static func validateRtpCodecCapability(_ codec: RtpCodecCapability) throws(ORTCError) -> RtpCodecCapability {
        try validateRtpCodecCapability(codec, path: "codec")
    }

    /// Validates producer parameters: `headerExtensions` and `encodings` default to `[]`, `rtcp`
    /// to `{reducedSize: true}`; each codec, extension, encoding is validated as mediasoup does.
    public static func validateRtpParameters(_ params: RtpParameters) throws(ORTCError) -> RtpParameters {
        var params = params
        var codecs: [RtpCodecParameters] = []
        for (index, codec) in params.codecs.enumerated() {
            codecs.append(try validateRtpCodecParameters(codec, path: "params.codecs[\(index)]"))
        }
        params.codecs = codecs
        var extensions: [RtpHeaderExtensionParameters] = []
        for (index, ext) in (params.headerExtensions ?? []).enumerated() {
            extensions.append(try validateRtpHeaderExtensionParameters(ext, path: "params.headerExtensions[\(index)]"))
        }
        params.headerExtensions = extensions
        var encodings: [RtpEncodingParameters] = []
        for encoding in params.encodings ?? [] {
            encodings.append(validateRtpEncodingParameters(encoding))
        }
        params.encodings = encodings
        params.rtcp = validateRtcpParameters(params.rtcp ?? RtcpParameters())
        return params
    }

    /// Validates a header extension capability: `preferredEncrypt` defaults to `false`,
    /// `direction` to `sendrecv`.
    public static func validateRtpHeaderExtension(_ ext: RtpHeaderExtension) throws(ORTCError) -> RtpHeaderExtension {
        try validateRtpHeaderExtension(ext, path: "ext")
    }

    // MARK: - Pieces

    static func validateRtpCodecCapability(_ codec: RtpCodecCapability, path: String) throws(ORTCError) -> RtpCodecCapability {
        var codec = codec
        let kind = try validateMimeType(codec.mimeType, path: path)
        // mediasoup: "Just override kind with media component of mimeType."
        codec.kind = kind
        if let pt = codec.preferredPayloadType, !(0...127).contains(pt) {
            // Stricter than ortc.ts: an RTP payload type is 7 bits (RFC 3550 §5.1).
            throw .invalid("invalid \(path).preferredPayloadType \(pt) (must be 0…127)")
        }
        try validateCodecFields(&codec, kind: kind, path: path)
        return codec
    }

    static func validateRtpCodecParameters(_ codec: RtpCodecParameters, path: String) throws(ORTCError) -> RtpCodecParameters {
        var codec = codec
        let kind = try validateMimeType(codec.mimeType, path: path)
        guard (0...127).contains(codec.payloadType) else {
            // Stricter than ortc.ts: an RTP payload type is 7 bits (RFC 3550 §5.1).
            throw .invalid("invalid \(path).payloadType \(codec.payloadType) (must be 0…127)")
        }
        try validateCodecFields(&codec, kind: kind, path: path)
        return codec
    }

    static func validateRtpHeaderExtension(_ ext: RtpHeaderExtension, path: String) throws(ORTCError) -> RtpHeaderExtension {
        var ext = ext
        guard !ext.uri.isEmpty else { throw .invalid("missing \(path).uri") }
        try validateExtensionId(ext.preferredId, field: "\(path).preferredId")
        if ext.preferredEncrypt != true { ext.preferredEncrypt = false }
        if ext.direction == nil { ext.direction = .sendrecv }
        return ext
    }

    static func validateRtpHeaderExtensionParameters(
        _ ext: RtpHeaderExtensionParameters,
        path: String
    ) throws(ORTCError) -> RtpHeaderExtensionParameters {
        var ext = ext
        guard !ext.uri.isEmpty else { throw .invalid("missing \(path).uri") }
        try validateExtensionId(ext.id, field: "\(path).id")
        if ext.encrypt != true { ext.encrypt = false }
        let parameters = ext.parameters ?? [:]
        for (key, value) in parameters where !value.isNumber && !isString(value) {
            throw .invalid("invalid header extension parameter \(path).parameters.\(key) (must be a string or number)")
        }
        ext.parameters = parameters
        return ext
    }

    static func validateRtpEncodingParameters(_ encoding: RtpEncodingParameters) -> RtpEncodingParameters {
        var encoding = encoding
        // Codable already enforced the types (ssrc: UInt32, rid: String, rtx.ssrc present).
        if encoding.dtx != true { encoding.dtx = false }
        return encoding
    }

    static func validateRtcpParameters(_ rtcp: RtcpParameters) -> RtcpParameters {
        var rtcp = rtcp
        // mediasoup: `if (!rtcp.reducedSize || …) rtcp.reducedSize = true`, so even an explicit
        // `false` becomes `true`: the SFU always sends reduced-size RTCP (RFC 5506).
        rtcp.reducedSize = true
        return rtcp
    }

    // MARK: - Fields

    /// A codec's `mimeType` is present and audio/… or video/…; its kind.
    private static func validateMimeType(_ mimeType: String, path: String) throws(ORTCError) -> MediaKind {
        guard !mimeType.isEmpty else { throw .invalid("missing \(path).mimeType") }
        guard let kind = kind(ofMimeType: mimeType) else {
            throw .invalid("invalid \(path).mimeType '\(mimeType)' (expected audio/… or video/…)")
        }
        return kind
    }

    /// The checks a codec capability and a codec's parameters share (ortc.ts validates the two
    /// alike after their payload type): clock rate, channels, parameters, RTCP feedback.
    private static func validateCodecFields<Codec: RtpCodecFields>(_ codec: inout Codec, kind: MediaKind, path: String) throws(ORTCError) {
        try validateClockRate(codec.clockRate, path: path)
        codec.channels = try normalizedChannels(codec.channels, kind: kind, path: path)
        codec.parameters = try validateCodecParameters(codec.parameters ?? [:], path: path)
        codec.rtcpFeedback = try validateRtcpFeedback(codec.rtcpFeedback ?? [], path: path)
    }

    private static func validateClockRate(_ clockRate: Int, path: String) throws(ORTCError) {
        // Stricter than ortc.ts, which only checks that clockRate is a number.
        guard clockRate > 0 else { throw .invalid("invalid \(path).clockRate \(clockRate) (must be positive)") }
    }

    private static func normalizedChannels(_ channels: Int?, kind: MediaKind, path: String) throws(ORTCError) -> Int? {
        switch kind {
        case .audio:
            guard let channels else { return 1 }
            guard channels > 0 else { throw .invalid("invalid \(path).channels \(channels) (must be positive)") }
            return channels
        case .video:
            return nil
        }
    }

    private static func validateExtensionId(_ id: Int, field: String) throws(ORTCError) {
        // Stricter than ortc.ts: RFC 8285 §4.2/§4.3 ids are 1…14 (one-byte) or 1…255 (two-byte).
        guard (1...255).contains(id) else { throw .invalid("invalid \(field) \(id) (must be 1…255)") }
    }

    private static func isString(_ value: CodecParameterValue) -> Bool {
        if case .string = value { return true }
        return false
    }

    private static func validateCodecParameters(_ parameters: CodecParameters, path: String) throws(ORTCError) -> CodecParameters {
        for (key, value) in parameters {
            // mediasoup accepts only strings and numbers (`typeof value !== 'string' && …`).
            guard value.isNumber || isString(value) else {
                throw .invalid("invalid codec parameter \(path).parameters.\(key) (must be a string or number)")
            }
            if key == "apt", !value.isNumber {
                throw .invalid("invalid codec apt parameter \(path).parameters.apt (must be a number)")
            }
        }
        return parameters
    }

    private static func validateRtcpFeedback(_ feedback: [RtcpFeedback], path: String) throws(ORTCError) -> [RtcpFeedback] {
        var result: [RtcpFeedback] = []
        result.reserveCapacity(feedback.count)
        for (index, fb) in feedback.enumerated() {
            guard !fb.type.isEmpty else { throw .invalid("missing \(path).rtcpFeedback[\(index)].type") }
            result.append(RtcpFeedback(type: fb.type, parameter: fb.parameter ?? ""))
        }
        return result
    }
}
