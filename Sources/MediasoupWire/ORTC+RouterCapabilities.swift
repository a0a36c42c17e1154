extension ORTC {
    /// MSAB's router media codecs (contract §5.2): Opus 48 kHz stereo with in-band FEC.
    public static let msabMediaCodecs: [RtpCodecCapability] = [
        RtpCodecCapability(
            kind: .audio,
            mimeType: "audio/opus",
            clockRate: 48000,
            channels: 2,
            parameters: ["useinbandfec": 1, "usedtx": 0, "minptime": 10, "sprop-stereo": 1]
        )
    ]

    /// Builds a router's RTP capabilities from its media codecs (mediasoup
    /// `generateRouterRtpCapabilities`).
    ///
    /// Each media codec must match a codec of `supported` (MIME type, clock rate, channels). The
    /// result takes the supported codec (with its RTCP feedback), keeps the media codec's
    /// `preferredPayloadType` if it has one, else the supported codec's static one (PCMU 0,
    /// G722 9, …), else the next free dynamic payload type in mediasoup's order (100…127, 96…99).
    /// The parameters are the supported codec's overlaid with the media codec's. A video codec
    /// gets an RTX codec (`apt` = its payload type) right after it. The header extensions are all
    /// of `supported`'s.
    ///
    /// - Throws: ``ORTCError/ErrorType/unsupported`` for a codec not in `supported`,
    ///   ``ORTCError/ErrorType/invalidParameters`` for an invalid or duplicated codec,
    ///   ``ORTCError/ErrorType/payloadTypesExhausted`` when dynamic payload types run out.
    public static func generateRouterRtpCapabilities(
        mediaCodecs: [RtpCodecCapability],
        supported: RtpCapabilities = supportedAudioRtpCapabilities
    ) throws(ORTCError) -> RtpCapabilities {
        let supported = try validateRtpCapabilities(supported)
        var dynamicPayloadTypes = dynamicPayloadTypes[...]
        var codecs: [RtpCodecCapability] = []

        for (index, mediaCodec) in mediaCodecs.enumerated() {
            let mediaCodec = try validateRtpCodecCapability(mediaCodec, path: "mediaCodecs[\(index)]")
            guard var codec = supported.codecs?.first(where: { matchCodecs(mediaCodec, $0, strict: false) }) else {
                throw .unsupported(
                    "media codec not supported [mimeType:\(mediaCodec.mimeType), clockRate:\(mediaCodec.clockRate)"
                        + ", channels:\(mediaCodec.channels.map(String.init) ?? "-")]"
                )
            }
            if let preferred = mediaCodec.preferredPayloadType {
                codec.preferredPayloadType = preferred
                dynamicPayloadTypes.removeAll { $0 == preferred }
            } else if codec.preferredPayloadType == nil {
                guard let pt = dynamicPayloadTypes.popFirst() else { throw .payloadTypesExhausted() }
                codec.preferredPayloadType = pt
            }
            if codecs.contains(where: { $0.preferredPayloadType == codec.preferredPayloadType }) {
                throw .invalid("duplicated codec.preferredPayloadType \(codec.preferredPayloadType ?? -1)")
            }
            codec.parameters = (codec.parameters ?? [:]).merging(mediaCodec.parameters ?? [:]) { _, new in new }
            codecs.append(codec)

            if codec.kind == .video {
                guard let pt = dynamicPayloadTypes.popFirst() else { throw .payloadTypesExhausted() }
                codecs.append(
                    RtpCodecCapability(
                        kind: .video,
                        mimeType: "video/rtx",
                        preferredPayloadType: pt,
                        clockRate: codec.clockRate,
                        parameters: ["apt": .integer(codec.preferredPayloadType ?? 0)],
                        rtcpFeedback: []
                    )
                )
            }
        }
        return RtpCapabilities(codecs: codecs, headerExtensions: supported.headerExtensions ?? [])
    }

    /// The audio part of mediasoup's `supportedRtpCapabilities` (`node/src/supportedRtpCapabilities.ts`).
    ///
    /// Codecs: all of mediasoup's audio codecs (Opus and multiopus with NACK + transport-cc, the
    /// static-PT and other narrowband codecs with transport-cc, CN, telephone-event).
    /// Header extensions: the four audio extensions the SFU implements, with mediasoup's ids:
    /// MID (1), abs-send-time (4), transport-wide-cc-01 (5, `recvonly`: "for audio we just
    /// enable transport-wide-cc-01 when receiving media") and audio level (10, RFC 6464).
    /// mediasoup 3.14 also lists abs-capture-time (13) and playout-delay (14) for audio; they
    /// are left out because the SFU does not implement them.
    public static let supportedAudioRtpCapabilities = RtpCapabilities(
        codecs: [
            opus("audio/opus", channels: 2),
            opus("audio/multiopus", channels: 4, ["channel_mapping": "0,1,2,3", "num_streams": 2, "coupled_streams": 2]),
            opus("audio/multiopus", channels: 6, ["channel_mapping": "0,4,1,2,3,5", "num_streams": 4, "coupled_streams": 2]),
            opus("audio/multiopus", channels: 8, ["channel_mapping": "0,6,1,2,3,4,5,7", "num_streams": 5, "coupled_streams": 3]),
            narrowband("audio/PCMU", 8000, pt: 0),
            narrowband("audio/PCMA", 8000, pt: 8),
            narrowband("audio/ISAC", 32000),
            narrowband("audio/ISAC", 16000),
            narrowband("audio/G722", 8000, pt: 9),
            narrowband("audio/iLBC", 8000),
            narrowband("audio/SILK", 24000),
            narrowband("audio/SILK", 16000),
            narrowband("audio/SILK", 12000),
            narrowband("audio/SILK", 8000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/CN", preferredPayloadType: 13, clockRate: 32000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/CN", preferredPayloadType: 13, clockRate: 16000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/CN", preferredPayloadType: 13, clockRate: 8000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/telephone-event", clockRate: 48000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/telephone-event", clockRate: 32000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/telephone-event", clockRate: 16000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/telephone-event", clockRate: 8000),
        ],
        headerExtensions: [
            RtpHeaderExtension(kind: .audio, uri: midURI, preferredId: 1, preferredEncrypt: false, direction: .sendrecv),
            RtpHeaderExtension(kind: .audio, uri: absSendTimeURI, preferredId: 4, preferredEncrypt: false, direction: .sendrecv),
            RtpHeaderExtension(kind: .audio, uri: transportWideCCURI, preferredId: 5, preferredEncrypt: false, direction: .recvonly),
            RtpHeaderExtension(kind: .audio, uri: audioLevelURI, preferredId: 10, preferredEncrypt: false, direction: .sendrecv),
        ]
    )

    private static func opus(_ mimeType: String, channels: Int, _ parameters: CodecParameters? = nil) -> RtpCodecCapability {
        RtpCodecCapability(
            kind: .audio,
            mimeType: mimeType,
            clockRate: 48000,
            channels: channels,
            parameters: parameters,
            rtcpFeedback: [RtcpFeedback(type: "nack"), RtcpFeedback(type: "transport-cc")]
        )
    }

    private static func narrowband(_ mimeType: String, _ clockRate: Int, pt: Int? = nil) -> RtpCodecCapability {
        RtpCodecCapability(
            kind: .audio,
            mimeType: mimeType,
            preferredPayloadType: pt,
            clockRate: clockRate,
            rtcpFeedback: [RtcpFeedback(type: "transport-cc")]
        )
    }
}
