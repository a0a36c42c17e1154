import EngineIOParser
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import EngineIO

/// The WebSocket queue in sink mode: it drains itself into the channel on the channel's event
/// loop, keeps counting frames until their write completes, and a broadcast's drains wait for
/// the end of its `EngineWriteBatch`.
///
/// An `EmbeddedEventLoop` runs tasks only when told to, so "not yet written" is observable; it
/// must stay on the thread that made it, so each test uses it before its first suspension.
@Suite struct OutboundFrameSinkTests {
    /// A channel stand-in: records writes and flushes; the test completes the write promises.
    final class RecordingSink: EngineFrameSink, @unchecked Sendable {
        let loop: EmbeddedEventLoop
        var written: [EngineIOCodec.Frame] = []
        var flushes = 0
        var promises: [EventLoopPromise<Void>] = []

        init(loop: EmbeddedEventLoop) { self.loop = loop }
        var eventLoop: any EventLoop { loop }
        func write(_ frame: EngineIOCodec.Frame, memo: EngineFrameMemo?, promise: EventLoopPromise<Void>?) {
            written.append(frame)
            if let promise { promises.append(promise) }
        }
        func flush() { flushes += 1 }
        func completeAll() {
            let pending = promises
            promises = []
            for promise in pending { promise.succeed() }
        }
    }

    static func queue(_ sink: RecordingSink, bytes: Int = 1_000) -> OutboundFrameQueue {
        OutboundFrameQueue(limits: .init(bytes: bytes, frames: 100), sink: sink)
    }

    @Test func queuedFramesAreWrittenInOrderWithOneFlushPerDrain() {
        let loop = EmbeddedEventLoop()
        let sink = RecordingSink(loop: loop)
        let queue = Self.queue(sink)
        #expect(queue.push([.text("a")]) == .queued)
        #expect(queue.push([.text("b"), .binary(ByteBuffer(bytes: [1, 2]))]) == .queued)
        #expect(sink.written.isEmpty)  // nothing is written outside the loop
        loop.run()
        #expect(sink.written == [.text("a"), .text("b"), .binary(ByteBuffer(bytes: [1, 2]))])
        #expect(sink.flushes == 1)
        #expect(sink.promises.count == 1)  // one promise per drain, on its last write
    }

    @Test func framesCountUntilTheirWriteCompletesSoAStalledClientOverflows() {
        let loop = EmbeddedEventLoop()
        let sink = RecordingSink(loop: loop)
        let queue = Self.queue(sink, bytes: 10)
        #expect(queue.push([.text("12345")]) == .queued)
        loop.run()
        // Handed to the channel but not on the wire: still in the backlog.
        #expect(queue.backlog == (5, 1))
        #expect(queue.push([.text("123456")]) == .overflow)
        sink.completeAll()
        #expect(queue.backlog == (0, 0))
        #expect(queue.push([.text("123456")]) == .queued)
    }

    /// `send(broadcast:)` on a WebSocket session queues the broadcast's own frames (encoded once,
    /// shared by every recipient) in order with the session's other sends, and a broadcast past
    /// the backlog cap closes the session as a slow consumer, as `send` does.
    @Test func aBroadcastIsQueuedInOrderAndOverflowClosesTheSession() {
        let loop = EmbeddedEventLoop()
        let sink = RecordingSink(loop: loop)
        let queue = Self.queue(sink, bytes: 20)
        let closed = Mutex<EngineCloseCause?>(nil)
        let session = EngineSession(
            id: "s", handshake: .init(headers: [], query: [:], remoteAddress: nil, issuedAtMs: 0),
            transport: .websocket(queue), configuration: .init(), now: .now
        ) { _, cause in
            closed.withLock { $0 = cause }
        }
        let broadcast = EngineBroadcastMessage([.text("hello")])
        session.send(.text("a"))
        session.send(broadcast: broadcast)
        loop.run()
        #expect(sink.written == [.text("4a"), .text("4hello")])
        // Written but not on the wire: 2 + 6 bytes of the cap of 20. Two more fit, a third does not.
        session.send(broadcast: broadcast)
        session.send(broadcast: broadcast)
        #expect(closed.withLock { $0 } == nil)
        session.send(broadcast: broadcast)
        #expect(closed.withLock { $0 } == .slowConsumer)
        #expect(session.isClosed)
    }

    @Test func aBroadcastToAPollingSessionIsBuffered() {
        let session = EngineSession(
            id: "p", handshake: .init(headers: [], query: [:], remoteAddress: nil, issuedAtMs: 0),
            transport: .polling, configuration: .init(), now: .now
        ) { _, _ in }
        session.send(broadcast: EngineBroadcastMessage([.text("x"), .binary(ByteBuffer(bytes: [1]))]))
        #expect(session.bufferedPacketTypes == [.message, .message])
    }

    @Test func drainedOnlyOnceFinishedAndOnTheWire() async {
        let loop = EmbeddedEventLoop()
        let sink = RecordingSink(loop: loop)
        let queue = Self.queue(sink)
        _ = queue.push([.text("last")])
        queue.finish()
        #expect(queue.push([.text("late")]) == .closed)
        loop.run()
        #expect(sink.written == [.text("last")])
        #expect(!queue.isDrained)  // written, not yet on the wire
        sink.completeAll()
        #expect(queue.isDrained)
        await queue.drained()  // returns at once
    }

    @Test func abortDropsWhatIsQueued() async {
        let loop = EmbeddedEventLoop()
        let sink = RecordingSink(loop: loop)
        let queue = Self.queue(sink)
        _ = queue.push([.text("a")])
        queue.abort()
        loop.run()
        #expect(sink.written.isEmpty)
        #expect(queue.isDrained)
        await queue.drained()  // returns at once
    }

    @Test func aBatchSchedulesItsDrainsWhenItsBodyReturns() {
        let loop = EmbeddedEventLoop()
        let sinks = [RecordingSink(loop: loop), RecordingSink(loop: loop)]
        let queues = sinks.map { Self.queue($0) }
        let unbatched = Self.queue(sinks[0])
        EngineWriteBatch.collect {
            for queue in queues { _ = queue.push([.text("event")]) }
            // A push outside any batch, made while the broadcast runs, is scheduled at once...
            EngineWriteBatch.$current.withValue(nil) { _ = unbatched.push([.text("during")]) }
        }
        loop.run()
        // ...so it ran first: the broadcast's drains were scheduled when its body returned.
        #expect(sinks[0].written == [.text("during"), .text("event")])
        #expect(sinks[1].written == [.text("event")])
        #expect(sinks[1].flushes == 1)
    }

    /// Inside a batch, the sockets of one event loop queue the same string, and each other loop
    /// gets its own copy (so the loops' threads do not share one reference count), with the
    /// same bytes, in order after what each socket already had.
    @Test func aBroadcastGivesEachEventLoopItsOwnCopyOfTheFrames() {
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let sinks = [RecordingSink(loop: loops[0]), RecordingSink(loop: loops[0]), RecordingSink(loop: loops[1])]
        let queues = sinks.map { Self.queue($0) }
        _ = queues[2].push([.text("before")])
        // Longer than 15 bytes: a string with storage of its own (shorter ones are inline).
        let text = "42[\"room:userJoined\",{\"userId\":7}]"
        let broadcast = EngineBroadcastMessage([.text(text)])
        EngineWriteBatch.collect {
            for queue in queues { #expect(queue.push(broadcast: broadcast) == .queued) }
        }
        for loop in loops { loop.run() }
        #expect(sinks[0].written == [.text("4" + text)])
        #expect(sinks[1].written == [.text("4" + text)])
        #expect(sinks[2].written == [.text("before"), .text("4" + text)])
        func storage(_ frame: EngineIOCodec.Frame?) -> UnsafeRawPointer? {
            guard case .text(let string) = frame else { return nil }
            return string.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
        }
        let (a, b, c) = (storage(sinks[0].written.last), storage(sinks[1].written.last), storage(sinks[2].written.last))
        #expect(a != nil && a == b)
        #expect(c != nil && c != a)
        // Outside a batch a push queues the broadcast's frames as they are.
        let alone = Self.queue(RecordingSink(loop: loops[1]))
        #expect(alone.push(broadcast: broadcast) == .queued)
    }

    /// A room bigger than a chunk: the first chunk's drain is handed to its loop while the rest is
    /// still being queued, and every socket still gets every broadcast once, in order.
    @Test func aBigRoomIsHandedOverInChunksAndKeepsOrder() {
        let loop = EmbeddedEventLoop()
        let count = EngineWriteBatch.chunk * 2 + 5
        let sinks = (0..<count).map { _ in RecordingSink(loop: loop) }
        let queues = sinks.map { Self.queue($0) }
        let (one, two) = (#"42["first",{"n":1}]"#, #"42["second",{"n":2}]"#)
        let first = EngineBroadcastMessage([.text(one)])
        let second = EngineBroadcastMessage([.text(two)])
        EngineWriteBatch.collect {
            for queue in queues { _ = queue.push(broadcast: first) }
            // Two full chunks were handed to the loop already: they are written while the batch is
            // still open; the last five wait for its end.
            loop.run()
            let handed = EngineWriteBatch.chunk * 2
            #expect(sinks[..<handed].allSatisfy { $0.written.count == 1 })
            #expect(sinks[handed...].allSatisfy { $0.written.isEmpty })
        }
        EngineWriteBatch.collect {
            for queue in queues { _ = queue.push(broadcast: second) }
        }
        loop.run()
        for sink in sinks {
            #expect(sink.written == [.text("4" + one), .text("4" + two)])
        }
    }
}
