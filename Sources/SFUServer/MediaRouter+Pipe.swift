public import MediasoupWire
import NIOCore
import SFU
import Synchronization

/// The two ends of a pipe between two routers: router id → its pipe transport id. One pair
/// serves both directions and every producer piped between the two (mediasoup caches one pair
/// per router pair in `router.pipeToRouter`).
struct PipePair: Sendable {
    let ends: [String: String]
}

/// A router's pipe bookkeeping (guarded by ``MediaRouter/pipes``).
struct PipeState: Sendable {
    /// Other router id → the pair being made or made (a task, so concurrent `pipeToRouter`
    /// calls for one router pair share one, as mediasoup's promise map does).
    var pairs: [String: Task<PipePair, any Error>] = [:]
    /// Other router id → that router (to close its end when we close).
    var peers: [String: MediaRouter] = [:]
    /// Our producer id → the routers holding a copy of it (pause/resume/close propagate there).
    var copies: [String: [MediaRouter]] = [:]
    var closed = false
}

extension MediaRouter {
    // MARK: - Pipe transports (mediasoup's PipeTransport API, one hop each)

    /// A pipe transport on this router: its local tuple and SRTP key for the other side.
    public func createPipeTransport(enableSrtp: Bool = true) async throws -> PipeTransportInfo {
        try await onRouter { router, _ throws(SFUError) in try router.createPipeTransport(enableSrtp: enableSrtp) }
    }

    /// Connects a pipe transport to the other side's tuple and key.
    public func connectPipeTransport(_ transportId: String, ip: String, port: UInt16, srtpParameters: SrtpParameters?) async throws {
        try await onRouter { router, _ throws(SFUError) in
            try router.connectPipeTransport(transportId, ip: ip, port: port, srtpParameters: srtpParameters)
        }
    }

    /// Starts sending `producerId` over a connected pipe transport.
    public func consumeOnPipe(transportId: String, producerId: String) async throws -> PipeConsumerInfo {
        try await onRouter { router, _ throws(SFUError) in try router.consumeOnPipe(transportId: transportId, producerId: producerId) }
    }

    /// Creates the copy of a remote producer (same id) fed by a connected pipe transport.
    public func produceOnPipe(
        transportId: String, producerId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool
    ) async throws -> String {
        try await onRouter { router, _ throws(SFUError) in
            try router.produceOnPipe(transportId: transportId, producerId: producerId, kind: kind, rtpParameters: rtpParameters, paused: paused)
        }
    }

    public func closePipeTransport(_ transportId: String) async {
        _ = try? await onRouter { router, _ in router.closePipeTransport(transportId) }
    }

    public func closePipeConsumer(_ pipeConsumerId: String) async {
        _ = try? await onRouter { router, _ in router.closePipeConsumer(pipeConsumerId) }
    }

    /// Whether a producer is paused; nil when the router has no such producer.
    public func isProducerPaused(_ producerId: String) async -> Bool? {
        (try? await onRouter { router, _ in router.isProducerPaused(producerId) }) ?? nil
    }

    // MARK: - pipeToRouter

    /// mediasoup `router.pipeToRouter({producerId, router})`: makes our producer `producerId`
    /// appear, with the same id, as a producer of `destination` (another worker's router), over
    /// the pipe pair of the two routers (made on first use). From then on pause, resume and close
    /// of the producer through this router reach the copy, whose consumers behave as a local
    /// producer's. Idempotent: a producer already piped there returns at once.
    ///
    /// The steps are mediasoup's: a pipe transport on each router, each connected with the
    /// other's (ip, port, srtpParameters); `consume` on our end; `produce` on theirs. The
    /// receiving worker refuses a (tuple, SSRC) it already has, which only a misbehaving peer
    /// node could cause (the SSRC is allocated per destination by our worker); it is retried
    /// with a fresh pipe consumer twice.
    public func pipeToRouter(producerId: String, router destination: MediaRouter) async throws {
        guard destination !== self, !isPiped(producerId, to: destination) else { return }
        let pair = try await pipePair(with: destination)
        guard let local = pair.ends[id], let remote = pair.ends[destination.id] else { throw SFUError(.internalError, "pipe pair") }
        var attempt = 0
        while true {
            let pipeConsumer = try await consumeOnPipe(transportId: local, producerId: producerId)
            do {
                _ = try await destination.produceOnPipe(
                    transportId: remote, producerId: producerId, kind: pipeConsumer.kind, rtpParameters: pipeConsumer.rtpParameters,
                    paused: pipeConsumer.producerPaused)
                break
            } catch let error as SFUError where error.kind == .producerIdInUse {
                // A concurrent pipeToRouter of the same producer won: its copy stands.
                await closePipeConsumer(pipeConsumer.id)
                return
            } catch let error as SFUError where error.kind == .ssrcInUse && attempt < 2 {
                await closePipeConsumer(pipeConsumer.id)
                attempt += 1
            } catch {
                await closePipeConsumer(pipeConsumer.id)
                throw error
            }
        }
        pipes.withLock { $0.copies[producerId, default: []].append(destination) }
        // The origin may have changed while the copy was made: bring the copy in line.
        switch await isProducerPaused(producerId) {
        case .none:
            _ = takePipedCopies(of: producerId)
            await destination.closeProducer(producerId)
            throw SFUError(.unknownProducer, producerId)
        case .some(true): try? await destination.pauseProducer(producerId)
        case .some(false): try? await destination.resumeProducer(producerId)
        }
    }

    /// The routers holding a copy of `producerId`.
    func pipedCopies(of producerId: String) -> [MediaRouter] {
        pipes.withLock { $0.copies[producerId] ?? [] }
    }

    /// The copies of `producerId`, forgotten (the producer is closing).
    func takePipedCopies(of producerId: String) -> [MediaRouter] {
        pipes.withLock { $0.copies.removeValue(forKey: producerId) ?? [] }
    }

    private func isPiped(_ producerId: String, to destination: MediaRouter) -> Bool {
        pipes.withLock { $0.copies[producerId]?.contains { $0 === destination } ?? false }
    }

    /// The pipe pair with `other`, made once and shared by both routers.
    private func pipePair(with other: MediaRouter) async throws -> PipePair {
        let task: Task<PipePair, any Error>? = pipes.withLock { state in
            guard !state.closed else { return nil }
            if let existing = state.pairs[other.id] { return existing }
            // An unstructured task bridges the shared result (the promise in mediasoup's
            // `#mapRouterPairPipeTransportPairPromise`); its callers await it, and its work is
            // a few control hops that end by themselves.
            let made = Task { try await Self.makePipePair(self, other) }
            state.pairs[other.id] = made
            state.peers[other.id] = other
            return made
        }
        guard let task else { throw SFUError(.routerClosed, id) }
        do {
            let pair = try await task.value
            other.adoptPipePair(task, with: self)
            return pair
        } catch {
            pipes.withLock { state in
                state.pairs[other.id] = nil
                state.peers[other.id] = nil
            }
            throw error
        }
    }

    /// The other router learns the pair, to reuse it the other way and to close its end with us.
    private func adoptPipePair(_ task: Task<PipePair, any Error>, with other: MediaRouter) {
        pipes.withLock { state in
            guard !state.closed, state.pairs[other.id] == nil else { return }
            state.pairs[other.id] = task
            state.peers[other.id] = other
        }
    }

    private static func makePipePair(_ a: MediaRouter, _ b: MediaRouter) async throws -> PipePair {
        let endA = try await a.createPipeTransport()
        let endB: PipeTransportInfo
        do {
            endB = try await b.createPipeTransport()
        } catch {
            await a.closePipeTransport(endA.id)
            throw error
        }
        do {
            try await a.connectPipeTransport(endA.id, ip: endB.ip, port: endB.port, srtpParameters: endB.srtpParameters)
            try await b.connectPipeTransport(endB.id, ip: endA.ip, port: endA.port, srtpParameters: endA.srtpParameters)
        } catch {
            await a.closePipeTransport(endA.id)
            await b.closePipeTransport(endB.id)
            throw error
        }
        return PipePair(ends: [a.id: endA.id, b.id: endB.id])
    }

    /// At close: every peer closes its end of our pairs (its copies of our producers close with
    /// `consumerClosed` events for their consumers) and forgets us.
    func closePipes() async {
        let (pairs, peers) = pipes.withLock { state in
            state.closed = true
            defer {
                state.pairs = [:]
                state.peers = [:]
                state.copies = [:]
            }
            return (state.pairs, state.peers)
        }
        for (otherId, other) in peers {
            guard let pair = try? await pairs[otherId]?.value, let end = pair.ends[otherId] else { continue }
            await other.peerClosed(id, pipeTransportId: end)
        }
    }

    private func peerClosed(_ otherId: String, pipeTransportId: String) async {
        pipes.withLock { state in
            state.pairs[otherId] = nil
            state.peers[otherId] = nil
            for key in Array(state.copies.keys) {
                state.copies[key]?.removeAll { $0.id == otherId }
                if state.copies[key]?.isEmpty == true { state.copies[key] = nil }
            }
        }
        await closePipeTransport(pipeTransportId)
    }
}
