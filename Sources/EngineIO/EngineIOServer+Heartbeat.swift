import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

// The Service: one loop drives every session's timers (heartbeat pings and their timeouts,
// upgrade probes) until graceful shutdown, then every session is closed.
extension EngineIOServer {
    public func run() async throws {
        await withGracefulShutdownHandler {
            await timers.run { now in
                releaseMemoryAfterAWaveOfCloses(now: now)
                stragglingPolls.withLock { table in
                    if !table.isEmpty { table = table.filter { $0.value > now } }
                }
                objectsGauge.record(EngineSession.live.withLock { $0 })
            }
        } onGracefulShutdown: {
            // Stop the timers, then close what is open.
            self.timers.stop()
        }
        let all = sessions.withLock { Array($0.byID.values) }
        for session in all { session.close(reason: .serverShuttingDown) }
        connectionsContinuation.finish()
    }
}
