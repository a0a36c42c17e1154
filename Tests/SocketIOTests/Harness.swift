import EngineIO
import SocketIOParser
import Synchronization
import Testing

@testable import SocketIO

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A SocketIOServer running over in-memory connections; `stop()` cancels it.
final class Harness: Sendable {
    let server: SocketIOServer
    let connections: AsyncStream<any EngineConnection>.Continuation
    let task: Task<Void, Never>
    /// Every session opened, so `stop()` can end them: a session's serve task waits for its
    /// connection to close, and one left open would outlive the test (LeakSanitizer reports it).
    let opened = Mutex<[MemoryConnection]>([])

    init(_ configuration: SocketIOServer.Configuration = .init()) {
        let (stream, continuation) = AsyncStream.makeStream(of: (any EngineConnection).self)
        let server = SocketIOServer(configuration: configuration, connections: stream)
        self.server = server
        self.connections = continuation
        self.task = Task { try? await server.run() }
    }

    /// A new engine session, served by the server.
    func open(query: [String: String] = [:]) -> MemoryConnection {
        let connection = MemoryConnection(query: query)
        opened.withLock { $0.append(connection) }
        connections.yield(connection)
        return connection
    }

    /// A session connected to `namespace`; returns it and the socket id.
    func connect(_ namespace: String = "/", auth: String = "") async throws -> (MemoryConnection, String) {
        let connection = open()
        connection.receive("0" + (namespace == "/" ? "" : namespace + ",") + auth)
        let reply = try await connection.nextPacket()
        #expect(reply.type == .connect && reply.namespace == namespace)
        let sid = try #require(reply.data?["sid"]?.stringValue)
        return (connection, sid)
    }

    /// Ends the server as the engine does at shutdown: every session closes, then the server stops.
    func stop() {
        for connection in opened.withLock({ $0 }) { connection.close() }
        connections.finish()
        task.cancel()
    }
}

/// A gate a handler waits on until the test opens it.
final class Gate: Sendable {
    let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Values a handler records for the test to read.
final class Recorder<Value: Sendable>: Sendable {
    let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }

    /// Waits until at least `count` values were recorded.
    func wait(count: Int, timeout: Duration = .seconds(30)) async throws -> [Value] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let now = all
            if now.count >= count { return now }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "\(count) recorded values (have \(now.count))") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
