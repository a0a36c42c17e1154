import MediasoupWire
import SFUServer
import Synchronization

/// A room's media on the SFU: one router, or several on different workers of this node joined by
/// pipe transports (issue 13). The room sees one `RoomRouter` either way: same ids, events and
/// errors.
///
/// The room's router starts on one worker (the *primary*). A new transport goes there while that
/// worker holds fewer than `maxConsumersPerWorker` consumers (`MSAB_MAX_CONSUMERS_PER_WORKER`);
/// after that it goes to the room's router on the least-loaded worker, created on first use.
/// Every producer lives on the router of its transport (its *origin*) and is piped
/// (`MediaRouter.pipeToRouter`) to every other router of the room, so any listener can consume
/// it where its transport is, and the primary has all of them: its speaker observers are the
/// room's (the other routers have none), so `speaker:active` stays room-wide.
/// Pause, resume and close go to the origin, which passes them on to the copies; a closure the
/// origin reports itself (its transport closed) is passed on the same way.
///
/// Transports, producers and consumers are addressed by id; the maps below say which router
/// holds each. Every map is bounded by the room's own objects (the room bounds those).
final class SFURoomRouter: RoomRouter {
    private struct State {
        /// Worker index → the room's router there (the primary included).
        var routers: [Int: MediaRouter] = [:]
        /// Routers being created, so concurrent placements share one.
        var creating: [Int: Task<MediaRouter, any Error>] = [:]
        var transportRouter: [String: MediaRouter] = [:]
        var producerOrigin: [String: MediaRouter] = [:]
        var consumerRouter: [String: MediaRouter] = [:]
        /// Pipes to other nodes (exports: our producers sent out; imports: theirs received) →
        /// the router holding the pipe transport.
        var nodePipeRouter: [String: MediaRouter] = [:]
        var pumps: [Task<Void, Never>] = []
        var closed = false
    }

    let primary: MediaRouter
    private let server: MediaServer
    private let maxConsumersPerWorker: Int
    let mediaEvents: AsyncStream<MediaRouterEvent>
    private let continuation: AsyncStream<MediaRouterEvent>.Continuation
    private let state = Mutex(State())

    init(primary: MediaRouter, server: MediaServer, maxConsumersPerWorker: Int) {
        self.primary = primary
        self.server = server
        self.maxConsumersPerWorker = maxConsumersPerWorker
        (mediaEvents, continuation) = AsyncStream.makeStream(of: MediaRouterEvent.self)
        state.withLock { $0.routers[primary.workerIndex] = primary }
        startPump(for: primary, isPrimary: true)
        continuation.onTermination = { [weak self] _ in
            for pump in self?.state.withLock({ $0.pumps }) ?? [] { pump.cancel() }
        }
    }

    var id: String { primary.id }
    var rtpCapabilities: RtpCapabilities { primary.rtpCapabilities }

    // MARK: - Events

    /// Forwards one router's events to the room. A producer closure reported by its origin is
    /// passed on to its copies first; speaker events count only from the primary.
    private func startPump(for router: MediaRouter, isPrimary: Bool) {
        let continuation = self.continuation
        let pump = Task { [weak self] in
            for await event in router.events {
                switch event {
                case .transportClosed(let id, _):
                    self?.forget(transport: id)
                case .producerClosed(let id, _):
                    // Idempotent on the origin; closes the copies (their consumers report).
                    await router.closeProducer(id)
                    self?.forget(producer: id)
                case .consumerClosed(let id, _):
                    self?.forget(consumer: id)
                case .dominantSpeaker, .audioLevels, .silence:
                    guard isPrimary else { continue }
                }
                continuation.yield(event)
            }
            // The primary's stream ends when the room's router closes.
            if isPrimary { continuation.finish() }
        }
        state.withLock { $0.pumps.append(pump) }
    }

    private func forget(transport id: String) { state.withLock { _ = $0.transportRouter.removeValue(forKey: id) } }
    private func forget(producer id: String) { state.withLock { _ = $0.producerOrigin.removeValue(forKey: id) } }
    private func forget(consumer id: String) { state.withLock { _ = $0.consumerRouter.removeValue(forKey: id) } }

    // MARK: - Placement

    /// The router a new transport goes to (see the type's comment).
    private func placeTransport() async throws -> MediaRouter {
        let counts = server.workerConsumerCounts
        guard counts.indices.contains(primary.workerIndex), counts[primary.workerIndex] >= maxConsumersPerWorker else { return primary }
        let index = server.leastLoadedWorker()
        guard index != primary.workerIndex else { return primary }
        return try await router(onWorker: index)
    }

    /// The room's router on worker `index`, created (and given every producer of the room) on
    /// first use.
    private func router(onWorker index: Int) async throws -> MediaRouter {
        enum Found {
            case ready(MediaRouter)
            case pending(Task<MediaRouter, any Error>)
        }
        let server = self.server
        let found: Found? = state.withLock { state in
            guard !state.closed else { return nil }
            if let router = state.routers[index] { return .ready(router) }
            if let task = state.creating[index] { return .pending(task) }
            // Shared by concurrent placements (a promise); ends by itself after two hops.
            let task = Task {
                try await server.createRouter(mediaCodecs: SFUMediaPlane.routerMediaCodecs, workerIndex: index, speakerObservers: false)
            }
            state.creating[index] = task
            return .pending(task)
        }
        switch found {
        case .none:
            throw SFUError(.routerClosed, id)
        case .ready(let router):
            return router
        case .pending(let task):
            let router: MediaRouter
            do {
                router = try await task.value
            } catch {
                state.withLock { _ = $0.creating.removeValue(forKey: index) }
                throw error
            }
            let (first, closed, producers) = state.withLock { state -> (Bool, Bool, [(String, MediaRouter)]) in
                let first = state.routers[index] == nil
                if first, !state.closed {
                    state.routers[index] = router
                    state.creating[index] = nil
                }
                return (first, state.closed, state.producerOrigin.map { ($0.key, $0.value) })
            }
            if closed {
                if first { await router.close() }
                throw SFUError(.routerClosed, id)
            }
            if first {
                startPump(for: router, isPrimary: false)
                for (producerId, origin) in producers { try? await origin.pipeToRouter(producerId: producerId, router: router) }
            }
            return router
        }
    }

    private func routerFor(transport id: String) -> MediaRouter { state.withLock { $0.transportRouter[id] } ?? primary }
    private func routerFor(consumer id: String) -> MediaRouter { state.withLock { $0.consumerRouter[id] } ?? primary }
    private func origin(of producerId: String) -> MediaRouter { state.withLock { $0.producerOrigin[producerId] } ?? primary }

    // MARK: - Transports

    func createTransport() async throws -> WebRtcTransportInfo {
        let router = try await placeTransport()
        let info = try await router.createWebRtcTransport()
        state.withLock { $0.transportRouter[info.id] = router }
        return info
    }

    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws {
        try await routerFor(transport: transportId).connectTransport(transportId, dtlsParameters: dtlsParameters)
    }

    func restartIce(_ transportId: String) async throws -> IceParameters { try await routerFor(transport: transportId).restartIce(transportId) }

    func closeTransport(_ transportId: String) async {
        let router = routerFor(transport: transportId)
        // Its producers' closures come back as events, and the pump passes them on.
        await router.closeTransport(transportId)
        forget(transport: transportId)
    }

    // MARK: - Producers

    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        let router = routerFor(transport: transportId)
        let producerId = try await router.produce(transportId: transportId, kind: kind, rtpParameters: rtpParameters, paused: paused)
        let others = state.withLock { state in
            state.producerOrigin[producerId] = router
            return state.routers.values.filter { $0 !== router }
        }
        // Before the ack: listeners elsewhere consume it as soon as `audio:newProducer` is out.
        for other in others { try? await router.pipeToRouter(producerId: producerId, router: other) }
        return producerId
    }

    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws {
        let origin = origin(of: producerId)
        if paused { try await origin.pauseProducer(producerId) } else { try await origin.resumeProducer(producerId) }
    }

    func closeProducer(_ producerId: String) async {
        await origin(of: producerId).closeProducer(producerId)
        forget(producer: producerId)
    }

    // MARK: - Consumers

    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool {
        await origin(of: producerId).canConsume(producerId: producerId, rtpCapabilities: rtpCapabilities)
    }

    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerInfo {
        let router = routerFor(transport: transportId)
        let origin = origin(of: producerId)
        // Idempotent: a producer already piped there (the usual case) costs a lock.
        if origin !== router { try await origin.pipeToRouter(producerId: producerId, router: router) }
        let info: ConsumerInfo
        do {
            info = try await router.consume(transportId: transportId, producerId: producerId, rtpCapabilities: rtpCapabilities, paused: true)
        } catch let error as SFUError where error.kind == .consumerLimitReached {
            throw RoomMediaError.consumerLimitReached
        } catch let error as SFUError where error.kind == .alreadyConsuming {
            throw RoomMediaError.alreadyConsuming
        }
        state.withLock { $0.consumerRouter[info.id] = router }
        return info
    }

    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws {
        let router = routerFor(consumer: consumerId)
        if paused { try await router.pauseConsumer(consumerId) } else { try await router.resumeConsumer(consumerId) }
    }

    func closeConsumer(_ consumerId: String) async {
        await routerFor(consumer: consumerId).closeConsumer(consumerId)
        forget(consumer: consumerId)
    }

    // MARK: - Pipes to other nodes

    /// An imported producer's copy lives on the primary, like a local producer of the room: the
    /// other workers' routers get it by `pipeToRouter` on first consume, and pause/resume/close
    /// through the primary reach them.
    func openImportPipe() async throws -> (pipeId: String, end: PipeEnd) {
        let info = try await primary.createPipeTransport()
        state.withLock { $0.nodePipeRouter[info.id] = primary }
        return (info.id, PipeEnd(ip: info.ip, port: info.port, srtpParameters: info.srtpParameters))
    }

    func completeImport(
        pipeId: String, producerId: String, remote: PipeEnd, kind: MediaKind, rtpParameters: RtpParameters,
        paused: Bool
    ) async throws {
        try await primary.connectPipeTransport(pipeId, ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters)
        _ = try await primary.produceOnPipe(transportId: pipeId, producerId: producerId, kind: kind, rtpParameters: rtpParameters, paused: paused)
        state.withLock { $0.producerOrigin[producerId] = primary }
    }

    func closeImport(pipeId: String, producerId: String) async {
        // The copy first, through the primary, so its copies on other workers close too.
        if state.withLock({ $0.producerOrigin[producerId] }) === primary { await primary.closeProducer(producerId) }
        forget(producer: producerId)
        await primary.closePipeTransport(pipeId)
        state.withLock { _ = $0.nodePipeRouter.removeValue(forKey: pipeId) }
    }

    func exportProducer(_ producerId: String, to remote: PipeEnd) async throws -> (
        pipeId: String, end: PipeEnd, kind: MediaKind,
        rtpParameters: RtpParameters, paused: Bool
    ) {
        guard let origin = state.withLock({ $0.producerOrigin[producerId] }) else { throw SFUError(.unknownProducer, producerId) }
        let info = try await origin.createPipeTransport()
        state.withLock { $0.nodePipeRouter[info.id] = origin }
        do {
            try await origin.connectPipeTransport(info.id, ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters)
            let consumer = try await origin.consumeOnPipe(transportId: info.id, producerId: producerId)
            return (
                info.id, PipeEnd(ip: info.ip, port: info.port, srtpParameters: info.srtpParameters), consumer.kind, consumer.rtpParameters,
                consumer.producerPaused
            )
        } catch {
            await closeExport(pipeId: info.id)
            throw error
        }
    }

    func closeExport(pipeId: String) async {
        guard let router = state.withLock({ $0.nodePipeRouter.removeValue(forKey: pipeId) }) else { return }
        await router.closePipeTransport(pipeId)
    }

    // MARK: - Close

    /// Closes every router of the room, the primary last (its stream's end ends ours).
    func close() async {
        let (secondaries, creating) = state.withLock { state -> ([MediaRouter], [Task<MediaRouter, any Error>]) in
            state.closed = true
            return (state.routers.values.filter { $0 !== primary }, Array(state.creating.values))
        }
        for task in creating { if let router = try? await task.value { await router.close() } }
        for router in secondaries { await router.close() }
        await primary.close()
    }
}
