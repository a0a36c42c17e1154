import EngineIO
import EngineIOHummingbird
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import SFUServer
import ServiceLifecycle
import SocketIO
import UnixSignals

/// Builds the whole server from a configuration: `prepare` resolves secrets and the identity
/// provider, `buildApplication` makes the production object graph (Hummingbird's pattern,
/// style.md §1.1.6), which AudioRoomsAppTests builds and drives too, and `run` runs it.
public enum MSABApplication {
    /// Everything the running server is made of.
    public struct Parts: Sendable {
        public var configuration: Configuration
        public var dataDirectory: DataDirectory
        public var authenticator: any UserAuthenticator
        /// Only in stand-alone mode: the authority that signs tokens (`msab token`, `make run`).
        public var tokenAuthority: TokenAuthority?
        public var internalKey: String
        /// HTTPS/WSS when `SSL_KEY_PATH` and `SSL_CERT_PATH` are set (loaded and checked at start).
        public var tls: TLSConfiguration?
    }

    /// Resolves secrets and the identity provider for a configuration.
    public static func prepare(_ configuration: Configuration, sharedTokens: (any SharedTokenCache)? = nil) async throws -> Parts {
        let dataDirectory: DataDirectory
        do {
            dataDirectory = try DataDirectory(path: configuration.dataDirectory)
        } catch {
            throw ConfigurationError(
                variable: "MSAB_DATA_DIR", problem: "cannot create \(configuration.dataDirectory): \(error.localizedDescription)")
        }
        var tls: TLSConfiguration?
        if let keyPath = configuration.sslKeyPath, let certificatePath = configuration.sslCertPath {
            tls = try TLSSetup.serverConfiguration(keyPath: keyPath, certificatePath: certificatePath)
        }
        if let url = configuration.laravelAPIURL, let key = configuration.laravelInternalKey {
            let validator = SanctumValidator(http: LaravelHTTP(baseURL: url, internalKey: key), shared: sharedTokens)
            return Parts(
                configuration: configuration, dataDirectory: dataDirectory, authenticator: validator,
                tokenAuthority: nil, internalKey: key, tls: tls)
        }
        let secret = try configuration.jwtSecret ?? dataDirectory.secret(named: "jwt-secret")
        let authority = await TokenAuthority(secret: secret)
        let internalKey = try configuration.internalKey ?? dataDirectory.secret(named: "internal-key")
        return Parts(
            configuration: configuration, dataDirectory: dataDirectory, authenticator: authority,
            tokenAuthority: authority, internalKey: internalKey, tls: tls)
    }

    /// The HTTP routes that are not Socket.IO: health and metrics.
    /// `redisUp` is nil stand-alone; in a cluster it says whether both Redis connections are up
    /// (down: `/health` answers 503 "degraded", as the reference does).
    public static func addOperatorRoutes(
        to router: Router<EngineIORequestContext>, configuration: Configuration,
        redisUp: (@Sendable () async -> Bool)? = nil,
        roomCount: @escaping @Sendable () async -> Int
    ) {
        let started = ContinuousClock.now
        let build = HealthReport.loadBuild()
        router.get("/health") { _, _ -> Response in
            let elapsed = ContinuousClock.now - started
            var redis = "disabled"
            if let redisUp { redis = await redisUp() ? "up" : "down" }
            let report = HealthReport(
                status: redis == "down" ? "degraded" : "ok",
                uptime: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                redis: redis,
                workers: .init(count: configuration.numWorkers, healthy: configuration.numWorkers > 0),
                rooms: await roomCount(),
                timestamp: HealthReport.isoTimestamp(),
                build: build)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = (try? encoder.encode(report)) ?? Data("{}".utf8)
            return Response(
                status: .init(code: report.httpStatus),
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsRegistry.exposition())))
        }
    }

    /// Builds and runs the server until SIGTERM/SIGINT.
    public static func run(configuration: Configuration, logger: Logger, onReady: @escaping @Sendable (Parts, Int) async -> Void = { _, _ in })
        async throws
    {
        try await buildApplication(configuration: configuration, logger: logger, onReady: onReady).runService()
    }

    /// Builds the whole server without starting it (Hummingbird's `buildApplication`, style.md
    /// §1.1.6): what `run` runs, and what tests build and drive with HummingbirdTesting.
    /// `onReady` is called with the bound port once the HTTP server listens and the media workers run.
    public static func buildApplication(
        configuration: Configuration, logger: Logger,
        onReady: @escaping @Sendable (Parts, Int) async -> Void = { _, _ in }
    ) async throws -> AudioRoomsApplication {
        _ = MetricsRegistry.shared
        let cap = Duration.milliseconds(configuration.shutdownTimeoutMs)
        // Scale-out: Redis carries the rooms' state and the Socket.IO broadcasts between nodes.
        let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        let cluster = configuration.usesRedis ? ClusterParts(configuration: configuration, logger: logger, now: now) : nil
        let parts = try await prepare(configuration, sharedTokens: cluster.map { RedisTokenCache(redis: $0.redis) })
        for warning in configuration.warnings { logger.warning("\(warning)") }

        // Signalling: Engine.IO under Socket.IO.
        var engineConfiguration = EngineIOConfiguration(
            pingInterval: .milliseconds(configuration.pingIntervalMs),
            pingTimeout: .milliseconds(configuration.pingTimeoutMs),
            maxPayload: configuration.maxPayload)
        engineConfiguration.allowedOrigins = configuration.corsOrigins.contains("*") ? nil : configuration.corsOrigins
        engineConfiguration.maxSessions = configuration.maxSessions > 0 ? configuration.maxSessions : nil
        engineConfiguration.maxSessionsPerAddress = configuration.maxSessionsPerIP > 0 ? configuration.maxSessionsPerIP : nil
        let engine = EngineIOServer(configuration: engineConfiguration, logger: Logger(label: "msab.engineio"))
        let io = SocketIOServer(
            configuration: .init(
                connectTimeout: .milliseconds(configuration.connectTimeoutMs), maxPayload: configuration.maxPayload,
                inboundLimits: .init(
                    maximumEvents: configuration.socketQueueEvents,
                    maximumBytes: configuration.socketQueueBytes),
                maxRefusedConnects: configuration.maxRefusedConnects),
            connections: engine.connections,
            adapter: { name in cluster.map { $0.adapter(for: name) } ?? InMemoryAdapter() },
            logger: Logger(label: "msab.socketio"))

        // Media: the built-in SFU.
        let media = MediaServer(
            configuration: .init(
                listenIP: configuration.mediaListenIP, announcedIP: configuration.mediaAnnouncedIP,
                minPort: configuration.rtcMinPort, numWorkers: configuration.numWorkers,
                maxConsumersPerTransport: configuration.maxConsumersPerTransport,
                pipeAnnouncedIP: configuration.pipeIP),
            logger: Logger(label: "msab.sfu"))

        // Rooms.
        let outbox = SocketIOOutbox(namespace: io.main)
        let backend: any RoomBackend
        if let url = configuration.laravelAPIURL, let key = configuration.laravelInternalKey {
            backend = LaravelBackend(http: LaravelHTTP(baseURL: url, internalKey: key), logger: logger)
        } else {
            backend = StandaloneBackend(ledger: try GiftLedger(path: parts.dataDirectory.file("gift-ledger.jsonl")))
        }
        let statusPoster = StatusPoster(backend: backend)
        let giftQueue = try GiftQueue(directory: parts.dataDirectory)
        let directory = SessionDirectory()
        let roomServices = RoomServices(
            outbox: outbox, backend: backend, directory: directory, statusPoster: statusPoster,
            giftQueue: giftQueue, rateLimiter: RateLimiter(), configuration: configuration, logger: logger,
            store: cluster?.store ?? InMemoryRoomStateStore(), node: cluster?.uid ?? "", pipeLink: cluster?.pipeLink,
            now: now)
        let registry = RoomRegistry(
            media: SFUMediaPlane(server: media, maxConsumersPerWorker: configuration.maxConsumersPerWorker), services: roomServices)
        let gate = ConnectionGate(allowedOrigins: configuration.corsOrigins, authenticator: parts.authenticator)
        let shutdown = ShutdownSwitch()
        EventHandlers(registry: registry, services: roomServices, gate: gate, shutdown: shutdown).install(on: io.main)
        let relay = BackendEventRelay(outbox: outbox, directory: directory) { room in Array(io.main.to(room).socketIds) }
        let settlement = GiftSettlement(
            queue: giftQueue, backend: backend, outbox: outbox,
            interval: .milliseconds(configuration.giftBufferFlushIntervalMs),
            maxRetries: configuration.giftMaxRetries, logger: logger)

        // HTTP.
        let router = Router(context: EngineIORequestContext.self)  // knows the peer address (per-IP session cap)
        let clusterNode = cluster?.node(registry: registry, relay: relay, roomServices: roomServices)
        var redisUp: (@Sendable () async -> Bool)?
        if let clusterNode { redisUp = { await clusterNode.isHealthy() } }
        addOperatorRoutes(to: router, configuration: configuration, redisUp: redisUp, roomCount: { await registry.count })
        InternalEventsRoute.add(to: router, internalKey: parts.internalKey, relay: relay, cluster: cluster)
        WebAssets.addRoutes(to: router)
        router.addEngineIO(engine, path: "/socket.io")
        var server = HTTPServerBuilder.http1WebSocketUpgrade(
            configuration: EngineIOUpgrade.configuration(maxPayload: configuration.maxPayload),
            shouldUpgrade: EngineIOUpgrade.shouldUpgrade([("/socket.io", engine)]))
        if let tls = parts.tls {
            do {
                server = try .tls(server, tlsConfiguration: tls)
            } catch {
                throw ConfigurationError(variable: "SSL_CERT_PATH", problem: "TLS setup failed: \(TLSSetup.oneLine(error))")
            }
        }
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "msab"),
            onServerRunning: { channel in
                try? await media.waitUntilReady()
                await onReady(parts, channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
        // Graceful shutdown runs in reverse order of the HTTP server and this list, one service
        // after the other (see ShutdownSequence): stop accepting, rooms, gifts, status posts,
        // Socket.IO, Engine.IO, media, HTTP.
        let sequence = ShutdownSequence(shutdown: shutdown, cap: cap, logger: logger)
        var services: [any Service] = [
            media, SignallingService(engine: engine, io: io), statusPoster, settlement, registry, sequence,
        ]
        if let cluster, let clusterNode {
            // Redis goes last (stops first of the app's own, after the rooms said goodbye).
            services.insert(contentsOf: cluster.services(node: clusterNode), at: 0)
        }
        // Stops after all of the above: the shutdown finished in time.
        services.insert(sequence.finish, at: 0)
        return AudioRoomsApplication(http: app, services: services, parts: parts, shutdownCap: cap)
    }
}
