import EngineIOParser
import NIOCore
import Synchronization
import Testing

@testable import EngineIO

/// The per-session buffers are bounded: the WebSocket writer's backlog refuses what would pass
/// its caps (the session then closes as a slow consumer), the inbound queue holds producers back.
@Suite struct BoundedQueuesTests {
    @Test func theWriterBacklogCountsTheFrameBeingWrittenAndRefusesPastTheCap() async {
        let queue = OutboundFrameQueue(limits: .init(bytes: 10, frames: 100))
        #expect(queue.push([.text("12345")]) == .queued)
        let first = await queue.next()
        #expect(first == .text("12345"))
        // Still being written: it counts.
        #expect(queue.backlog.bytes == 5)
        #expect(queue.push([.text("123456")]) == .overflow)
        queue.written(.text("12345"))
        #expect(queue.push([.text("123456")]) == .queued)
        #expect(queue.backlog == (6, 1))
    }

    @Test func theWriterBacklogIsCappedInFramesToo() {
        let queue = OutboundFrameQueue(limits: .init(bytes: 1_000, frames: 3))
        #expect(queue.push([.text("a"), .text("b")]) == .queued)
        // A group goes all or nothing.
        #expect(queue.push([.text("c"), .text("d")]) == .overflow)
        #expect(queue.push([.text("c")]) == .queued)
        #expect(queue.push([.text("d")]) == .overflow)
    }

    @Test func abortDropsTheBacklogAndEndsTheWriter() async {
        let queue = OutboundFrameQueue(limits: .init(bytes: 1_000, frames: 10))
        _ = queue.push([.text("a"), .text("b")])
        queue.abort()
        #expect(queue.backlog.bytes == 0)
        let next = await queue.next()
        #expect(next == nil)
        await queue.aborted()  // returns at once
        #expect(queue.push([.text("c")]) == .closed)
    }

    @Test func finishDeliversWhatIsQueuedThenEnds() async {
        let queue = OutboundFrameQueue(limits: .init(bytes: 1_000, frames: 10))
        _ = queue.push([.text("a")])
        queue.finish()
        let a = await queue.next()
        let end = await queue.next()
        #expect(a == .text("a") && end == nil)
    }

    @Test func theInboundQueueHoldsTheProducerAtItsCap() async {
        let queue = InboundMessageQueue(limits: .init(bytes: 10, messages: 2))
        queue.push(.text("1234567890"))
        #expect(queue.depth == (10, 1))
        let admitted = Mutex(false)
        let producer = Task {
            await queue.waitForRoom()
            admitted.withLock { $0 = true }
        }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(!admitted.withLock { $0 })
        let popped = await queue.pop()
        #expect(popped == .text("1234567890"))
        await producer.value
        #expect(admitted.withLock { $0 })
    }

    @Test func theInboundQueueCountsMessages() async {
        let queue = InboundMessageQueue(limits: .init(bytes: 1_000, messages: 2))
        queue.push(.text("a"))
        queue.push(.text("b"))
        let producer = Task { await queue.waitForRoom() }
        queue.finish()  // finishing releases a waiting producer
        await producer.value
        let a = await queue.pop()
        let b = await queue.pop()
        let end = await queue.pop()
        #expect(a == .text("a") && b == .text("b") && end == nil)
    }

    @Test func aClientPongWithoutAPingDoesNotPostponeThePing() {
        let start = ContinuousClock.now
        let session = EngineSession(
            id: "s", handshake: .init(headers: [], query: [:], remoteAddress: nil, issuedAtMs: 0),
            transport: .polling,
            configuration: EngineIOConfiguration(
                pingInterval: .milliseconds(300),
                pingTimeout: .milliseconds(200),
                maxPayload: 1_000),
            now: start
        ) { _, _ in }
        session.received(EnginePacket(.pong), now: start + .milliseconds(250))
        // The ping is still due at 300 ms, and unanswered it times out at 500 ms.
        session.timerFired(now: start + .milliseconds(300))
        #expect(session.bufferedPacketTypes == [.ping])
        session.received(EnginePacket(.pong), now: start + .milliseconds(350))
        session.timerFired(now: start + .milliseconds(651))
        #expect(!session.isClosed)
        session.timerFired(now: start + .milliseconds(851))
        #expect(session.isClosed)
    }
}

@Suite struct SessionTableTests {
    func session(_ id: String, _ remote: String?) -> EngineSession {
        EngineSession(
            id: id, handshake: .init(headers: [], query: [:], remoteAddress: remote, issuedAtMs: 0), transport: .polling,
            configuration: .init(), now: .now
        ) { _, _ in }
    }

    @Test func capsInTotalAndPerAddress() {
        var table = SessionTable()
        let a1 = session("a1", "10.0.0.1:5000")
        let a2 = session("a2", "10.0.0.1:5001")
        let b1 = session("b1", "[::1]:7")
        table.insert(a1)
        table.insert(a2)
        #expect(table.refusal(address: "10.0.0.1:6000", maxSessions: 3, maxPerAddress: 2) == .tooManySessionsFromAddress)
        #expect(table.refusal(address: "10.0.0.2:6000", maxSessions: 3, maxPerAddress: 2) == nil)
        table.insert(b1)
        #expect(table.perAddress["::1"] == 1)
        #expect(table.refusal(address: "10.0.0.2:6000", maxSessions: 3, maxPerAddress: 2) == .tooManySessions)
        #expect(table.refusal(address: "10.0.0.2:6000", maxSessions: nil, maxPerAddress: nil) == nil)
        table.remove(a1)
        table.remove(a1)  // twice: counted once
        #expect(table.perAddress["10.0.0.1"] == 1)
        #expect(table.refusal(address: "10.0.0.1:6000", maxSessions: 3, maxPerAddress: 2) == nil)
        table.remove(a2)
        #expect(table.perAddress["10.0.0.1"] == nil)
    }

    @Test func theCapErrorsUseEngineIOsForbiddenShape() {
        #expect(EngineRequestError.tooManySessions.httpStatus == 403)
        #expect(EngineRequestError.tooManySessions.body == #"{"code":4,"message":"Too many sessions"}"#)
        #expect(EngineRequestError.tooManySessionsFromAddress.body == #"{"code":4,"message":"Too many sessions from this address"}"#)
        #expect(EngineRequestError.unknownSid.body == #"{"code":1,"message":"Session ID unknown"}"#)
    }
}
