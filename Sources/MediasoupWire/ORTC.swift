// The negotiation functions of mediasoup's node/src/ortc.ts, for audio: what a producer's
// parameters map to on the router, and what a consumer receives. Behaviour follows mediasoup;
// the code is ours.

public struct ORTCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How a producer's own payload types and header extension ids map onto the router's.
public struct RtpMapping: Sendable, Hashable {
    /// Producer payload type → router payload type.
    public var codecs: [Int: Int]
    /// Producer extension id → router extension id (only the extensions the router knows).
    public var headerExtensions: [Int: Int]
    /// The producer's SSRC (nil when the client did not announce it: learnt from the first packet).
    public var ssrc: UInt32?
}

public enum ORTC {
    static func matches(_ mimeType: String, _ clockRate: Int, _ channels: Int?, _ cap: RtpCodecCapability) -> Bool {
        mimeType.lowercased() == cap.mimeType.lowercased() && clockRate == cap.clockRate && (channels ?? 1) == (cap.channels ?? 1)
    }

    /// `validateRtpParameters` + `getProducerRtpParametersMapping` for an audio producer.
    public static func producerMapping(_ parameters: RtpParameters, routerCapabilities: RtpCapabilities) throws(ORTCError) -> RtpMapping {
        guard !parameters.codecs.isEmpty else { throw ORTCError("empty rtpParameters.codecs") }
        var codecMap: [Int: Int] = [:]
        for codec in parameters.codecs {
            guard (0...127).contains(codec.payloadType), codec.clockRate > 0 else { throw ORTCError("invalid codec \(codec.mimeType)") }
            let mime = codec.mimeType.lowercased()
            if mime.hasSuffix("/rtx") || mime.hasSuffix("/red") || mime.hasSuffix("/cn") || mime.hasSuffix("/telephone-event") { continue }
            guard let routerCodec = routerCapabilities.codecs?.first(where: { matches(codec.mimeType, codec.clockRate, codec.channels, $0) }),
                  let routerPT = routerCodec.preferredPayloadType else { continue }
            codecMap[codec.payloadType] = routerPT
        }
        // mediasoup requires the first media codec to be supported.
        guard let first = parameters.codecs.first, codecMap[first.payloadType] != nil else {
            throw ORTCError("unsupported codec [mimeType:\(parameters.codecs.first?.mimeType ?? "?")]")
        }
        var extensionMap: [Int: Int] = [:]
        for ext in parameters.headerExtensions ?? [] {
            guard (1...255).contains(ext.id) else { throw ORTCError("invalid header extension id \(ext.id)") }
            if let routerExt = routerCapabilities.headerExtensions?.first(where: { $0.kind == .audio && $0.uri == ext.uri }) {
                extensionMap[ext.id] = routerExt.preferredId
            }
        }
        let encodings = parameters.encodings ?? []
        guard encodings.count <= 1 || encodings.allSatisfy({ $0.ssrc != nil }) else { throw ORTCError("audio producers have one encoding") }
        return RtpMapping(codecs: codecMap, headerExtensions: extensionMap, ssrc: encodings.first?.ssrc)
    }

    /// `getConsumableRtpParameters`: the producer's stream as the router forwards it (router payload
    /// type and extension ids, the producer's codec parameters).
    public static func consumableParameters(_ parameters: RtpParameters, mapping: RtpMapping, routerCapabilities: RtpCapabilities) -> RtpParameters {
        var codecs: [RtpCodecParameters] = []
        for codec in parameters.codecs {
            guard let routerPT = mapping.codecs[codec.payloadType],
                  let capability = routerCapabilities.codecs?.first(where: { $0.preferredPayloadType == routerPT }) else { continue }
            codecs.append(RtpCodecParameters(mimeType: capability.mimeType, payloadType: routerPT, clockRate: capability.clockRate,
                                             channels: capability.channels, parameters: codec.parameters ?? [:],
                                             rtcpFeedback: capability.rtcpFeedback ?? []))
            break  // one media codec
        }
        let extensions = (routerCapabilities.headerExtensions ?? [])
            .filter { $0.kind == .audio && ($0.direction == .sendrecv || $0.direction == .sendonly || $0.direction == nil) }
            .map { RtpHeaderExtensionParameters(uri: $0.uri, id: $0.preferredId, encrypt: $0.preferredEncrypt ?? false, parameters: [:]) }
        return RtpParameters(codecs: codecs, headerExtensions: extensions, encodings: [RtpEncodingParameters(ssrc: mapping.ssrc)],
                             rtcp: RtcpParameters(cname: parameters.rtcp?.cname, reducedSize: true, mux: true))
    }

    /// `canConsume`: the consumer's device supports the codec.
    public static func canConsume(_ consumable: RtpParameters, capabilities: RtpCapabilities) -> Bool {
        guard let codec = consumable.codecs.first else { return false }
        return (capabilities.codecs ?? []).contains { $0.kind == .audio && matches(codec.mimeType, codec.clockRate, codec.channels, $0) }
    }

    /// `getConsumerRtpParameters`: the consumable stream reduced to what the consumer supports,
    /// with the consumer's own SSRC.
    public static func consumerParameters(_ consumable: RtpParameters, capabilities: RtpCapabilities, ssrc: UInt32, mid: String) throws(ORTCError) -> RtpParameters {
        guard var codec = consumable.codecs.first,
              let supported = (capabilities.codecs ?? []).first(where: { $0.kind == .audio && matches(codec.mimeType, codec.clockRate, codec.channels, $0) })
        else { throw ORTCError("no compatible media codecs") }
        let supportedFeedback = supported.rtcpFeedback ?? []
        codec.rtcpFeedback = (codec.rtcpFeedback ?? []).filter { fb in
            supportedFeedback.contains { $0.type == fb.type && ($0.parameter ?? "") == (fb.parameter ?? "") }
        }
        let extensions = (consumable.headerExtensions ?? []).filter { ext in
            (capabilities.headerExtensions ?? []).contains { $0.kind == .audio && $0.uri == ext.uri && $0.preferredId == ext.id }
        }
        return RtpParameters(mid: mid, codecs: [codec], headerExtensions: extensions, encodings: [RtpEncodingParameters(ssrc: ssrc)],
                             rtcp: RtcpParameters(cname: consumable.rtcp?.cname, reducedSize: true, mux: true))
    }
}
