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
/// service group cancels what is left, and if even that hangs the process exits 5 s later
/// (``finish``, the group's first service, disarms that exit once everything stopped).
public struct ShutdownSequence: Service {
    let shutdown: ShutdownSwitch
    let cap: Duration
    let logger: Logger
    let exitTimer = ExitTimer()

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
        exitTimer.arm(after: Double(seconds) + Double(attoseconds) / 1e18 + 5, logger: logger)
    }

    /// The service that ends the sequence: placed first in the group, it stops after every other
    /// one and disarms the exit timer. Without it a process that outlives a finished shutdown (a
    /// test process running an application and then other tests) would still exit at the cap.
    public var finish: some Service { Finish(exitTimer: exitTimer) }

    struct Finish: Service {
        let exitTimer: ExitTimer

        func run() async throws {
            try? await gracefulShutdown()
            exitTimer.disarm()
        }
    }

    /// Exits the process when a shutdown is still not finished at the cap (+5 s), unless disarmed.
    final class ExitTimer: Sendable {
        private let disarmed = Atomic<Bool>(false)

        func arm(after seconds: Double, logger: Logger) {
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                guard !disarmed.load(ordering: .acquiring) else { return }
                logger.critical("shutdown did not finish within its cap; exiting")
                exit(1)
            }
        }

        func disarm() { disarmed.store(true, ordering: .releasing) }
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
