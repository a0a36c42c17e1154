import EngineIOHummingbird
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The whole server as `MSABApplication.buildApplication(configuration:logger:onReady:)` builds
/// it: the Hummingbird application (HTTP, Engine.IO, WebSocket upgrade) and the services behind it.
///
/// It is a Hummingbird `ApplicationProtocol`, so tests drive it with HummingbirdTesting
/// (`app.test(.live)`), which runs `services` and then the HTTP server. `run()` keeps the
/// production order instead: the HTTP server first, so that it stops last, after the rooms,
/// Socket.IO and Engine.IO have said goodbye over it (ShutdownSequence).
public struct AudioRoomsApplication: ApplicationProtocol {
    public typealias Responder = RouterResponder<EngineIORequestContext>

    let http: Application<Responder>
    /// Everything but the HTTP server, in dependency order (shutdown runs in reverse).
    public let services: [any Service]
    /// The configuration, data directory, identity provider and secrets the server runs with.
    public let parts: MSABApplication.Parts
    /// `MSAB_SHUTDOWN_TIMEOUT_MS`: how long a graceful shutdown may take before the rest is cancelled.
    let shutdownCap: Duration

    init(http: Application<Responder>, services: [any Service], parts: MSABApplication.Parts, shutdownCap: Duration) {
        self.http = http
        self.services = services
        self.parts = parts
        self.shutdownCap = shutdownCap
    }

    public var responder: Responder { http.responder }
    public var server: HTTPServerBuilder { http.server }
    public var eventLoopGroup: any EventLoopGroup { http.eventLoopGroup }
    public var configuration: ApplicationConfiguration { http.configuration }
    public var logger: Logger { http.logger }
    public func onServerRunning(_ channel: any Channel) async { await http.onServerRunning(channel) }

    /// Runs the HTTP server and the services until a graceful shutdown (which `runService()`
    /// triggers on SIGTERM/SIGINT) and its cap.
    public func run() async throws {
        var configuration = ServiceGroupConfiguration(services: [http] + services, logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownCap
        try await ServiceGroup(configuration: configuration).run()
    }
}
