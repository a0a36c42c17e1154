import EngineIO
import NIOCore
import SocketIOParser
import Synchronization
import Testing

@testable import SocketIO

/// An Engine.IO session in memory: the test plays the client (`receive`, `clientClose`) and reads
/// what the server sent (`nextSent`). `close()` from the server finishes the inbound stream, as
/// the real session does.
final class MemoryConnection: EngineConnection {
    let id: String
    let handshake: EngineHandshake
    let inbound: AsyncStream<EngineMessage>
    let inboundContinuation: AsyncStream<EngineMessage>.Continuation

    struct State {
        var sent: [EngineMessage] = []
        var read = 0
        var closeReason: EngineCloseReason?
        var closeWaiters: [CheckedContinuation<EngineCloseReason, Never>] = []
    }

    let state = Mutex(State())

    init(id: String = "eio-\(UInt32.random(in: 0...UInt32.max))", query: [String: String] = [:]) {
        self.id = id
        self.handshake = EngineHandshake(headers: [("user-agent", "memory")], query: query, remoteAddress: "127.0.0.1:1", issuedAtMs: 0)
        (inbound, inboundContinuation) = AsyncStream.makeStream(of: EngineMessage.self)
    }

    // MARK: EngineConnection (the server's side)

    func send(_ message: EngineMessage) {
        state.withLock { state in
            guard state.closeReason == nil else { return }
            state.sent.append(message)
        }
    }

    func send(contentsOf messages: [EngineMessage]) {
        state.withLock { state in
            guard state.closeReason == nil else { return }
            state.sent.append(contentsOf: messages)
        }
    }

    func close() { end(.serverClose) }

    func closed() async -> EngineCloseReason {
        await withCheckedContinuation { continuation in
            let reason = state.withLock { state -> EngineCloseReason? in
                if let reason = state.closeReason { return reason }
                state.closeWaiters.append(continuation)
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }

    func end(_ reason: EngineCloseReason) {
        let waiters = state.withLock { state -> [CheckedContinuation<EngineCloseReason, Never>]? in
            guard state.closeReason == nil else { return nil }
            state.closeReason = reason
            defer { state.closeWaiters.removeAll() }
            return state.closeWaiters
        }
        guard let waiters else { return }
        inboundContinuation.finish()
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    // MARK: the client's side

    func receive(_ text: String) { inboundContinuation.yield(.text(text)) }
    func receive(binary bytes: [UInt8]) { inboundContinuation.yield(.binary(ByteBuffer(bytes: bytes))) }
    func clientClose() { end(.clientClose) }

    var isClosed: Bool { state.withLock { $0.closeReason != nil } }

    /// The next message the server sent, waiting up to `timeout`.
    func nextSent(timeout: Duration = .seconds(5)) async throws -> EngineMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            let next = state.withLock { state -> EngineMessage? in
                guard state.read < state.sent.count else { return nil }
                defer { state.read += 1 }
                return state.sent[state.read]
            }
            if let next { return next }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "a message from the server") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// The next text message, decoded as a Socket.IO packet.
    func nextPacket(timeout: Duration = .seconds(5)) async throws -> SocketIOPacket {
        guard case .text(let text) = try await nextSent(timeout: timeout) else { throw TestTimeout(what: "a text message") }
        return try SocketIOCodec.decode(text).packet
    }

    /// Nothing more was sent (after letting the server run for `settle`).
    func sentNothingMore(settle: Duration = .milliseconds(50)) async throws -> Bool {
        try await Task.sleep(for: settle)
        return state.withLock { $0.read == $0.sent.count }
    }

    /// Waits until the server closed the session.
    func waitClosed(timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isClosed {
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "the session to close") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A SocketIOServer running over in-memory connections; `stop()` cancels it.
final class Harness: Sendable {
    let server: SocketIOServer
    let connections: AsyncStream<any EngineConnection>.Continuation
    let task: Task<Void, Never>

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

    func stop() {
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
    func wait(count: Int, timeout: Duration = .seconds(5)) async throws -> [Value] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let now = all
            if now.count >= count { return now }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "\(count) recorded values (have \(now.count))") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
