import Logging
public import MediasoupWire
import Metrics
import NIOCore
import NIOPosix
public import SFU
public import ServiceLifecycle
import Synchronization

/// The media plane of msab: `numWorkers` workers, each one event loop with one UDP port
/// (`minPort + k`) shared by all its transports (mediasoup WebRtcServer style).
///
/// A swift-service-lifecycle `Service`: ``run()`` binds the ports and serves until graceful
/// shutdown, then closes every router. ``createRouter(mediaCodecs:)`` waits for the ports and
/// pins the router to the worker with the fewest routers (contract §5.1).
public final class MediaServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// The address the UDP sockets bind to.
        public var listenIP: String
        /// The address put in ICE candidates; nil: the listen IP, or 127.0.0.1 when listening on
        /// 0.0.0.0 / ::.
        public var announcedIP: String?
        /// Worker k listens on `minPort + k`.
        public var minPort: Int
        public var numWorkers: Int
        /// The speaker observers every router gets.
        public var observers: SpeakerObserverSettings
        /// See ``SFUWorker/Settings/maxConsumersPerTransport`` (32).
        public var maxConsumersPerTransport: Int

        public init(
            listenIP: String = "0.0.0.0", announcedIP: String? = nil, minPort: Int = 10_000, numWorkers: Int = 1,
            observers: SpeakerObserverSettings = SpeakerObserverSettings(), maxConsumersPerTransport: Int = 32,
            pipeAnnouncedIP: String? = nil
        ) {
            self.pipeAnnouncedIP = pipeAnnouncedIP
            self.listenIP = listenIP
            self.announcedIP = announcedIP
            self.minPort = minPort
            self.numWorkers = max(1, numWorkers)
            self.observers = observers
            self.maxConsumersPerTransport = max(1, maxConsumersPerTransport)
        }

        /// `MSAB_PIPE_IP`: when set, what ``pipeIP`` is (an address of this host other nodes reach).
        public var pipeAnnouncedIP: String?

        /// The address a worker's pipe transports report, i.e. the source address the other
        /// workers of this node see: the listen IP, or loopback when listening on a wildcard
        /// (the kernel then sends worker-to-worker datagrams from 127.0.0.1 / ::1), unless
        /// ``pipeAnnouncedIP`` names an address other nodes can reach (pipes across nodes).
        public var pipeIP: String {
            if let pipeAnnouncedIP, !pipeAnnouncedIP.isEmpty { return pipeAnnouncedIP }
            return switch listenIP {
            case "0.0.0.0": "127.0.0.1"
            case "::": "::1"
            default: listenIP
            }
        }

        /// What ICE candidates carry when nothing else is known: the announced IP, else the listen
        /// IP, else (wildcard) 127.0.0.1.
        public var effectiveAnnouncedIP: String {
            if let announcedIP, !announcedIP.isEmpty { return announcedIP }
            return listenIP == "0.0.0.0" || listenIP == "::" ? "127.0.0.1" : listenIP
        }

        /// The host candidates' addresses, best first: the announced IP alone when set; on a
        /// wildcard listen address every usable interface address (non-loopback first, loopback
        /// last; see ``HostCandidateAddresses``).
        public func announcedAddresses(interfaceAddresses: [String]) -> [String] {
            HostCandidateAddresses.select(listenIP: listenIP, announcedIP: announcedIP, interfaceAddresses: interfaceAddresses)
        }
    }

    private enum Lifecycle {
        case idle
        case starting
        case running
        case failed(String)
        case stopped
    }

    private struct State {
        var lifecycle = Lifecycle.idle
        var waiters: [CheckedContinuation<Void, any Error>] = []
        /// Per worker: routers (kept exact at create/close), and the rest as of the last tick.
        var counts: [WorkerObjectCounts]
    }

    public let configuration: Configuration
    let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    let workers: [MediaWorker]
    private let state: Locked<State>

    /// Creates the workers (and their certificates); nothing is bound until ``run()``.
    public init(configuration: Configuration, logger: Logger = Logger(label: "msab.sfu")) {
        self.configuration = configuration
        self.logger = logger
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.numWorkers)
        self.group = group
        let state = Locked(State(counts: Array(repeating: WorkerObjectCounts(), count: configuration.numWorkers)))
        self.state = state
        var loops = group.makeIterator()
        let gauges = (
            routers: Gauge(label: "msab_sfu_routers"), transports: Gauge(label: "msab_sfu_transports"),
            producers: Gauge(label: "msab_sfu_producers"), consumers: Gauge(label: "msab_sfu_consumers")
        )
        let report: @Sendable (Int, WorkerObjectCounts) -> Void = { index, counts in
            let totals = state.withLock { state -> WorkerObjectCounts in
                // Routers are counted at create/close; the tick's view of them may lag.
                state.counts[index].transports = counts.transports
                state.counts[index].producers = counts.producers
                state.counts[index].consumers = counts.consumers
                return state.counts.reduce(into: WorkerObjectCounts()) {
                    $0.routers += $1.routers
                    $0.transports += $1.transports
                    $0.producers += $1.producers
                    $0.consumers += $1.consumers
                }
            }
            gauges.routers.record(totals.routers)
            gauges.transports.record(totals.transports)
            gauges.producers.record(totals.producers)
            gauges.consumers.record(totals.consumers)
        }
        // Read once at start: addresses that appear later (a new VPN) are not announced until restart.
        let addresses = configuration.announcedAddresses(interfaceAddresses: HostCandidateAddresses.localInterfaceAddresses())
        logger.info("media host candidates", metadata: ["sfu.addresses": "\(addresses.joined(separator: ","))"])
        self.workers = (0..<configuration.numWorkers).map { index in
            // Certificate generation cannot fail short of OpenSSL being broken.
            try! MediaWorker(
                index: index, eventLoop: loops.next()!, announcedAddresses: addresses, pipeAddress: configuration.pipeIP,
                port: configuration.minPort + index, maxConsumersPerTransport: configuration.maxConsumersPerTransport, logger: logger,
                reportCounts: report)
        }
    }

    // MARK: - Service

    /// Binds every worker's port, serves until graceful shutdown (or cancellation), then closes
    /// all routers and sockets.
    public func run() async throws {
        state.withLock { $0.lifecycle = .starting }
        do {
            for worker in workers {
                let port = configuration.minPort + worker.index
                try await worker.bind(host: configuration.listenIP, port: port)
                logger.info("media worker listening", metadata: ["sfu.worker": "\(worker.index)", "sfu.port": "\(port)"])
            }
        } catch {
            let waiters = state.withLock { state in
                state.lifecycle = .failed("\(error)")
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: SFUError(.notRunning, "\(error)")) }
            await stopWorkers()
            throw error
        }
        let waiters = state.withLock { state in
            state.lifecycle = .running
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }

        // Serve until graceful shutdown or cancellation.
        let (shutdown, shutdownContinuation) = AsyncStream.makeStream(of: Void.self)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                for await _ in shutdown {}
            } onCancel: {
                shutdownContinuation.finish()
            }
        } onGracefulShutdown: {
            shutdownContinuation.finish()
        }
        state.withLock { $0.lifecycle = .stopped }
        await stopWorkers()
    }

    private func stopWorkers() async {
        for worker in workers { await worker.shutdown() }
        try? await group.shutdownGracefully()
    }

    /// Returns once the ports are bound; throws if binding failed or the server stopped.
    public func waitUntilReady() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, SFUError>? = state.withLock { state in
                switch state.lifecycle {
                case .running: return .success(())
                case .failed(let reason): return .failure(SFUError(.notRunning, reason))
                case .stopped: return .failure(SFUError(.notRunning, "stopped"))
                case .idle, .starting:
                    state.waiters.append(continuation)
                    return nil
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    // MARK: - Routers

    /// A router on the worker with the fewest routers (ties: the first), or on worker
    /// `workerIndex` when given (a room spreading its listeners, see ``leastLoadedWorker()``);
    /// without speaker observers when `speakerObservers` is false (a room's second router).
    public func createRouter(mediaCodecs: [RtpCodecCapability], workerIndex: Int? = nil, speakerObservers: Bool = true) async throws -> MediaRouter {
        try await waitUntilReady()
        let index = state.withLock { state in
            let index: Int
            if let workerIndex, state.counts.indices.contains(workerIndex) {
                index = workerIndex
            } else {
                index = state.counts.indices.min { state.counts[$0].routers < state.counts[$1].routers } ?? 0
            }
            state.counts[index].routers += 1
            return index
        }
        let worker = workers[index]
        let (events, continuation) = AsyncStream.makeStream(of: MediaRouterEvent.self)
        let observers = speakerObservers ? configuration.observers : nil
        do {
            let (id, capabilities) = try await worker.run { core, _ in
                let router = try Router.make(mediaCodecs: mediaCodecs, worker: core, observers: observers)
                worker.attach(routerId: router.id, continuation: continuation)
                return (router.id, router.rtpCapabilities)
            }
            return MediaRouter(id: id, rtpCapabilities: capabilities, events: events, worker: worker, workerIndex: index) { [state] in
                state.withLock { $0.counts[index].routers -= 1 }
            }
        } catch {
            state.withLock { $0.counts[index].routers -= 1 }
            continuation.finish()
            throw error
        }
    }

    /// Each worker's client consumers, as of its last tick (20 ms), so a burst of consumes
    /// between two ticks is not seen; the placement it feeds is a threshold, not an exact count.
    public var workerConsumerCounts: [Int] { state.withLock { $0.counts.map(\.consumers) } }

    /// The worker with the fewest consumers (ties: the fewest routers, then the first).
    public func leastLoadedWorker() -> Int {
        state.withLock { state in
            state.counts.indices.min {
                (state.counts[$0].consumers, state.counts[$0].routers) < (state.counts[$1].consumers, state.counts[$1].routers)
            } ?? 0
        }
    }

    /// Routers alive across workers.
    public var routerCount: Int { state.withLock { $0.counts.reduce(0) { $0 + $1.routers } } }

    /// Objects alive across workers (transports, producers and consumers as of the last tick).
    public var objectCounts: (routers: Int, transports: Int, producers: Int, consumers: Int) {
        state.withLock { state in
            state.counts.reduce((0, 0, 0, 0)) { ($0.0 + $1.routers, $0.1 + $1.transports, $0.2 + $1.producers, $0.3 + $1.consumers) }
        }
    }

    /// The UDP port of each worker.
    public var ports: [Int] { workers.map { configuration.minPort + $0.index } }

    /// CPU time used so far by each worker's event-loop thread (for benchmarks and ops).
    public func workerCPUTimes() async -> [ThreadCPUTime] {
        var times: [ThreadCPUTime] = []
        for worker in workers { times.append(await worker.threadCPUTime()) }
        return times
    }

    /// Datagrams sent and `sendmmsg` calls made, summed over workers (the bench's batch size).
    public func sendBatches() async -> (datagrams: UInt64, calls: UInt64) {
        var total: (datagrams: UInt64, calls: UInt64) = (0, 0)
        for worker in workers {
            let batches = await worker.sendBatches()
            total = (total.datagrams &+ batches.datagrams, total.calls &+ batches.calls)
        }
        return total
    }

    /// Packet-path counters summed over workers (read on each worker's loop).
    public func counters() async -> SFUCounters {
        var total = SFUCounters()
        for worker in workers {
            let (counters, _) = await worker.snapshot()
            total.datagramsIn &+= counters.datagramsIn
            total.rtpIn &+= counters.rtpIn
            total.rtpOut &+= counters.rtpOut
            total.rtcpOut &+= counters.rtcpOut
            total.retransmissions &+= counters.retransmissions
            for index in total.drops.indices { total.drops[index] &+= counters.drops[index] }
        }
        return total
    }
}

/// A `Mutex` in a class, so closures can share it (a `Mutex` is non-copyable).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<R: Sendable>(_ body: (inout sending Value) throws -> sending R) rethrows -> R {
        try mutex.withLock(body)
    }
}
