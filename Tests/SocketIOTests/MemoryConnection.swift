// Waits are bounds for failure, not expectations: 30 s, since on a 2-core machine CPU-bound suites
// running beside these can hold the cooperative pool for seconds.
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
    func nextSent(timeout: Duration = .seconds(30)) async throws -> EngineMessage {
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
    func nextPacket(timeout: Duration = .seconds(30)) async throws -> SocketIOPacket {
        guard case .text(let text) = try await nextSent(timeout: timeout) else { throw TestTimeout(what: "a text message") }
        return try SocketIOCodec.decode(text).packet
    }

    /// Nothing more was sent (after letting the server run for `settle`).
    func sentNothingMore(settle: Duration = .milliseconds(50)) async throws -> Bool {
        try await Task.sleep(for: settle)
        return state.withLock { $0.read == $0.sent.count }
    }

    /// Waits until the server closed the session.
    func waitClosed(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isClosed {
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "the session to close") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
