public import MediasoupWire
import NIOCore
public import SFU
import Synchronization

/// A room's router, usable from any task: every call hops onto the router's worker loop
/// (`eventLoop.submit`) and back (design.md §4). Ids are mediasoup-style lower-case UUIDs.
///
/// Errors are ``SFUError``s; the app maps their kinds to MSAB's error strings.
public final class MediaRouter: Sendable {
    /// Lower-case UUID.
    public let id: String
    /// What `room:join` returns as `rtpCapabilities`.
    public let rtpCapabilities: RtpCapabilities
    /// Closures the room did not ask for and speaker events. One reader (the room); finishes
    /// when the router closes.
    public let events: AsyncStream<MediaRouterEvent>
    let worker: MediaWorker
    /// The worker it is pinned to (``MediaServer/workerConsumerCounts`` index).
    public let workerIndex: Int
    private let onClose: @Sendable () -> Void
    private let closed = Mutex(false)
    /// Pipe pairs with other routers and the copies of our producers on them (MediaRouter+Pipe).
    let pipes = Mutex(PipeState())

    init(
        id: String, rtpCapabilities: RtpCapabilities, events: AsyncStream<MediaRouterEvent>, worker: MediaWorker, workerIndex: Int = 0,
        onClose: @escaping @Sendable () -> Void
    ) {
        self.id = id
        self.rtpCapabilities = rtpCapabilities
        self.events = events
        self.worker = worker
        self.workerIndex = workerIndex
        self.onClose = onClose
    }

    func onRouter<T: Sendable>(_ body: @escaping @Sendable (Router, NIODeadline) throws(SFUError) -> T) async throws -> T {
        let id = self.id
        return try await worker.run { core, now in
            guard let router = core.router(id) else { throw SFUError(.routerClosed, id) }
            return try body(router, now)
        }
    }

    // MARK: - Transports

    /// A new WebRTC transport: `{id, iceParameters, iceCandidates, dtlsParameters}`.
    public func createWebRtcTransport() async throws -> WebRtcTransportInfo {
        try await onRouter { router, now throws(SFUError) in try router.createWebRtcTransport(now: now) }
    }

    /// `transport:connect`: the client's DTLS role and fingerprints.
    public func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws {
        try await onRouter { router, now throws(SFUError) in try router.connectTransport(transportId, dtlsParameters: dtlsParameters, now: now) }
    }

    /// New ICE credentials for the transport.
    public func restartIce(_ transportId: String) async throws -> IceParameters {
        try await onRouter { router, _ throws(SFUError) in try router.restartIce(transportId) }
    }

    /// Closes a transport and its producers/consumers (children's closures come as events).
    public func closeTransport(_ transportId: String) async {
        _ = try? await onRouter { router, _ in router.closeTransport(transportId) }
    }

    // MARK: - Producers

    /// Starts receiving an audio producer; returns its id.
    public func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        try await onRouter { router, _ throws(SFUError) in
            try router.produce(transportId: transportId, kind: kind, rtpParameters: rtpParameters, paused: paused)
        }
    }

    /// Pauses a producer, then its copies on other routers (``pipeToRouter(producerId:router:)``),
    /// as mediasoup's pipe consumer `producerpause` → pipe producer `pause()`.
    public func pauseProducer(_ producerId: String) async throws {
        try await onRouter { router, _ throws(SFUError) in try router.pauseProducer(producerId) }
        for copy in pipedCopies(of: producerId) { try? await copy.pauseProducer(producerId) }
    }

    /// Resumes a producer and its copies (the copies first: they must not drop the first packets).
    public func resumeProducer(_ producerId: String) async throws {
        for copy in pipedCopies(of: producerId) { try? await copy.resumeProducer(producerId) }
        try await onRouter { router, _ throws(SFUError) in try router.resumeProducer(producerId) }
    }

    /// Closes a producer, then its copies; the consumers of each close (with `consumerClosed`
    /// events). Also the way to propagate a closure the origin reported itself (idempotent).
    public func closeProducer(_ producerId: String) async {
        _ = try? await onRouter { router, _ in router.closeProducer(producerId) }
        for copy in takePipedCopies(of: producerId) { await copy.closeProducer(producerId) }
    }

    // MARK: - Consumers

    public func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool {
        (try? await onRouter { router, _ in router.canConsume(producerId: producerId, rtpCapabilities: rtpCapabilities) }) ?? false
    }

    /// A consumer of `producerId` on `transportId` (MSAB creates them paused).
    public func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities, paused: Bool) async throws -> ConsumerInfo {
        try await onRouter { router, now throws(SFUError) in
            try router.consume(transportId: transportId, producerId: producerId, rtpCapabilities: rtpCapabilities, paused: paused, now: now)
        }
    }

    public func pauseConsumer(_ consumerId: String) async throws {
        try await onRouter { router, _ throws(SFUError) in try router.pauseConsumer(consumerId) }
    }

    public func resumeConsumer(_ consumerId: String) async throws {
        try await onRouter { router, _ throws(SFUError) in try router.resumeConsumer(consumerId) }
    }

    public func closeConsumer(_ consumerId: String) async {
        _ = try? await onRouter { router, _ in router.closeConsumer(consumerId) }
    }

    // MARK: - Router

    /// Closes the router and everything in it; ``events`` finishes. Idempotent.
    public func close() async {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        let id = self.id
        let worker = self.worker
        _ = try? await worker.run { core, _ in
            core.router(id)?.close()
            worker.detach(routerId: id)
        }
        await closePipes()
        onClose()
    }

    /// Per transport/producer/consumer: packets, bytes, loss, jitter, RTT.
    public func stats() async -> RouterStats {
        (try? await onRouter { router, _ in router.stats }) ?? RouterStats(id: id, transports: [], producers: [], consumers: [])
    }
}
