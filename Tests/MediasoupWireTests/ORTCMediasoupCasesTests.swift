import Foundation
import Testing

@testable import MediasoupWire

/// Cases from mediasoup's `node/src/test/test-ortc.ts`, restated as our own tables.
///
/// The video cases run against a small video+audio "supported" table of our own, since the
/// default supported capabilities are audio-only.
@Suite("ORTC: mediasoup test-ortc cases")
struct ORTCMediasoupCasesTests {
    static let nackAndCC = [RtcpFeedback(type: "nack"), RtcpFeedback(type: "transport-cc")]
    static let videoFeedback = [
        RtcpFeedback(type: "nack"), RtcpFeedback(type: "nack", parameter: "pli"), RtcpFeedback(type: "ccm", parameter: "fir"),
        RtcpFeedback(type: "goog-remb"), RtcpFeedback(type: "transport-cc"),
    ]
    static let filledVideoFeedback = videoFeedback.map { RtcpFeedback(type: $0.type, parameter: $0.parameter ?? "") }

    /// mediasoup's supported codecs used by test-ortc.ts: audio ones plus VP8 and H264.
    static let supportedWithVideo = RtpCapabilities(
        codecs: ORTC.supportedAudioRtpCapabilities.codecs! + [
            RtpCodecCapability(kind: .video, mimeType: "video/VP8", clockRate: 90000, rtcpFeedback: videoFeedback),
            RtpCodecCapability(
                kind: .video,
                mimeType: "video/H264",
                clockRate: 90000,
                parameters: ["level-asymmetry-allowed": 1],
                rtcpFeedback: videoFeedback
            ),
        ],
        headerExtensions: ORTC.supportedAudioRtpCapabilities.headerExtensions! + [
            RtpHeaderExtension(kind: .video, uri: "urn:ietf:params:rtp-hdrext:sdes:mid", preferredId: 1, direction: .sendrecv),
            RtpHeaderExtension(kind: .video, uri: "urn:3gpp:video-orientation", preferredId: 11, direction: .sendrecv),
            RtpHeaderExtension(kind: .video, uri: "urn:ietf:params:rtp-hdrext:toffset", preferredId: 12, direction: .sendrecv),
        ]
    )

    @Test func generateRouterRtpCapabilitiesSucceeds() throws {
        let caps = try ORTC.generateRouterRtpCapabilities(
            mediaCodecs: [
                RtpCodecCapability(
                    kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2, parameters: ["useinbandfec": 1, "foo": "bar"]),
                RtpCodecCapability(kind: .video, mimeType: "video/VP8", preferredPayloadType: 125, clockRate: 90000),
                RtpCodecCapability(
                    kind: .video,
                    mimeType: "video/H264",
                    clockRate: 90000,
                    parameters: ["level-asymmetry-allowed": 1, "profile-level-id": "42e01f", "foo": "bar"],
                    rtcpFeedback: []  // Ignored: the supported codec's feedback wins.
                ),
            ],
            supported: Self.supportedWithVideo
        )
        let codecs = try #require(caps.codecs)
        #expect(
            codecs == [
                RtpCodecCapability(
                    kind: .audio,
                    mimeType: "audio/opus",
                    preferredPayloadType: 100,  // First dynamic PT.
                    clockRate: 48000,
                    channels: 2,
                    parameters: ["useinbandfec": 1, "foo": "bar"],
                    rtcpFeedback: Self.nackAndCC.map { RtcpFeedback(type: $0.type, parameter: "") }
                ),
                RtpCodecCapability(
                    kind: .video,
                    mimeType: "video/VP8",
                    preferredPayloadType: 125,
                    clockRate: 90000,
                    parameters: [:],
                    rtcpFeedback: Self.filledVideoFeedback
                ),
                RtpCodecCapability(
                    kind: .video,
                    mimeType: "video/rtx",
                    preferredPayloadType: 101,
                    clockRate: 90000,
                    parameters: ["apt": 125],
                    rtcpFeedback: []
                ),
                RtpCodecCapability(
                    kind: .video,
                    mimeType: "video/H264",
                    preferredPayloadType: 102,
                    clockRate: 90000,
                    parameters: ["level-asymmetry-allowed": 1, "profile-level-id": "42e01f", "foo": "bar"],
                    rtcpFeedback: Self.filledVideoFeedback
                ),
                RtpCodecCapability(
                    kind: .video,
                    mimeType: "video/rtx",
                    preferredPayloadType: 103,
                    clockRate: 90000,
                    parameters: ["apt": 102],
                    rtcpFeedback: []
                ),
            ]
        )
    }

    static let unsupportedMediaCodecs: [RtpCodecCapability] = [
        RtpCodecCapability(kind: .audio, mimeType: "audio/chicken", clockRate: 8000, channels: 4),
        RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 1),
        RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 44100, channels: 2),
        RtpCodecCapability(kind: .video, mimeType: "video/VP8", clockRate: 90000),  // No video by default.
    ]

    @Test(arguments: unsupportedMediaCodecs)
    func unsupportedCodecsThrowUnsupported(codec: RtpCodecCapability) {
        #expect {
            try ORTC.generateRouterRtpCapabilities(mediaCodecs: [codec])
        } throws: { error in
            let error = try #require(error as? ORTCError)
            return error.type == .unsupported && error.message.contains("media codec not supported")
        }
    }

    @Test func tooManyCodecsThrow() {
        let codecs = Array(repeating: RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2), count: 100)
        #expect {
            try ORTC.generateRouterRtpCapabilities(mediaCodecs: codecs)
        } throws: { error in
            (error as? ORTCError)?.type == .payloadTypesExhausted
        }
    }

    @Test func duplicatedPreferredPayloadTypeThrows() {
        let codecs = [
            RtpCodecCapability(kind: .audio, mimeType: "audio/opus", preferredPayloadType: 111, clockRate: 48000, channels: 2),
            RtpCodecCapability(kind: .audio, mimeType: "audio/ISAC", preferredPayloadType: 111, clockRate: 16000),
        ]
        #expect {
            try ORTC.generateRouterRtpCapabilities(mediaCodecs: codecs)
        } throws: { error in
            (error as? ORTCError)?.message.contains("duplicated") == true
        }
    }

    @Test func dynamicPayloadTypesSkipTakenOnesAndWrapTo96() throws {
        // A forced PT 100 is removed from the pool; static-PT codecs keep theirs (PCMU 0).
        let caps = try ORTC.generateRouterRtpCapabilities(mediaCodecs: [
            RtpCodecCapability(kind: .audio, mimeType: "audio/ISAC", preferredPayloadType: 100, clockRate: 16000),
            RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2),
            RtpCodecCapability(kind: .audio, mimeType: "audio/PCMU", clockRate: 8000),
        ])
        #expect(caps.codecs?.map(\.preferredPayloadType) == [100, 101, 0])

        let many = (0..<28).map { _ in RtpCodecCapability(kind: .audio, mimeType: "audio/telephone-event", clockRate: 8000) }
        // 28 codecs use 100…127; they are identical codecs, which mediasoup allows. The next is 96.
        let wrapped = try ORTC.generateRouterRtpCapabilities(
            mediaCodecs: many + [RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2)]
        )
        #expect(wrapped.codecs?.last?.preferredPayloadType == 96)
    }

    @Test func producerMappingConsumableAndConsumerWithRtxAndSimulcast() throws {
        let router = try ORTC.generateRouterRtpCapabilities(
            mediaCodecs: [
                RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2),
                RtpCodecCapability(
                    kind: .video,
                    mimeType: "video/H264",
                    clockRate: 90000,
                    parameters: ["level-asymmetry-allowed": 1, "packetization-mode": 1, "profile-level-id": "4d0032", "bar": "lalala"]
                ),
            ],
            supported: Self.supportedWithVideo
        )
        let params = try ORTC.validateRtpParameters(
            RtpParameters(
                codecs: [
                    RtpCodecParameters(
                        mimeType: "video/H264",
                        payloadType: 111,
                        clockRate: 90000,
                        parameters: ["foo": 1234, "packetization-mode": 1, "profile-level-id": "4d0032"],
                        rtcpFeedback: [
                            .init(type: "nack", parameter: ""), .init(type: "nack", parameter: "pli"), .init(type: "goog-remb", parameter: ""),
                        ]
                    ),
                    RtpCodecParameters(mimeType: "video/rtx", payloadType: 112, clockRate: 90000, parameters: ["apt": 111], rtcpFeedback: []),
                ],
                headerExtensions: [
                    .init(uri: "urn:ietf:params:rtp-hdrext:sdes:mid", id: 1),
                    .init(uri: "urn:3gpp:video-orientation", id: 2),
                ],
                encodings: [
                    .init(ssrc: 11_111_111, rtx: .init(ssrc: 11_111_112), scalabilityMode: "L1T3", maxBitrate: 111_111),
                    .init(ssrc: 21_111_111, rtx: .init(ssrc: 21_111_112), scalabilityMode: "L1T3", maxBitrate: 222_222),
                    .init(rid: "high", scalabilityMode: "L1T3", maxBitrate: 333_333),
                ],
                rtcp: .init(cname: "qwerty1234")
            )
        )

        let mapping = try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1000)
        #expect(mapping.codecs == [.init(payloadType: 111, mappedPayloadType: 101), .init(payloadType: 112, mappedPayloadType: 102)])
        #expect(
            mapping.encodings == [
                .init(ssrc: 11_111_111, scalabilityMode: "L1T3", mappedSsrc: 1000),
                .init(ssrc: 21_111_111, scalabilityMode: "L1T3", mappedSsrc: 1001),
                .init(rid: "high", scalabilityMode: "L1T3", mappedSsrc: 1002),
            ]
        )

        let consumable = try ORTC.getConsumableRtpParameters(kind: .video, params, routerRtpCapabilities: router, rtpMapping: mapping)
        #expect(consumable.codecs.map(\.mimeType) == ["video/H264", "video/rtx"])
        #expect(consumable.codecs.map(\.payloadType) == [101, 102])
        #expect(consumable.codecs[0].parameters == ["foo": 1234, "packetization-mode": 1, "profile-level-id": "4d0032"])
        #expect(consumable.codecs[1].parameters == ["apt": 101])
        #expect(
            consumable.encodings == [
                .init(ssrc: 1000, dtx: false, scalabilityMode: "L1T3", maxBitrate: 111_111),
                .init(ssrc: 1001, dtx: false, scalabilityMode: "L1T3", maxBitrate: 222_222),
                .init(ssrc: 1002, dtx: false, scalabilityMode: "L1T3", maxBitrate: 333_333),
            ]
        )
        #expect(consumable.rtcp == RtcpParameters(cname: "qwerty1234", reducedSize: true))

        let remote = RtpCapabilities(
            codecs: [
                .init(
                    kind: .audio, mimeType: "audio/opus", preferredPayloadType: 100, clockRate: 48000, channels: 2, parameters: [:], rtcpFeedback: []),
                .init(
                    kind: .video,
                    mimeType: "video/H264",
                    preferredPayloadType: 101,
                    clockRate: 90000,
                    parameters: ["packetization-mode": 1, "profile-level-id": "4d0032", "baz": "LOLOLO"],
                    rtcpFeedback: [.init(type: "nack", parameter: ""), .init(type: "nack", parameter: "pli"), .init(type: "foo", parameter: "FOO")]
                ),
                .init(kind: .video, mimeType: "video/rtx", preferredPayloadType: 102, clockRate: 90000, parameters: ["apt": 101], rtcpFeedback: []),
            ],
            headerExtensions: [
                .init(kind: .audio, uri: "urn:ietf:params:rtp-hdrext:sdes:mid", preferredId: 1, preferredEncrypt: false, direction: .sendrecv),
                .init(kind: .video, uri: "urn:ietf:params:rtp-hdrext:sdes:mid", preferredId: 1, preferredEncrypt: false, direction: .sendrecv),
                .init(
                    kind: .video, uri: "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", preferredId: 2, preferredEncrypt: false, direction: .sendrecv),
                .init(
                    kind: .audio, uri: "urn:ietf:params:rtp-hdrext:ssrc-audio-level", preferredId: 8, preferredEncrypt: false, direction: .sendrecv),
                .init(kind: .video, uri: "urn:3gpp:video-orientation", preferredId: 11, preferredEncrypt: false, direction: .sendrecv),
                .init(kind: .video, uri: "urn:ietf:params:rtp-hdrext:toffset", preferredId: 12, preferredEncrypt: false, direction: .sendrecv),
            ]
        )

        let consumer = try ORTC.getConsumerRtpParameters(
            consumableRtpParameters: consumable, remoteRtpCapabilities: remote, ssrc: 7000, enableRtx: true)
        #expect(
            consumer.codecs == [
                RtpCodecParameters(
                    mimeType: "video/H264",
                    payloadType: 101,
                    clockRate: 90000,
                    parameters: ["foo": 1234, "packetization-mode": 1, "profile-level-id": "4d0032"],
                    rtcpFeedback: [.init(type: "nack", parameter: ""), .init(type: "nack", parameter: "pli"), .init(type: "foo", parameter: "FOO")]
                ),
                RtpCodecParameters(mimeType: "video/rtx", payloadType: 102, clockRate: 90000, parameters: ["apt": 101], rtcpFeedback: []),
            ]
        )
        #expect(consumer.encodings == [.init(ssrc: 7000, rtx: .init(ssrc: 7001), scalabilityMode: "L3T3", maxBitrate: 333_333)])
        #expect(
            consumer.headerExtensions == [
                .init(uri: "urn:ietf:params:rtp-hdrext:sdes:mid", id: 1, encrypt: false, parameters: [:]),
                .init(uri: "urn:3gpp:video-orientation", id: 11, encrypt: false, parameters: [:]),
                .init(uri: "urn:ietf:params:rtp-hdrext:toffset", id: 12, encrypt: false, parameters: [:]),
            ]
        )
        #expect(consumer.rtcp == RtcpParameters(cname: "qwerty1234", reducedSize: true))

        // Without RTX: the RTX codec, the rtx SSRC and plain NACK go away; NACK PLI stays.
        let noRtx = try ORTC.getConsumerRtpParameters(consumableRtpParameters: consumable, remoteRtpCapabilities: remote, ssrc: 7000)
        #expect(noRtx.codecs.map(\.mimeType) == ["video/H264"])
        #expect(noRtx.codecs[0].rtcpFeedback == [.init(type: "nack", parameter: "pli"), .init(type: "foo", parameter: "FOO")])
        #expect(noRtx.encodings?.first?.rtx == nil)
    }

    @Test func incompatibleProducerThrowsUnsupported() throws {
        let router = try ORTC.generateRouterRtpCapabilities(
            mediaCodecs: [
                RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2),
                RtpCodecCapability(
                    kind: .video, mimeType: "video/H264", clockRate: 90000, parameters: ["packetization-mode": 1, "profile-level-id": "640032"]),
            ],
            supported: Self.supportedWithVideo
        )
        let params = try ORTC.validateRtpParameters(
            RtpParameters(
                codecs: [
                    RtpCodecParameters(
                        mimeType: "video/VP8", payloadType: 120, clockRate: 90000,
                        rtcpFeedback: [.init(type: "nack"), .init(type: "nack", parameter: "fir")])
                ],
                headerExtensions: [],
                encodings: [.init(ssrc: 11_111_111)],
                rtcp: .init(cname: "qwerty1234")
            )
        )
        #expect {
            try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1)
        } throws: { error in
            (error as? ORTCError)?.type == .unsupported
        }
    }

    @Test func danglingRtxCodecIsInvalid() throws {
        let router = try ORTC.generateRouterRtpCapabilities(
            mediaCodecs: [RtpCodecCapability(kind: .video, mimeType: "video/VP8", clockRate: 90000)],
            supported: Self.supportedWithVideo
        )
        let params = try ORTC.validateRtpParameters(
            RtpParameters(
                codecs: [
                    RtpCodecParameters(mimeType: "video/VP8", payloadType: 96, clockRate: 90000),
                    RtpCodecParameters(mimeType: "video/rtx", payloadType: 97, clockRate: 90000, parameters: ["apt": 95]),
                ], encodings: [.init(ssrc: 1)])
        )
        #expect {
            try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1)
        } throws: { error in
            (error as? ORTCError)?.message == "apt in RTX codec points to a non existing codec"
        }
    }

    @Test func congestionControlFeedbackFollowsHeaderExtensions() throws {
        // Audio consumable as MSAB's router produces it (mid, abs-send-time, audio level).
        let router = try ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
        let params = try ORTC.validateRtpParameters(
            RtpParameters(codecs: [.init(mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2)], encodings: [.init(ssrc: 9)])
        )
        let mapping = try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1)
        let consumable = try ORTC.getConsumableRtpParameters(kind: .audio, params, routerRtpCapabilities: router, rtpMapping: mapping)
        let opus = RtpCodecCapability(
            kind: .audio,
            mimeType: "audio/opus",
            clockRate: 48000,
            channels: 2,
            rtcpFeedback: [.init(type: "transport-cc"), .init(type: "goog-remb"), .init(type: "nack")]
        )
        let absSendTime = RtpHeaderExtension(kind: .audio, uri: ORTC.absSendTimeURI, preferredId: 4)

        // abs-send-time present, transport-wide-cc absent (it is recvonly for audio): REMB only.
        let withAbs = try ORTC.getConsumerRtpParameters(
            consumableRtpParameters: consumable,
            remoteRtpCapabilities: RtpCapabilities(codecs: [opus], headerExtensions: [absSendTime]),
            ssrc: 1
        )
        #expect(withAbs.codecs[0].rtcpFeedback == [.init(type: "goog-remb", parameter: "")])
        #expect(withAbs.headerExtensions?.map(\.uri) == [ORTC.absSendTimeURI])

        // Neither: no congestion-control feedback at all.
        let bare = try ORTC.getConsumerRtpParameters(
            consumableRtpParameters: consumable,
            remoteRtpCapabilities: RtpCapabilities(codecs: [opus]),
            ssrc: 1
        )
        #expect(bare.codecs[0].rtcpFeedback == [])
        #expect(bare.headerExtensions == [])

        // Same URI under another id is not the same extension.
        let otherId = try ORTC.getConsumerRtpParameters(
            consumableRtpParameters: consumable,
            remoteRtpCapabilities: RtpCapabilities(
                codecs: [opus], headerExtensions: [RtpHeaderExtension(kind: .audio, uri: ORTC.absSendTimeURI, preferredId: 3)]),
            ssrc: 1
        )
        #expect(otherId.headerExtensions == [])
    }

    @Test(arguments: [
        ("L1T3", 1, 3), ("L3T3", 3, 3), ("S2T1", 2, 1), ("L1T3_KEY", 1, 3), ("L10T2", 10, 2),
    ])
    func scalabilityModes(mode: String, spatial: Int, temporal: Int) throws {
        let parsed = try #require(ScalabilityMode(mode))
        #expect(parsed.spatialLayers == spatial)
        #expect(parsed.temporalLayers == temporal)
    }

    @Test(arguments: ["", "T3", "L0T1", "L1", "X1T1", "L1T3_FOO", "L100T1"])
    func invalidScalabilityModes(mode: String) {
        #expect(ScalabilityMode(mode) == nil)
    }
}
