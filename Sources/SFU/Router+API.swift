import DTLS
import Foundation
import MediasoupWire
public import NIOCore
import RTP
import SpeakerDetection

/// The speaker observers every router gets (MSAB's settings; contract §5.5 and its HEAD version).
public struct SpeakerObserverSettings: Sendable, Hashable {
    /// AudioLevelObserver: at most this many entries per event.
    public var maxEntries = 16
    /// AudioLevelObserver: minimum average level (dBov) to be reported.
    public var threshold = -55
    /// AudioLevelObserver interval.
    public var audioLevelInterval = TimeAmount.milliseconds(500)
    /// ActiveSpeakerObserver interval.
    public var activeSpeakerInterval = TimeAmount.milliseconds(200)

    public init() {}
}

extension Router {
    /// A router for `mediaCodecs` on `worker`, with both speaker observers attached
    /// (mediasoup `worker.createRouter({mediaCodecs})` + the room's observers), or none when
    /// `observers` is nil (a room's second router: its speakers are detected on the first, which
    /// has every producer of the room, so observers here would only cost CPU).
    /// - Throws: `.unsupportedRtpParameters` when a codec is not supported.
    package static func make(
        mediaCodecs: [RtpCodecCapability], worker: SFUWorker, observers: SpeakerObserverSettings? = SpeakerObserverSettings()
    ) throws(SFUError) -> Router {
        let capabilities: RtpCapabilities
        do {
            capabilities = try ORTC.generateRouterRtpCapabilities(mediaCodecs: mediaCodecs)
        } catch {
            throw SFUError(.unsupportedRtpParameters, error.message)
        }
        let router = Router(worker: worker, rtpCapabilities: capabilities)
        if let observers {
            router.addObserver(
                AudioLevelRTPObserver(maxEntries: observers.maxEntries, threshold: observers.threshold, interval: observers.audioLevelInterval))
            router.addObserver(ActiveSpeakerRTPObserver(interval: observers.activeSpeakerInterval))
        }
        worker.add(router)
        return router
    }

    // MARK: - Transports

    /// Creates a WebRTC transport on the worker's shared port.
    package func createWebRtcTransport(now: NIODeadline) throws(SFUError) -> WebRtcTransportInfo {
        let transport = try createTransport(now: now)
        return WebRtcTransportInfo(
            id: transport.id,
            iceParameters: IceParameters(usernameFragment: transport.iceUsernameFragment, password: transport.icePassword, iceLite: true),
            iceCandidates: Self.hostCandidates(
                addresses: worker.settings.announcedAddresses, port: worker.settings.port, tcp: worker.settings.offersTCP),
            // Only sha-256: aiortc ignores the others, Chrome and Firefox accept it (media-notes).
            dtlsParameters: DtlsParameters(
                role: .auto,
                fingerprints: [
                    DtlsFingerprint(algorithm: FingerprintAlgorithm(rawValue: "sha-256"), value: worker.certificate.fingerprint(.sha256).value)
                ]
            ))
    }

    /// One UDP host candidate per announced address, all on the worker's one port, in the given
    /// order of preference. RFC 8445 §5.1.2.1: priority = 2^24·type + 2^8·local + (256 − component);
    /// type 64 (host) and local preference 10000 for the first, as mediasoup gives its first
    /// listenInfo (1_076_302_079), then 100 less for each next address. Each address is its own
    /// base, so its own foundation (§5.1.1.3); the first keeps mediasoup's "udpcandidate".
    ///
    /// With `tcp`, then one passive TCP host candidate per address on the same port number
    /// (RFC 6544 §4.5: a server's host candidates are passive). RFC 6544 §4.2 lets TCP candidates
    /// rank below UDP ones; their local preference starts at 4,000, below the lowest UDP one for
    /// up to 60 addresses (HostCandidateAddresses offers far fewer), so a client that can use UDP
    /// does, and TCP is the fallback for networks that block UDP.
    package static func hostCandidates(addresses: [String], port: Int, tcp: Bool = false) -> [IceCandidate] {
        let udp = addresses.enumerated().map { index, address in
            let localPreference = UInt32(max(0, 10_000 - 100 * index))
            return IceCandidate(
                foundation: index == 0 ? "udpcandidate" : "udpcandidate\(index)",
                priority: (64 << 24) + (localPreference << 8) + 255, address: address, protocol: .udp,
                port: UInt16(clamping: port))
        }
        guard tcp else { return udp }
        let passive = addresses.enumerated().map { index, address in
            let localPreference = UInt32(max(0, 4_000 - 100 * index))
            return IceCandidate(
                foundation: index == 0 ? "tcpcandidate" : "tcpcandidate\(index)",
                priority: (64 << 24) + (localPreference << 8) + 255, address: address, protocol: .tcp,
                port: UInt16(clamping: port), tcpType: .passive)
        }
        return udp + passive
    }

    /// `transport.connect({dtlsParameters})`.
    package func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters, now: NIODeadline) throws(SFUError) {
        let transport = try transport(transportId)
        let role: DtlsRoleValue =
            switch dtlsParameters.role ?? .auto {
            case .auto: .auto
            case .client: .client
            case .server: .server
            }
        let fingerprints = dtlsParameters.fingerprints.map { ($0.algorithm.rawValue, $0.value) }
        if let reason = try transport.connect(role: role, fingerprints: fingerprints, certificate: worker.certificate, now: now) {
            transportClosedItself(transport, reason: reason)
        }
    }

    /// New ICE credentials for a transport (`transport.restartIce()`).
    package func restartIce(_ transportId: String) throws(SFUError) -> IceParameters {
        let transport = try transport(transportId)
        guard !transport.isClosed else { throw SFUError(.transportClosed, transportId) }
        let credentials = transport.restartIce()
        worker.iceRestarted(transport, previousUsernameFragment: credentials.previousUsernameFragment)
        return IceParameters(usernameFragment: credentials.usernameFragment, password: credentials.password, iceLite: true)
    }

    // MARK: - Producers

    /// `transport.produce({kind, rtpParameters, paused})`: validates, maps the client's payload
    /// types and header-extension ids to the router's (ORTC), and starts receiving.
    /// - Returns: the producer id.
    package func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) throws(SFUError) -> String {
        _ = try transport(transportId)
        let negotiated = try negotiateProducer(kind: kind, rtpParameters: rtpParameters)
        let producer = try addProducer(
            transportId: transportId, mapping: negotiated.mapping, paused: paused, kind: kind, rtpParameters: negotiated.validated,
            consumableRtpParameters: negotiated.consumable)
        return producer.id
    }

    /// ORTC for a new producer (client or pipe): validates `rtpParameters`, maps its payload
    /// types and header-extension ids to the router's, and derives the consumable parameters.
    func negotiateProducer(kind: MediaKind, rtpParameters: RtpParameters) throws(SFUError) -> (
        validated: RtpParameters, mapping: ProducerMapping, consumable: RtpParameters
    ) {
        guard kind == .audio else { throw SFUError(.unsupportedRtpParameters, "only audio producers are supported") }
        let validated: RtpParameters
        let rtpMapping: RtpMapping
        let consumable: RtpParameters
        do {
            validated = try ORTC.validateRtpParameters(rtpParameters)
            rtpMapping = try ORTC.getProducerRtpParametersMapping(
                validated, routerRtpCapabilities: rtpCapabilities,
                firstMappedSsrc: UInt32.random(in: 100_000_000...900_000_000, using: &worker.random))
            consumable = try ORTC.getConsumableRtpParameters(
                kind: kind, validated, routerRtpCapabilities: rtpCapabilities, rtpMapping: rtpMapping)
        } catch {
            throw SFUError(.unsupportedRtpParameters, error.message)
        }
        guard let codec = validated.codecs.first, !rtpMapping.codecs.isEmpty else {
            throw SFUError(.unsupportedRtpParameters, "no codec")
        }
        let encodings = validated.encodings ?? []
        guard encodings.count <= 1 else { throw SFUError(.unsupportedRtpParameters, "audio producers have one encoding") }
        let levelID = (validated.headerExtensions ?? []).first { ext in
            ext.uri == "urn:ietf:params:rtp-hdrext:ssrc-audio-level" && rtpMapping.mappedHeaderExtensionId(for: ext.id) != nil
        }?.id
        let mapping = ProducerMapping(
            ssrc: encodings.first?.ssrc,
            payloadTypes: rtpMapping.codecs.map { (UInt8(clamping: $0.payloadType), UInt8(clamping: $0.mappedPayloadType)) },
            clockRate: UInt32(clamping: codec.clockRate),
            extensionIDs: rtpMapping.headerExtensions.map { (UInt8(clamping: $0.id), UInt8(clamping: $0.mappedId)) },
            audioLevelExtensionID: UInt8(clamping: levelID ?? 0))
        return (validated, mapping, consumable)
    }

    /// Pauses a producer (its consumers stop; observers ignore it).
    package func pauseProducer(_ producerId: String) throws(SFUError) { try setProducerPaused(producerId, true) }
    /// Resumes a producer (its consumers continue seamlessly).
    package func resumeProducer(_ producerId: String) throws(SFUError) { try setProducerPaused(producerId, false) }

    // MARK: - Consumers

    /// mediasoup `router.canConsume({producerId, rtpCapabilities})`.
    package func canConsume(producerId: String, rtpCapabilities capabilities: RtpCapabilities) -> Bool {
        guard let producer = producers[producerId] else { return false }
        return (try? ORTC.canConsume(producer.consumableRtpParameters, rtpCapabilities: capabilities)) ?? false
    }

    /// `transport.consume({producerId, rtpCapabilities, paused})`: a new consumer with its own SSRC.
    package func consume(
        transportId: String, producerId: String, rtpCapabilities capabilities: RtpCapabilities, paused: Bool, now: NIODeadline
    ) throws(SFUError) -> ConsumerInfo {
        let transport = try transport(transportId)
        let producer = try producer(producerId)
        guard canConsume(producerId: producerId, rtpCapabilities: capabilities) else {
            throw SFUError(.cannotConsume, "producer \(producerId)")
        }
        try checkCanAddConsumer(on: transport, of: producer)
        var ssrc = UInt32.random(in: 100_000_000...900_000_000, using: &worker.random)
        while transport.consumerForSSRC(ssrc) != nil { ssrc &+= 1 }
        let cname = producer.consumableRtpParameters.rtcp?.cname ?? producer.rtpParameters.rtcp?.cname ?? "msab"
        let parameters: RtpParameters
        do {
            parameters = try ORTC.getConsumerRtpParameters(
                consumableRtpParameters: producer.consumableRtpParameters, remoteRtpCapabilities: capabilities, ssrc: ssrc,
                cname: cname, mid: transport.nextConsumerMid())
        } catch {
            throw SFUError(.cannotConsume, error.message)
        }
        guard let codec = parameters.codecs.first else { throw SFUError(.cannotConsume, "no common codec") }
        let midID = (parameters.headerExtensions ?? []).first { $0.uri == "urn:ietf:params:rtp-hdrext:sdes:mid" }?.id ?? 0
        let mapping = ConsumerMapping(
            ssrc: ssrc, payloadType: UInt8(clamping: codec.payloadType), clockRate: UInt32(clamping: codec.clockRate),
            extensionIDs: .keeping((parameters.headerExtensions ?? []).map { UInt8(clamping: $0.id) }), cname: cname,
            midExtensionID: UInt8(clamping: midID), mid: Array((parameters.mid ?? "").utf8))
        let consumer = try addConsumer(
            transportId: transportId, producerId: producerId, mapping: mapping, paused: paused, now: now, rtpParameters: parameters)
        return ConsumerInfo(id: consumer.id, producerId: producerId, kind: producer.kind, rtpParameters: parameters)
    }

    /// Pauses a consumer.
    package func pauseConsumer(_ consumerId: String) throws(SFUError) { try setConsumerPaused(consumerId, true) }
    /// Resumes a consumer (created paused; the client resumes once its track is wired).
    package func resumeConsumer(_ consumerId: String) throws(SFUError) { try setConsumerPaused(consumerId, false) }
}
