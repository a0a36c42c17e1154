import EngineIOParser
import Foundation
import Logging
import Metrics
import NIOCore
public import ServiceLifecycle
import Synchronization

/// An Engine.IO v4 server (engine.io's `Server`): the handshake, the long-polling and WebSocket
/// transports and the upgrade between them, the heartbeat, and the session table. It is a
/// `Service`: `run()` drives the sessions' timers until graceful shutdown, then closes every session.
///
/// The web framework adapter (`EngineIOHummingbird`) hands it HTTP requests (`handleHTTP`) and
/// WebSockets (`runWebSocket`); the layer above reads `connections`.
///
/// Its parts, one file each: the session registry (`+Sessions`), the heartbeat and shutdown
/// (`+Heartbeat`: the `Service`), CORS (`+CORS`), long-polling (`+Polling`) and the WebSocket
/// pump and upgrade (`+WebSocket`).
public final class EngineIOServer: Service, Sendable {
    public let configuration: EngineIOConfiguration
    let logger: Logger
    /// New open sessions, for the layer above (Socket.IO) to serve.
    public let connections: AsyncStream<any EngineConnection>
    let connectionsContinuation: AsyncStream<any EngineConnection>.Continuation
    let sessions = Mutex(SessionTable())
    /// Wakes each session at its next deadline (heartbeat, upgrade probe, upgrade waits).
    let timers = SessionTimers()
    /// Polling sessions the client closed while no GET was pending → until when a GET for them
    /// still gets the noop it would have got had it arrived first (one GET each; engine.io
    /// answers a GET pending at the close with a noop, and the official suite's "forcefully
    /// closes the session" sends the GET and the close at the same time).
    let stragglingPolls = Mutex<[String: ContinuousClock.Instant]>([:])
    static let stragglingPollGrace = Duration.seconds(1)
    let sessionsGauge = Gauge(label: "msab_engineio_sessions")
    /// Session objects alive (closed sessions must be freed: a leak check).
    let objectsGauge = Gauge(label: "msab_engineio_session_objects")
    /// When to give freed memory back after a wave of closed sessions.
    let trimPolicy = Mutex(MemoryTrimPolicy())

    public init(configuration: EngineIOConfiguration = .init(), logger: Logger = Logger(label: "msab.engineio")) {
        self.configuration = configuration
        self.logger = logger
        (connections, connectionsContinuation) = AsyncStream.makeStream(of: (any EngineConnection).self)
    }

    /// Open sessions (a test hook, and the gauge's value).
    public var sessionCount: Int { sessions.withLock { $0.count } }
}
