import Logging
public import MediasoupWire
import Metrics
import NIOCore
import NIOPosix
public import ServiceLifecycle
import SFU
import Synchronization

/// The media plane of msab: N workers, each an event loop with one UDP port (`minPort + k`).
/// A `Service`: `run()` binds the ports and serves until graceful shutdown.
public final class MediaServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var listenIP: String
        /// The address put in ICE candidates (defaults to the listen IP, or 127.0.0.1 for 0.0.0.0).
        public var announcedIP: String?
        public var minPort: Int
        public var numWorkers: Int

        public init(listenIP: String = "0.0.0.0", announcedIP: String? = nil, minPort: Int = 10_000, numWorkers: Int = 1) {
            self.listenIP = listenIP
            self.announcedIP = announcedIP
            self.minPort = minPort
            self.numWorkers = max(1, numWorkers)
        }
    }

    public let configuration: Configuration
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let workers: [MediaWorker]
    let readiness = Mutex<(ready: Bool, failure: String?, waiters: [CheckedContinuation<Void, any Error>])>((false, nil, []))
    let objectCounts = Mutex<[Int: (routers: Int, transports: Int, producers: Int, consumers: Int)]>([:])

    public init(configuration: Configuration, logger: Logger = Logger(label: "msab.sfu")) {
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.numWorkers)
        var loops = group.makeIterator()
        workers = (0..<configuration.numWorkers).map { MediaWorker(index: $0, eventLoop: loops.next()!, logger: logger) }
    }

    public var announcedIP: String {
        if let announced = configuration.announcedIP { return announced }
        return configuration.listenIP == "0.0.0.0" || configuration.listenIP == "::" ? "127.0.0.1" : configuration.listenIP
    }

    public struct NotReady: Error, CustomStringConvertible {
        public var description: String
    }

    public func run() async throws {
        do {
            for worker in workers {
                try await worker.bind(host: configuration.listenIP, port: configuration.minPort + worker.index, announced: announcedIP)
                logger.info("media worker listening", metadata: ["worker": "\(worker.index)", "port": "\(configuration.minPort + worker.index)"])
            }
        } catch {
            let waiters = readiness.withLock { state -> [CheckedContinuation<Void, any Error>] in
                state.failure = "\(error)"
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: NotReady(description: "\(error)")) }
            throw error
        }
        let waiters = readiness.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.ready = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        let tasks = workers.map { worker in
            worker.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { _ in
                self.tick(worker)
            }
        }
        // Serve until graceful shutdown.
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully { try? await Task.sleep(for: .milliseconds(100)) }
        } onGracefulShutdown: {}
        for task in tasks { task.cancel() }
        for worker in workers {
            try? await worker.eventLoop.submit {
                for router in worker.core.allRouters { router.close() }
                worker.flush()
            }.get()
            try? await worker.channel?.close()
        }
        try? await group.shutdownGracefully()
    }

    /// Waits until the UDP ports are bound.
    public func waitUntilReady() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let state = readiness.withLock { state -> (Bool, String?) in
                if !state.ready && state.failure == nil { state.waiters.append(continuation) }
                return (state.ready, state.failure)
            }
            if state.0 { continuation.resume() } else if let failure = state.1 { continuation.resume(throwing: NotReady(description: failure)) }
        }
    }

    /// A router on the worker with the fewest routers (contract §5.1).
    public func createRouter(mediaCodecs: [RtpCodecCapability]) async throws -> MediaRouter {
        try await waitUntilReady()
        let counts = objectCounts.withLock { $0 }
        let worker = workers.min { (counts[$0.index]?.routers ?? 0) < (counts[$1.index]?.routers ?? 0) }!
        let (stream, continuation) = AsyncStream.makeStream(of: MediaRouterEvent.self)
        let info = try await worker.run { core -> (String, RtpCapabilities) in
            let router = try Router(mediaCodecs: mediaCodecs, worker: core) { event in continuation.yield(event) }
            return (router.id, router.rtpCapabilities)
        }
        objectCounts.withLock { $0[worker.index, default: (0, 0, 0, 0)].routers += 1 }
        return MediaRouter(id: info.0, rtpCapabilities: info.1, worker: worker, events: stream, continuation: continuation, server: self)
    }

    // MARK: - metrics (published from each worker's tick)

    func tick(_ worker: MediaWorker) {
        let core = worker.core!
        core.tick(now: MediaWorker.nowMs())
        worker.flush()
        let deltaIn = core.packetsIn - worker.published.packetsIn
        let deltaOut = core.packetsOut - worker.published.packetsOut
        if deltaIn > 0 { Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "in")]).increment(by: deltaIn) }
        if deltaOut > 0 { Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "out")]).increment(by: deltaOut) }
        for (reason, count) in core.drops where count != worker.published.drops[reason] ?? 0 {
            Counter(label: "msab_sfu_drops_total", dimensions: [("reason", reason.rawValue)]).increment(by: count - (worker.published.drops[reason] ?? 0))
        }
        worker.published = .init(packetsIn: core.packetsIn, packetsOut: core.packetsOut, drops: core.drops)
        let mine = core.objectCounts
        let totals = objectCounts.withLock { counts -> (Int, Int, Int, Int) in
            counts[worker.index] = mine
            return counts.values.reduce((0, 0, 0, 0)) { ($0.0 + $1.routers, $0.1 + $1.transports, $0.2 + $1.producers, $0.3 + $1.consumers) }
        }
        Gauge(label: "msab_sfu_routers").record(totals.0)
        Gauge(label: "msab_sfu_transports").record(totals.1)
        Gauge(label: "msab_sfu_producers").record(totals.2)
        Gauge(label: "msab_sfu_consumers").record(totals.3)
    }

    /// Totals across workers (for /health and tests).
    public var routerCount: Int { objectCounts.withLock { $0.values.reduce(0) { $0 + $1.routers } } }
}

extension WorkerCore {
    var allRouters: [Router] { routerIds.compactMap { router($0) } }
}
