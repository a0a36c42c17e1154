import EngineIOParser
import NIOCore
import Synchronization
import Testing

@testable import EngineIO

/// The Engine.IO session machine driven directly, told the time (a manual clock: instants
/// built from a fixed start, no clock read anywhere).
@Suite struct EngineSessionStateMachineTests {
    final class FakeSocket: Sendable {
        let name: String
        init(_ name: String) { self.name = name }
    }

    typealias Machine = EngineSessionStateMachine<FakeSocket>

    let t0 = ContinuousClock.now
    func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

    var limits: Machine.Limits {
        var limits = Machine.Limits(
            EngineIOConfiguration(
                pingInterval: .milliseconds(1_000), pingTimeout: .milliseconds(500),
                maxPayload: 1_000))
        limits.upgradeTimeout = .milliseconds(2_000)
        limits.maxOutboundPackets = 4
        return limits
    }

    func polling() -> Machine { Machine(transport: .polling, limits: limits, now: t0) }

    /// The actions as short strings, to compare.
    func describe(_ actions: [Machine.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .resumePoll(let token, let packets): "poll \(token) \(EngineIOCodec.encodePayload(packets))"
            case .write(let socket, let frames):
                "write \(socket.name) " + frames.map { if case .text(let t) = $0 { t } else { "<binary>" } }.joined(separator: ",")
            case .finishSocket(let socket): "finish \(socket.name)"
            case .abortSocket(let socket): "abort \(socket.name)"
            case .releaseWaiters(let tokens): "release \(tokens.sorted())"
            case .deliver(let message): "deliver \(message)"
            case .closed(let cause): "closed \(cause.rawValue)"
            }
        }
    }

    // MARK: - polling

    @Test func theHandshakeOpensPollingWithTheFirstPingScheduled() {
        let machine = polling()
        #expect(machine.isPolling)
        #expect(machine.nextDeadline == at(1_000))
        #expect(machine.closeCause == nil)
    }

    @Test func aPollWaitsAndIsResumedByTheNextSend() {
        var machine = polling()
        let r1 = machine.pollRequested(1, now: at(10), mayAwaitUpgrade: true)
        #expect(r1 == .wait)
        let r2 = machine.send([EnginePacket(.message, .text("hi"))], now: at(20))
        #expect(describe(r2) == ["poll 1 4hi"])
        // Nothing buffered: the next GET waits again.
        let r3 = machine.pollRequested(2, now: at(30), mayAwaitUpgrade: true)
        #expect(r3 == .wait)
        // The request went away: its GET is answered empty (the shell answers a noop).
        let r4 = machine.pollCancelled(2)
        #expect(describe(r4) == ["poll 2 "])
    }

    @Test func bufferedPacketsAnswerTheNextPollAtOnce() {
        var machine = polling()
        let r5 = machine.send([EnginePacket(.message, .text("a")), EnginePacket(.message, .text("b"))], now: at(1))
        #expect(r5.isEmpty)
        let r6 = machine.pollRequested(1, now: at(2), mayAwaitUpgrade: true)
        #expect(r6 == .respond([EnginePacket(.message), EnginePacket(.message)]))
    }

    @Test func aSecondGetWhileOneIsPendingClosesTheSession() {
        var machine = polling()
        let r7 = machine.pollRequested(1, now: at(1), mayAwaitUpgrade: true)
        #expect(r7 == .wait)
        guard case .rejectAndClose(let actions) = machine.pollRequested(2, now: at(2), mayAwaitUpgrade: true) else {
            Issue.record("the overlapping GET was not rejected")
            return
        }
        #expect(describe(actions) == ["poll 1 1", "closed transport_error"])
        #expect(machine.closeCause == .transportError)
        #expect(machine.nextDeadline == nil)
    }

    @Test func overlappingPostsAreRefused() {
        var machine = polling()
        let r8 = machine.postBegan()
        #expect(r8)
        let r9 = machine.postBegan()
        #expect(!r9)
        machine.postEnded()
        let r10 = machine.postBegan()
        #expect(r10)
    }

    // MARK: - heartbeat

    @Test func anUnansweredPingTimesOut() {
        var machine = polling()
        let r11 = machine.timerFired(now: at(999))
        #expect(r11.isEmpty)
        let r12 = machine.timerFired(now: at(1_000))
        #expect(r12.isEmpty)  // the ping is buffered for the next GET
        let r13 = machine.pollRequested(1, now: at(1_001), mayAwaitUpgrade: true)
        #expect(r13 == .respond([EnginePacket(.ping)]))
        #expect(machine.nextDeadline == at(1_500))
        let r14 = machine.timerFired(now: at(1_499))
        #expect(r14.isEmpty)
        let r15 = machine.timerFired(now: at(1_500))
        #expect(describe(r15) == ["closed ping_timeout"])
        #expect(machine.closeCause == .pingTimeout)
    }

    @Test func aLateTimerMeasuresThePongDeadlineFromWhenThePingWasDue() {
        var machine = polling()
        _ = machine.timerFired(now: at(1_200))
        #expect(machine.nextDeadline == at(1_500))
        // Both overdue at once: closed without another ping.
        var late = polling()
        let r16 = late.timerFired(now: at(1_600))
        #expect(describe(r16) == ["closed ping_timeout"])
    }

    @Test func thePongPutsTheNextPingAnIntervalAway() {
        var machine = polling()
        _ = machine.timerFired(now: at(1_000))
        let r17 = machine.received(EnginePacket(.pong), now: at(1_100))
        #expect(r17.isEmpty)
        #expect(machine.nextDeadline == at(2_100))
        let r18 = machine.timerFired(now: at(1_600))
        #expect(r18.isEmpty)
        #expect(machine.closeCause == nil)
    }

    @Test func anUnsolicitedPongIsIgnored() {
        var machine = polling()
        _ = machine.received(EnginePacket(.pong), now: at(900))
        #expect(machine.nextDeadline == at(1_000))
        _ = machine.timerFired(now: at(1_000))
        #expect(machine.nextDeadline == at(1_500))
    }

    @Test func aClientPingIsAnsweredAndMessagesAreDelivered() {
        var machine = polling()
        let r19 = machine.pollRequested(1, now: at(1), mayAwaitUpgrade: true)
        #expect(r19 == .wait)
        let r20 = machine.received(EnginePacket(.ping, .text("x")), now: at(2))
        #expect(describe(r20) == ["poll 1 3x"])
        let r21 = machine.received(EnginePacket(.message, .text("m")), now: at(3))
        #expect(describe(r21) == [#"deliver text("m")"#])
        let r22 = machine.received(EnginePacket(.noop), now: at(4))
        #expect(describe(r22) == ["closed parse_error"])
    }

    // MARK: - upgrade

    @Test func probeThenUpgradeMovesToTheWebSocketWithTheBacklog() {
        var machine = polling()
        let ws = FakeSocket("ws")
        let r23 = machine.pollRequested(1, now: at(10), mayAwaitUpgrade: true)
        #expect(r23 == .wait)
        let r24 = machine.upgradeBegan(ws, now: at(20))
        #expect(r24)
        let r25 = machine.upgradeBegan(FakeSocket("other"), now: at(21))
        #expect(!r25)  // one probe at a time
        #expect(machine.nextDeadline == at(1_000))
        let r26 = machine.probeReceived(ws, now: at(30))
        #expect(describe(r26) == ["write ws 3probe", "poll 1 6"])
        // Sent while the client pauses polling: buffered, then handed to the WebSocket.
        let r27 = machine.send([EnginePacket(.message, .text("late"))], now: at(40))
        #expect(r27.isEmpty)
        let r28 = machine.upgradeCompleted(ws, now: at(50))
        #expect(describe(r28 ?? []) == ["write ws 4late"])
        #expect(machine.isWebSocket && !machine.isPolling)
        let r29 = machine.send([EnginePacket(.message, .text("x"))], now: at(60))
        #expect(describe(r29) == ["write ws 4x"])
        let r30 = machine.pollRequested(2, now: at(70), mayAwaitUpgrade: true)
        #expect(r30 == .reject)
        // The heartbeat carried over.
        let r31 = machine.timerFired(now: at(1_000))
        #expect(describe(r31) == ["write ws 2"])
    }

    @Test func aGetDuringTheUpgradeWaitsThenIsRefusedOnceUpgraded() {
        var machine = polling()
        let ws = FakeSocket("ws")
        let r32 = machine.upgradeBegan(ws, now: at(0))
        #expect(r32)
        // Before the probe a GET is an ordinary poll (it gets the probe's noop).
        let r33 = machine.pollRequested(1, now: at(1), mayAwaitUpgrade: true)
        #expect(r33 == .wait)
        _ = machine.probeReceived(ws, now: at(2))
        let r34 = machine.pollRequested(2, now: at(3), mayAwaitUpgrade: true)
        #expect(r34 == .awaitUpgrade)
        #expect(machine.nextDeadline == at(103))
        let r35 = machine.upgradeCompleted(ws, now: at(4))
        #expect(describe(r35 ?? []) == ["release [2]"])
        let r36 = machine.pollRequested(2, now: at(5), mayAwaitUpgrade: false)
        #expect(r36 == .reject)
    }

    @Test func aGetDuringTheUpgradeGetsTheNoopAfter100ms() {
        var machine = polling()
        let ws = FakeSocket("ws")
        let r37 = machine.upgradeBegan(ws, now: at(0))
        #expect(r37)
        _ = machine.probeReceived(ws, now: at(1))
        let r38 = machine.pollRequested(1, now: at(10), mayAwaitUpgrade: true)
        #expect(r38 == .awaitUpgrade)
        let r39 = machine.timerFired(now: at(109))
        #expect(r39.isEmpty)
        let r40 = machine.timerFired(now: at(110))
        #expect(describe(r40) == ["release [1]"])
        let r41 = machine.pollRequested(1, now: at(111), mayAwaitUpgrade: false)
        #expect(r41 == .respond([EnginePacket(.noop)]))
        #expect(machine.isPolling)
    }

    @Test func aProbeThatTakesTooLongIsEndedAndPollingGoesOn() {
        var machine = polling()
        let ws = FakeSocket("ws")
        let r42 = machine.upgradeBegan(ws, now: at(500))
        #expect(r42)
        _ = machine.received(EnginePacket(.pong), now: at(600))
        #expect(machine.nextDeadline == at(1_000))  // the ping comes first
        _ = machine.timerFired(now: at(1_000))
        _ = machine.received(EnginePacket(.pong), now: at(1_100))
        #expect(machine.nextDeadline == at(2_100))
        let r43 = machine.timerFired(now: at(2_500))
        #expect(describe(r43) == ["finish ws"])
        #expect(machine.isPolling && !machine.isWebSocket)
        // The socket is not probing anymore: its "5" does not upgrade.
        let r44 = machine.upgradeCompleted(ws, now: at(2_600))
        #expect(r44 == nil)
        let r45 = machine.upgradeBegan(FakeSocket("again"), now: at(2_700))
        #expect(r45)
    }

    @Test func anAbandonedProbeReleasesItsWaiters() {
        var machine = polling()
        let ws = FakeSocket("ws")
        let r46 = machine.upgradeBegan(ws, now: at(0))
        #expect(r46)
        _ = machine.probeReceived(ws, now: at(1))
        let r47 = machine.pollRequested(7, now: at(2), mayAwaitUpgrade: true)
        #expect(r47 == .awaitUpgrade)
        let r48 = machine.upgradeAbandoned(FakeSocket("stranger"))
        #expect(describe(r48).isEmpty)
        let r49 = machine.upgradeAbandoned(ws)
        #expect(describe(r49) == ["release [7]"])
        #expect(machine.isPolling)
    }

    // MARK: - close

    @Test func aClientCloseAnswersThePendingPollWithANoop() {
        var machine = polling()
        let r50 = machine.pollRequested(1, now: at(1), mayAwaitUpgrade: true)
        #expect(r50 == .wait)
        let r51 = machine.received(EnginePacket(.close), now: at(2))
        #expect(describe(r51) == ["poll 1 6", "closed client_close"])
        #expect(!machine.owesStragglingPoll)
        // Closed is final.
        let r52 = machine.close(.serverClose, now: at(3))
        #expect(r52.isEmpty)
        #expect(machine.closeCause == .clientClose)
    }

    @Test func aClientCloseWithNoGetPendingOwesTheStragglingGetANoop() {
        var machine = polling()
        _ = machine.received(EnginePacket(.close), now: at(1))
        #expect(machine.owesStragglingPoll)
        let r53 = machine.pollRequested(1, now: at(2), mayAwaitUpgrade: true)
        #expect(r53 == .respond([EnginePacket(.close)]))
    }

    @Test func aServerCloseOnTheWebSocketSendsTheClosePacket() {
        let ws = FakeSocket("ws")
        var machine = Machine(transport: .websocket(ws), limits: limits, now: t0)
        let r54 = machine.close(.serverClose, now: at(1))
        #expect(describe(r54) == ["write ws 1", "finish ws", "closed server_close"])
        var other = Machine(transport: .websocket(ws), limits: limits, now: t0)
        let r55 = other.received(EnginePacket(.close), now: at(1))
        #expect(describe(r55) == ["finish ws", "closed client_close"])
    }

    @Test func closingWhileUpgradingEndsTheProbe() {
        var machine = polling()
        let ws = FakeSocket("ws")
        let r56 = machine.upgradeBegan(ws, now: at(0))
        #expect(r56)
        _ = machine.probeReceived(ws, now: at(1))
        let r57 = machine.pollRequested(3, now: at(2), mayAwaitUpgrade: true)
        #expect(r57 == .awaitUpgrade)
        let r58 = machine.close(.serverClose, now: at(3))
        #expect(describe(r58) == ["finish ws", "release [3]", "closed server_close"])
    }

    @Test func aSlowConsumerIsClosed() {
        // Polling: the buffer is capped (4 packets here).
        var machine = polling()
        let four = Array(repeating: EnginePacket(.message, .text("x")), count: 4)
        let r59 = machine.send(four, now: at(1))
        #expect(r59.isEmpty)
        let r60 = machine.send([EnginePacket(.message)], now: at(2))
        #expect(describe(r60) == ["closed slow_consumer"])
        // WebSocket: the writer refuses, the backlog is dropped at once.
        let ws = FakeSocket("ws")
        var websocket = Machine(transport: .websocket(ws), limits: limits, now: t0)
        let r61 = websocket.writeOverflowed(FakeSocket("probe"), now: at(1))
        #expect(r61.isEmpty)
        let r62 = websocket.writeOverflowed(ws, now: at(2))
        #expect(describe(r62) == ["abort ws", "closed slow_consumer"])
    }
}

/// The per-session deadlines replace the 25 ms sweep: a min-heap driven by one task.
@Suite struct SessionTimersTests {
    @Test func theHeapPopsInDeadlineOrderOnlyWhenDue() {
        let t0 = ContinuousClock.now
        var heap = SessionTimers.Heap()
        for ms in [50, 10, 40, 20, 30, 10] { heap.push(.init(deadline: t0 + .milliseconds(ms), slot: SessionTimerSlot())) }
        #expect(heap.earliest == t0 + .milliseconds(10))
        var popped: [Duration] = []
        while let entry = heap.popDue(t0 + .milliseconds(35)) { popped.append(entry.deadline - t0) }
        #expect(popped == [10, 10, 20, 30].map { .milliseconds($0) })
        #expect(heap.count == 2)
    }

    @Test func theServerPingsAndTimesOutASessionWithoutASweep() async throws {
        let server = EngineIOServer(
            configuration: EngineIOConfiguration(
                pingInterval: .milliseconds(100), pingTimeout: .milliseconds(100),
                maxPayload: 1_000))
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let open = await server.handleHTTP(
            EngineHTTPRequest(
                method: .get, query: ["EIO": "4", "transport": "polling"], headers: [],
                body: nil, remoteAddress: nil))
        let sid = String(try #require(String(buffer: open.body).split(separator: "\"").dropFirst(3).first))
        let session = try #require(server.session(sid))
        let started = ContinuousClock.now
        // No GET, no pong: pinged at 100 ms, closed at 200 ms (generous bound for a loaded machine).
        while !session.isClosed, ContinuousClock.now - started < .seconds(10) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await session.closed() == .pingTimeout)
        #expect(ContinuousClock.now - started >= .milliseconds(150))
        #expect(server.session(sid) == nil)
    }
}

/// The timers reach sessions through a slot that lets go on close: a closed session is freed at once, not at its deadline.
@Suite struct SessionTimersLeakTests {
    @Test func aClosedSessionIsNotKeptByItsTimerEntry() {
        let timers = SessionTimers()
        weak var weakSession: EngineSession?
        do {
            let session = EngineSession(
                id: "t", handshake: .init(headers: [], query: [:], remoteAddress: nil, issuedAtMs: 0),
                transport: .polling, configuration: .init(), now: .now, timers: timers
            ) { _, _ in }
            weakSession = session
            #expect(timers.count == 1)
            session.close()
        }
        #expect(weakSession == nil)
        #expect(timers.count == 1)  // the entry stays until it comes up, then is dropped
    }
}
