extension ORTC {
    /// Maps a producer's payload types, streams and header extension ids onto the router's
    /// (mediasoup `getProducerRtpParametersMapping`, plus header extensions: see ``RtpMapping``).
    ///
    /// Every media codec of `params` must strictly match a router codec; every RTX codec must
    /// point (`apt`) at one of the producer's media codecs whose router codec has an RTX codec.
    /// Encodings get consecutive router-side SSRCs starting at `firstMappedSsrc` (mediasoup draws
    /// the first one at random; pass a random value).
    ///
    /// - Parameter params: producer parameters, already through ``validateRtpParameters(_:)``;
    ///   the worker-side checks of ``validateProducerRtpParameters(_:)`` are applied here.
    /// - Throws: ``ORTCError/ErrorType/unsupported`` when a codec is not in the router's
    ///   capabilities, ``ORTCError/ErrorType/invalidParameters`` for parameters mediasoup's
    ///   worker would refuse (see ``validateProducerRtpParameters(_:)``).
    public static func getProducerRtpParametersMapping(
        _ params: RtpParameters,
        routerRtpCapabilities caps: RtpCapabilities,
        firstMappedSsrc: UInt32
    ) throws(ORTCError) -> RtpMapping {
        try validateProducerRtpParameters(params)
        let capCodecs = caps.codecs ?? []
        var mediaMatches: [(codec: RtpCodecParameters, capCodec: RtpCodecCapability)] = []
        for codec in params.codecs where !codec.isRtx {
            guard let capCodec = capCodecs.first(where: { matchCodecs(codec, $0, strict: true) }) else {
                throw .unsupported("unsupported codec [mimeType:\(codec.mimeType), payloadType:\(codec.payloadType)]")
            }
            mediaMatches.append((codec, capCodec))
        }

        var rtxMatches: [(codec: RtpCodecParameters, capCodec: RtpCodecCapability)] = []
        for codec in params.codecs where codec.isRtx {
            guard let media = mediaMatches.first(where: { $0.codec.payloadType == codec.apt }) else {
                throw .invalid("missing media codec found for RTX PT \(codec.payloadType)")
            }
            let mediaPT = media.capCodec.preferredPayloadType
            guard let capRtx = capCodecs.first(where: { $0.isRtx && $0.apt == mediaPT }) else {
                throw .unsupported("no RTX codec for capability codec PT \(mediaPT.map(String.init) ?? "-")")
            }
            rtxMatches.append((codec, capRtx))
        }

        var mapping = RtpMapping(codecs: [], encodings: [])
        for (codec, capCodec) in mediaMatches + rtxMatches {
            guard let mapped = capCodec.preferredPayloadType else {
                throw .invalid("router capability codec \(capCodec.mimeType) has no preferredPayloadType")
            }
            mapping.codecs.append(.init(payloadType: codec.payloadType, mappedPayloadType: mapped))
        }

        var mappedSsrc = firstMappedSsrc
        for encoding in params.encodings ?? [] {
            mapping.encodings.append(
                .init(
                    ssrc: encoding.ssrc,
                    rid: encoding.rid.flatMap { $0.isEmpty ? nil : $0 },
                    scalabilityMode: encoding.scalabilityMode.flatMap { $0.isEmpty ? nil : $0 },
                    mappedSsrc: mappedSsrc
                )
            )
            mappedSsrc &+= 1
        }

        // Header extensions: by URI, among the router's extensions for this kind that the router
        // may receive (sendrecv/recvonly). Extensions the router does not know are left unmapped;
        // the SFU ignores them on input, as the mediasoup worker does.
        if let kind = params.codecs.first(where: { !$0.isRtx }).flatMap({ self.kind(ofMimeType: $0.mimeType) }) {
            for ext in params.headerExtensions ?? [] {
                let capExt = caps.headerExtensions?.first {
                    $0.kind == kind && $0.uri == ext.uri && ($0.direction ?? .sendrecv).routerReceives
                }
                if let capExt {
                    mapping.headerExtensions.append(.init(uri: ext.uri, id: ext.id, mappedId: capExt.preferredId))
                }
            }
        }
        return mapping
    }

    /// The parameters every consumer of a producer is derived from (mediasoup
    /// `getConsumableRtpParameters`): the router's codecs (payload type, RTCP feedback) carrying
    /// the producer's codec parameters, the router's header extensions of `kind` that the router
    /// may send (sendrecv/sendonly), the producer's encodings with the mapped SSRCs (without
    /// `rid`, `rtx`, `codecPayloadType`), and RTCP `{cname: producer's cname, reducedSize: true}`.
    ///
    /// - Throws: ``ORTCError/ErrorType/invalidParameters`` when `rtpMapping` does not belong to
    ///   `params` (mediasoup would crash on a `!` here).
    public static func getConsumableRtpParameters(
        kind: MediaKind,
        _ params: RtpParameters,
        routerRtpCapabilities caps: RtpCapabilities,
        rtpMapping: RtpMapping
    ) throws(ORTCError) -> RtpParameters {
        let capCodecs = caps.codecs ?? []
        var consumable = RtpParameters(codecs: [], headerExtensions: [], encodings: [], rtcp: nil)

        for codec in params.codecs where !codec.isRtx {
            guard let consumablePT = rtpMapping.mappedPayloadType(for: codec.payloadType),
                let capCodec = capCodecs.first(where: { $0.preferredPayloadType == consumablePT })
            else {
                throw .invalid("no router codec mapped for producer payload type \(codec.payloadType)")
            }
            consumable.codecs.append(
                RtpCodecParameters(
                    mimeType: capCodec.mimeType,
                    payloadType: consumablePT,
                    clockRate: capCodec.clockRate,
                    channels: capCodec.channels,
                    parameters: codec.parameters,  // Keep the producer's codec parameters.
                    rtcpFeedback: capCodec.rtcpFeedback
                )
            )
            if let capRtx = capCodecs.first(where: { $0.isRtx && $0.apt == consumablePT }), let rtxPT = capRtx.preferredPayloadType {
                consumable.codecs.append(
                    RtpCodecParameters(
                        mimeType: capRtx.mimeType,
                        payloadType: rtxPT,
                        clockRate: capRtx.clockRate,
                        parameters: capRtx.parameters,
                        rtcpFeedback: capRtx.rtcpFeedback
                    )
                )
            }
        }

        for capExt in caps.headerExtensions ?? [] where capExt.kind == kind && (capExt.direction ?? .sendrecv).routerSends {
            consumable.headerExtensions?.append(
                RtpHeaderExtensionParameters(uri: capExt.uri, id: capExt.preferredId, encrypt: capExt.preferredEncrypt, parameters: [:])
            )
        }

        let encodings = params.encodings ?? []
        guard encodings.count == rtpMapping.encodings.count else {
            throw .invalid("rtpMapping has \(rtpMapping.encodings.count) encodings, parameters have \(encodings.count)")
        }
        for (encoding, mapped) in zip(encodings, rtpMapping.encodings) {
            var encoding = encoding
            encoding.rid = nil
            encoding.rtx = nil
            encoding.codecPayloadType = nil
            encoding.ssrc = mapped.mappedSsrc
            consumable.encodings?.append(encoding)
        }

        consumable.rtcp = RtcpParameters(cname: params.rtcp?.cname, reducedSize: true)
        return consumable
    }
}

extension RtpHeaderExtensionDirection {
    /// The router may receive this extension from producers.
    var routerReceives: Bool { self == .sendrecv || self == .recvonly }
    /// The router may send this extension to consumers.
    var routerSends: Bool { self == .sendrecv || self == .sendonly }
}
