extension ORTC {
    /// The checks mediasoup's worker applies when it creates a producer
    /// (`worker/src/RTC/RtpDictionaries/RtpParameters.cpp` `ValidateCodecs`/`ValidateEncodings`
    /// and `worker/src/RTC/Producer.cpp`). In mediasoup these run after `ortc.ts`, inside the C++
    /// worker; we run in-process, so ``getProducerRtpParametersMapping(_:routerRtpCapabilities:firstMappedSsrc:)``
    /// calls this first.
    ///
    /// Rejects: an empty `mid`; no codecs; no encodings; duplicated payload types; an RTX codec
    /// whose `apt` is missing or points to no codec or to another RTX codec; no media codec; an
    /// encoding `codecPayloadType` that is unknown or not a media codec; with several encodings,
    /// one without `ssrc` or `rid`; a single encoding without `ssrc`/`rid` and no `mid` (the
    /// SFU could not tell its packets apart); a header extension id 0.
    public static func validateProducerRtpParameters(_ params: RtpParameters) throws(ORTCError) {
        if let mid = params.mid, mid.isEmpty { throw .invalid("empty mid") }
        guard !params.codecs.isEmpty else { throw .invalid("empty codecs") }
        let encodings = params.encodings ?? []
        guard !encodings.isEmpty else { throw .invalid("empty encodings") }

        var payloadTypes: Set<Int> = []
        for codec in params.codecs {
            guard payloadTypes.insert(codec.payloadType).inserted else {
                throw .invalid("duplicated payloadType \(codec.payloadType)")
            }
        }
        for codec in params.codecs where codec.isRtx {
            guard let apt = codec.apt else { throw .invalid("missing apt in RTX codec \(codec.payloadType)") }
            guard let target = params.codecs.first(where: { $0.payloadType == apt }) else {
                throw .invalid("apt in RTX codec points to a non existing codec")
            }
            if target.isRtx { throw .invalid("apt in RTX codec points to a RTX codec") }
        }
        guard params.codecs.contains(where: { !$0.isRtx }) else { throw .invalid("no media codecs found") }

        for encoding in encodings {
            if let pt = encoding.codecPayloadType {
                guard let codec = params.codecs.first(where: { $0.payloadType == pt }) else {
                    throw .invalid("unknown codecPayloadType \(pt)")
                }
                if codec.isRtx { throw .invalid("invalid codecPayloadType \(pt)") }
            }
            let identified = encoding.ssrc != nil || !(encoding.rid ?? "").isEmpty
            if encodings.count > 1, !identified {
                throw .invalid("wrong entry in encodings (missing ssrc or rid)")
            }
            if encodings.count == 1, params.mid == nil, !identified {
                throw .invalid("wrong entry in encodings (missing ssrc or rid, or mid)")
            }
        }
        for ext in params.headerExtensions ?? [] where ext.id == 0 {
            throw .invalid("RTP extension id cannot be 0")
        }
    }
}
