extension ORTC {
    /// Whether an endpoint with `caps` can consume a producer (mediasoup `canConsume`): true when
    /// its first codec that `caps` strictly matches is a media codec, not RTX.
    ///
    /// - Throws: ``ORTCError/ErrorType/invalidParameters`` when `caps` is invalid (mediasoup's
    ///   `Router.canConsume` turns that into `false`; callers answering `"Cannot consume"` may do
    ///   the same with `(try? …) ?? false`).
    public static func canConsume(_ consumableParams: RtpParameters, rtpCapabilities caps: RtpCapabilities) throws(ORTCError) -> Bool {
        let caps = try validateRtpCapabilities(caps)
        let capCodecs = caps.codecs ?? []
        let matching = consumableParams.codecs.filter { codec in
            capCodecs.contains { matchCodecs($0, codec, strict: true) }
        }
        guard let first = matching.first else { return false }
        return !first.isRtx
    }

    /// The parameters of one consumer (mediasoup `getConsumerRtpParameters` with `pipe: false`,
    /// plus the MID that mediasoup's `transport.consume()` assigns).
    ///
    /// - Codecs: the consumable codecs the remote strictly matches, each with the remote's RTCP
    ///   feedback for it; NACK feedback (without parameter) is dropped unless `enableRtx`; RTX
    ///   codecs are dropped unless `enableRtx` and their media codec is kept. The first codec
    ///   must be a media codec.
    /// - Header extensions: the consumable ones the remote lists with the same URI and id.
    ///   **Deliberate difference:** the remote extension must also be of the consumer's kind.
    ///   mediasoup ignores the kind here, so a receiver that supports abs-send-time (id 4) for
    ///   video only (aiortc) would get it on its audio consumer, and with it lose transport-cc
    ///   feedback; requiring the kind gives aiortc exactly MID + audio level (see consume.json).
    /// - RTCP feedback is then reduced to the available congestion control: transport-cc if the
    ///   transport-wide-cc extension remains, else REMB if abs-send-time remains, else neither.
    /// - One encoding with `ssrc` (and `rtx` = `ssrc + 1` when RTX is on), the scalability mode
    ///   of the consumable encodings (`L<n>T<t>` for simulcast) and their largest `maxBitrate`.
    /// - RTCP: the consumable's (the producer's cname, reduced size), or `cname` if given.
    ///
    /// - Parameters:
    ///   - ssrc: the consumer's SSRC (mediasoup draws it at random; pass a random value).
    ///   - enableRtx: mediasoup's default is `true` for video, `false` for audio.
    ///   - cname: overrides the RTCP CNAME (default: the producer's, as mediasoup does).
    ///   - mid: the consumer's MID (`transport.consume()` numbers them "0", "1", … per transport).
    /// - Throws: ``ORTCError/ErrorType/unsupported`` ("no compatible media codecs") and
    ///   ``ORTCError/ErrorType/invalidParameters`` for invalid remote capabilities.
    public static func getConsumerRtpParameters(
        consumableRtpParameters consumable: RtpParameters,
        remoteRtpCapabilities: RtpCapabilities,
        ssrc: UInt32,
        enableRtx: Bool = false,
        cname: String? = nil,
        mid: String? = nil
    ) throws(ORTCError) -> RtpParameters {
        let remote = try validateRtpCapabilities(remoteRtpCapabilities)
        let remoteCodecs = remote.codecs ?? []
        var consumer = RtpParameters(mid: mid, codecs: [], headerExtensions: [], encodings: [], rtcp: consumable.rtcp)

        for var codec in consumable.codecs {
            if !enableRtx && codec.isRtx { continue }
            guard let capCodec = remoteCodecs.first(where: { matchCodecs($0, codec, strict: true) }) else { continue }
            codec.rtcpFeedback = (capCodec.rtcpFeedback ?? []).filter { fb in
                enableRtx || fb.type != "nack" || !(fb.parameter ?? "").isEmpty
            }
            consumer.codecs.append(codec)
        }

        // Drop RTX codecs whose media codec did not survive.
        var rtxSupported = false
        let mediaPayloadTypes = Set(consumer.codecs.filter { !$0.isRtx }.map(\.payloadType))
        consumer.codecs.removeAll { codec in
            guard codec.isRtx else { return false }
            if let apt = codec.apt, mediaPayloadTypes.contains(apt) {
                rtxSupported = true
                return false
            }
            return true
        }

        guard let first = consumer.codecs.first, !first.isRtx else {
            throw .unsupported("no compatible media codecs")
        }

        let kind = self.kind(ofMimeType: first.mimeType)
        let remoteExtensions = remote.headerExtensions ?? []
        let extensions = (consumable.headerExtensions ?? []).filter { ext in
            remoteExtensions.contains { $0.preferredId == ext.id && $0.uri == ext.uri && (kind == nil || $0.kind == kind) }
        }
        consumer.headerExtensions = extensions

        let excluded: Set<String> =
            if extensions.contains(where: { $0.uri == transportWideCCURI }) {
                ["goog-remb"]
            } else if extensions.contains(where: { $0.uri == absSendTimeURI }) {
                ["transport-cc"]
            } else {
                ["transport-cc", "goog-remb"]
            }
        for index in consumer.codecs.indices {
            consumer.codecs[index].rtcpFeedback?.removeAll { excluded.contains($0.type) }
        }

        let consumableEncodings = consumable.encodings ?? []
        var encoding = RtpEncodingParameters(ssrc: ssrc)
        if rtxSupported {
            encoding.rtx = RtxParameters(ssrc: ssrc &+ 1)
        }
        var scalabilityMode = consumableEncodings.first { !($0.scalabilityMode ?? "").isEmpty }?.scalabilityMode
        if consumableEncodings.count > 1 {
            // Simulcast: the consumer sees the streams as spatial layers.
            let temporalLayers = ScalabilityMode(scalabilityMode)?.temporalLayers ?? 1
            scalabilityMode = "L\(consumableEncodings.count)T\(temporalLayers)"
        }
        encoding.scalabilityMode = scalabilityMode
        let maxBitrate = consumableEncodings.compactMap(\.maxBitrate).max() ?? 0
        if maxBitrate > 0 {
            encoding.maxBitrate = maxBitrate
        }
        consumer.encodings = [encoding]

        if let cname {
            var rtcp = consumer.rtcp ?? RtcpParameters(reducedSize: true)
            rtcp.cname = cname
            consumer.rtcp = rtcp
        }
        return consumer
    }
}

/// A parsed scalability mode (`L3T3`, `S2T1_KEY`), as mediasoup's `scalabilityModes.ts`.
struct ScalabilityMode: Hashable {
    var spatialLayers: Int
    var temporalLayers: Int

    /// Parses `^[LS]([1-9][0-9]?)T([1-9][0-9]?)(_KEY.*)?$`; nil for anything else.
    init?(_ string: String?) {
        guard let string, let first = string.first, first == "L" || first == "S" else { return nil }
        let body = string.dropFirst()
        guard let t = body.firstIndex(of: "T") else { return nil }
        let spatial = body[..<t]
        var temporal = body[body.index(after: t)...]
        if let underscore = temporal.firstIndex(of: "_") {
            guard temporal[underscore...].hasPrefix("_KEY") else { return nil }
            temporal = temporal[..<underscore]
        }
        guard (1...2).contains(spatial.count), (1...2).contains(temporal.count),
            spatial.first != "0", temporal.first != "0",
            let s = Int(spatial), let tl = Int(temporal)
        else { return nil }
        self.spatialLayers = s
        self.temporalLayers = tl
    }
}
