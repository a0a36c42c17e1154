import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Whether msab still takes new connections and new joins. Set once, at the start of a graceful
/// shutdown; read by the connection middleware and `room:join`.
public final class ShutdownSwitch: Sendable {
    private let stopping = Atomic<Bool>(false)

    public init() {}

    public var isStopping: Bool { stopping.load(ordering: .acquiring) }
    public func stop() { stopping.store(true, ordering: .releasing) }

    /// The connect refusal and the `room:join` error while shutting down.
    public static let message = "Server shutting down"
}

/// The first step of a graceful shutdown (SIGTERM / SIGINT), as a `Service` placed last in the
/// service group, which shuts services down in reverse order, each after the previous one finished:
///
/// 1. this: stop accepting connections and joins;
/// 2. rooms: every room is told `room:closed` (reason `server_shutdown`) and posts its final status;
/// 3. gift settlement: the queued gifts are flushed;
/// 4. status posts: the queue is drained;
/// 5. Socket.IO, Engine.IO (sessions closed after what is queued is sent), media workers;
/// 6. HTTP, last, so that polling clients can collect their final packets.
///
/// The whole sequence is capped (`MSAB_SHUTDOWN_TIMEOUT_MS`, 30 s as the reference): past it the
/// service group cancels what is left, and if even that hangs the process exits 5 s later.
public struct ShutdownSequence: Service {
    let shutdown: ShutdownSwitch
    let cap: Duration
    let logger: Logger

    public init(shutdown: ShutdownSwitch, cap: Duration, logger: Logger) {
        self.shutdown = shutdown
        self.cap = cap
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        shutdown.stop()
        logger.notice("shutting down: no new connections or joins; closing rooms, flushing gifts and status posts", metadata: ["cap": "\(cap)"])
        let (seconds, attoseconds) = cap.components
        let last = Double(seconds) + Double(attoseconds) / 1e18 + 5
        let logger = self.logger
        DispatchQueue.global().asyncAfter(deadline: .now() + last) {
            logger.critical("shutdown did not finish within its cap; exiting")
            exit(1)
        }
    }
}

/// Engine.IO and Socket.IO as one service, so that they shut down together: Socket.IO's sessions
/// end only when Engine.IO closes them (after sending what is queued, `room:closed` included), and
/// Engine.IO ending first would end Socket.IO's connection stream before its turn.
public struct SignallingService: Service {
    let engine: any Service
    let io: any Service

    public init(engine: any Service, io: any Service) {
        self.engine = engine
        self.io = io
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await engine.run() }
            group.addTask { try await io.run() }
        }
    }
}
