import MediasoupWire
import SFU
import SFUServer

/// The production `MediaPlane`: routers on the built-in SFU's workers, with the router media codecs
/// of contract §5.2 (`ORTC.msabMediaCodecs`: opus/48000/2, useinbandfec 1, usedtx 0, minptime 10,
/// sprop-stereo 1).
public struct SFUMediaPlane: MediaPlane {
    let server: MediaServer

    public init(server: MediaServer) {
        self.server = server
    }

    public static let routerMediaCodecs: [RtpCodecCapability] = ORTC.msabMediaCodecs

    public func makeRouter() async throws -> any RoomRouter {
        SFURoomRouter(router: try await server.createRouter(mediaCodecs: Self.routerMediaCodecs))
    }
}

/// A room's router on the SFU.
final class SFURoomRouter: RoomRouter {
    let router: MediaRouter
    let mediaEvents: AsyncStream<RoomMediaEvent>

    init(router: MediaRouter) {
        self.router = router
        let source = router.events
        mediaEvents = AsyncStream { continuation in
            let task = Task {
                for await event in source {
                    switch event {
                    case .transportClosed(let id, let reason): continuation.yield(.transportClosed(transportId: id, reason: reason))
                    case .producerClosed(let id, let reason): continuation.yield(.producerClosed(producerId: id, reason: reason))
                    case .consumerClosed(let id, let reason): continuation.yield(.consumerClosed(consumerId: id, reason: reason))
                    case .dominantSpeaker(let id, let volume): continuation.yield(.dominantSpeaker(producerId: id, volume: volume))
                    case .audioLevels(let levels): continuation.yield(.audioLevels(levels.map { (producerId: $0.producerId, volume: $0.volume) }))
                    case .silence: continuation.yield(.silence)
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    var id: String { router.id }
    var rtpCapabilities: RtpCapabilities { router.rtpCapabilities }

    func createTransport() async throws -> TransportDescription {
        let info = try await router.createWebRtcTransport()
        return TransportDescription(id: info.id, iceParameters: info.iceParameters, iceCandidates: info.iceCandidates, dtlsParameters: info.dtlsParameters)
    }

    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws {
        try await router.connectTransport(transportId, dtlsParameters: dtlsParameters)
    }

    func restartIce(_ transportId: String) async throws -> IceParameters { try await router.restartIce(transportId) }
    func closeTransport(_ transportId: String) async { await router.closeTransport(transportId) }

    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        try await router.produce(transportId: transportId, kind: kind, rtpParameters: rtpParameters, paused: paused)
    }

    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws {
        if paused { try await router.pauseProducer(producerId) } else { try await router.resumeProducer(producerId) }
    }

    func closeProducer(_ producerId: String) async { await router.closeProducer(producerId) }

    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool {
        await router.canConsume(producerId: producerId, rtpCapabilities: rtpCapabilities)
    }

    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerDescription {
        let info: ConsumerInfo
        do {
            info = try await router.consume(transportId: transportId, producerId: producerId, rtpCapabilities: rtpCapabilities, paused: true)
        } catch let error as SFUError where error.kind == .consumerLimitReached {
            throw RoomMediaError.consumerLimitReached
        } catch let error as SFUError where error.kind == .alreadyConsuming {
            throw RoomMediaError.alreadyConsuming
        }
        return ConsumerDescription(id: info.id, producerId: info.producerId, kind: info.kind, rtpParameters: info.rtpParameters)
    }

    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws {
        if paused { try await router.pauseConsumer(consumerId) } else { try await router.resumeConsumer(consumerId) }
    }

    func closeConsumer(_ consumerId: String) async { await router.closeConsumer(consumerId) }

    func close() async { await router.close() }
}
