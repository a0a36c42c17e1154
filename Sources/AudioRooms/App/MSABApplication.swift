import Foundation
import EngineIO
import EngineIOHummingbird
import Hummingbird
import HummingbirdWebSocket
import SFUServer
import SocketIO
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Builds the whole server from a configuration — the production object graph, which tests build
/// too (Hummingbird's `buildApplication` pattern, style.md §1.1.6).
public enum MSABApplication {
    /// Everything the running server is made of.
    public struct Parts: Sendable {
        public var configuration: Configuration
        public var dataDirectory: DataDirectory
        public var authenticator: any UserAuthenticator
        /// Only in stand-alone mode: the authority that signs tokens (`msab token`, `make run`).
        public var tokenAuthority: TokenAuthority?
        public var internalKey: String
    }

    /// Resolves secrets and the identity provider for a configuration.
    public static func prepare(_ configuration: Configuration) async throws -> Parts {
        let dataDirectory = try DataDirectory(path: configuration.dataDirectory)
        if let url = configuration.laravelAPIURL, let key = configuration.laravelInternalKey {
            let validator = SanctumValidator(http: LaravelHTTP(baseURL: url, internalKey: key))
            return Parts(configuration: configuration, dataDirectory: dataDirectory, authenticator: validator,
                         tokenAuthority: nil, internalKey: key)
        }
        let secret = try configuration.jwtSecret ?? dataDirectory.secret(named: "jwt-secret")
        let authority = await TokenAuthority(secret: secret)
        let internalKey = try configuration.internalKey ?? dataDirectory.secret(named: "internal-key")
        return Parts(configuration: configuration, dataDirectory: dataDirectory, authenticator: authority,
                     tokenAuthority: authority, internalKey: internalKey)
    }

    /// The HTTP routes that are not Socket.IO: health and metrics.
    public static func addOperatorRoutes(to router: Router<EngineIORequestContext>, configuration: Configuration,
                                         roomCount: @escaping @Sendable () async -> Int) {
        let started = ContinuousClock.now
        let build = HealthReport.loadBuild()
        router.get("/health") { _, _ -> Response in
            let elapsed = ContinuousClock.now - started
            let report = HealthReport(
                status: "ok",
                uptime: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                redis: configuration.usesRedis ? "up" : "disabled",
                workers: .init(count: configuration.numWorkers, healthy: configuration.numWorkers > 0),
                rooms: await roomCount(),
                timestamp: HealthReport.isoTimestamp(),
                build: build)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = (try? encoder.encode(report)) ?? Data("{}".utf8)
            return Response(status: .init(code: report.httpStatus),
                            headers: [.contentType: "application/json; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: MetricsRegistry.exposition())))
        }
    }

    /// Builds and runs the server until SIGTERM/SIGINT.
    public static func run(configuration: Configuration, logger: Logger, onReady: @escaping @Sendable (Parts, Int) async -> Void = { _, _ in }) async throws {
        _ = MetricsRegistry.shared
        let parts = try await prepare(configuration)

        // Signalling: Engine.IO under Socket.IO.
        var engineConfiguration = EngineIOConfiguration(pingInterval: .milliseconds(configuration.pingIntervalMs),
                                                        pingTimeout: .milliseconds(configuration.pingTimeoutMs),
                                                        maxPayload: configuration.maxPayload)
        engineConfiguration.allowedOrigins = configuration.corsOrigins.contains("*") ? nil : configuration.corsOrigins
        engineConfiguration.maxSessions = configuration.maxSessions > 0 ? configuration.maxSessions : nil
        engineConfiguration.maxSessionsPerAddress = configuration.maxSessionsPerIP > 0 ? configuration.maxSessionsPerIP : nil
        let engine = EngineIOServer(configuration: engineConfiguration, logger: Logger(label: "msab.engineio"))
        let io = SocketIOServer(configuration: .init(connectTimeout: .milliseconds(configuration.connectTimeoutMs)),
                                connections: engine.connections, logger: Logger(label: "msab.socketio"))

        // Media: the built-in SFU.
        let media = MediaServer(configuration: .init(listenIP: configuration.mediaListenIP, announcedIP: configuration.mediaAnnouncedIP,
                                                     minPort: configuration.rtcMinPort, numWorkers: configuration.numWorkers),
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
        let services = RoomServices(outbox: outbox, backend: backend, directory: directory, statusPoster: statusPoster,
                                    giftQueue: giftQueue, rateLimiter: RateLimiter(), configuration: configuration, logger: logger,
                                    now: { Int64(Date().timeIntervalSince1970 * 1000) })
        let registry = RoomRegistry(media: SFUMediaPlane(server: media), services: services)
        let gate = ConnectionGate(allowedOrigins: configuration.corsOrigins, authenticator: parts.authenticator)
        EventHandlers(registry: registry, services: services, gate: gate).install(on: io.main)
        let relay = BackendEventRelay(outbox: outbox, directory: directory) { room in Array(io.main.to(room).socketIds) }
        let settlement = GiftSettlement(queue: giftQueue, backend: backend, outbox: outbox,
                                        interval: .milliseconds(configuration.giftBufferFlushIntervalMs),
                                        maxRetries: configuration.giftMaxRetries, logger: logger)

        // HTTP.
        let router = Router(context: EngineIORequestContext.self)  // knows the peer address (per-IP session cap)
        addOperatorRoutes(to: router, configuration: configuration, roomCount: { await registry.count })
        InternalEventsRoute.add(to: router, internalKey: parts.internalKey, relay: relay)
        router.addEngineIO(engine, path: "/socket.io")
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: EngineIOUpgrade.configuration(maxPayload: configuration.maxPayload),
                                           shouldUpgrade: EngineIOUpgrade.shouldUpgrade([("/socket.io", engine)])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "msab"),
            onServerRunning: { channel in
                try? await media.waitUntilReady()
                await onReady(parts, channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [media, engine, io, registry, statusPoster, settlement, app],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
