public import MediasoupWire
public import SFU
import Synchronization

/// A room's router, from anywhere: every call hops onto the router's worker loop and back
/// (the async control API of design.md §4). Ids are mediasoup-style lower-case UUIDs.
public final class MediaRouter: Sendable {
    public let id: String
    public let rtpCapabilities: RtpCapabilities
    /// Router events; one reader (the room). Finishes when the router closes.
    public let events: AsyncStream<MediaRouterEvent>
    let continuation: AsyncStream<MediaRouterEvent>.Continuation
    let worker: MediaWorker
    unowned let server: MediaServer

    init(id: String, rtpCapabilities: RtpCapabilities, worker: MediaWorker, events: AsyncStream<MediaRouterEvent>,
         continuation: AsyncStream<MediaRouterEvent>.Continuation, server: MediaServer) {
        self.id = id
        self.rtpCapabilities = rtpCapabilities
        self.worker = worker
        self.events = events
        self.continuation = continuation
        self.server = server
    }

    func onRouter<T: Sendable>(_ body: @escaping @Sendable (Router) throws -> T) async throws -> T {
        let id = self.id
        return try await worker.run { core in
            guard let router = core.router(id) else { throw SFUError(.unknownRouter, id) }
            return try body(router)
        }
    }

    public func createWebRtcTransport() async throws -> WebRtcTransportInfo {
        try await onRouter { $0.createWebRtcTransport() }
    }

    public func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws {
        try await onRouter { try $0.connectTransport(transportId, dtlsParameters: dtlsParameters) }
    }

    public func restartIce(_ transportId: String) async throws -> IceParameters {
        try await onRouter { try $0.restartIce(transportId) }
    }

    public func closeTransport(_ transportId: String) async {
        _ = try? await onRouter { $0.closeTransport(transportId) }
    }

    public func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        try await onRouter { try $0.produce(transportId: transportId, kind: kind, rtpParameters: rtpParameters, paused: paused) }
    }

    public func pauseProducer(_ id: String) async throws { try await onRouter { try $0.setProducerPaused(id, true) } }
    public func resumeProducer(_ id: String) async throws { try await onRouter { try $0.setProducerPaused(id, false) } }
    public func closeProducer(_ id: String) async { _ = try? await onRouter { $0.closeProducer(id) } }

    public func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool {
        (try? await onRouter { $0.canConsume(producerId: producerId, rtpCapabilities: rtpCapabilities) }) ?? false
    }

    public func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities, paused: Bool) async throws -> ConsumerInfo {
        try await onRouter { try $0.consume(transportId: transportId, producerId: producerId, rtpCapabilities: rtpCapabilities, paused: paused) }
    }

    public func pauseConsumer(_ id: String) async throws { try await onRouter { try $0.setConsumerPaused(id, true) } }
    public func resumeConsumer(_ id: String) async throws { try await onRouter { try $0.setConsumerPaused(id, false) } }
    public func closeConsumer(_ id: String) async { _ = try? await onRouter { $0.closeConsumer(id) } }

    /// Closes the router and everything in it; the event stream finishes.
    public func close() async {
        _ = try? await onRouter { $0.close() }
        server.objectCounts.withLock { $0[worker.index, default: (0, 0, 0, 0)].routers -= 1 }
        continuation.finish()
    }
}
