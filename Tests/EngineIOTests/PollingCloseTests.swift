import NIOCore
import Synchronization
import Testing

@testable import EngineIO

/// A client's close packet and its long-poll GET race each other on two connections (the
/// official engine.io v4 suite's "forcefully closes the session" sends both at once).
@Suite struct PollingCloseTests {
    let server = EngineIOServer()

    func request(_ method: EngineHTTPRequest.Method, sid: String? = nil, body: String? = nil) -> EngineHTTPRequest {
        var query = ["EIO": "4", "transport": "polling"]
        if let sid { query["sid"] = sid }
        return EngineHTTPRequest(method: method, query: query, headers: [], body: body.map { ByteBuffer(string: $0) }, remoteAddress: nil)
    }

    func openSession() async throws -> String {
        let open = await server.handleHTTP(request(.get))
        #expect(open.status == 200)
        let text = String(buffer: open.body)
        let sid = try #require(text.split(separator: "\"").dropFirst(3).first)
        return String(sid)
    }

    @Test func aGetPendingAtTheCloseGetsANoop() async throws {
        let sid = try await openSession()
        async let poll = server.handleHTTP(request(.get, sid: sid))
        // Let the GET park before the close arrives.
        while server.session(sid)?.hasPendingPoll != true { try await Task.sleep(for: .milliseconds(1)) }
        let close = await server.handleHTTP(request(.post, sid: sid, body: "1"))
        #expect(close.status == 200)
        let answered = await poll
        #expect(answered.status == 200)
        #expect(String(buffer: answered.body) == "6")
        #expect(await server.handleHTTP(request(.get, sid: sid)).status == 400)
    }

    @Test func aGetArrivingJustAfterTheCloseGetsTheNoopOnce() async throws {
        let sid = try await openSession()
        let close = await server.handleHTTP(request(.post, sid: sid, body: "1"))
        #expect(close.status == 200)
        #expect(server.session(sid) == nil)
        let late = await server.handleHTTP(request(.get, sid: sid))
        #expect(late.status == 200)
        #expect(String(buffer: late.body) == "6")
        // Only one: the next GET is for an unknown session.
        let next = await server.handleHTTP(request(.get, sid: sid))
        #expect(next.status == 400)
        #expect(String(buffer: next.body) == #"{"code":1,"message":"Session ID unknown"}"#)
    }

    @Test func aServerClosedSessionOwesNothing() async throws {
        let sid = try await openSession()
        try #require(server.session(sid)).close()
        // The queued close packet is gone with the session; the sid is simply unknown.
        #expect(await server.handleHTTP(request(.get, sid: sid)).status == 400)
        #expect(server.stragglingPolls.withLock { $0[sid] } == nil)
    }

    @Test func aPostAfterTheCloseIsStillRefused() async throws {
        let sid = try await openSession()
        #expect(await server.handleHTTP(request(.post, sid: sid, body: "1")).status == 200)
        #expect(await server.handleHTTP(request(.post, sid: sid, body: "4hello")).status == 400)
    }
}

/// The official v4 suite's "ignores HTTP requests with same sid after upgrade": the client sends
/// "5" on the WebSocket and at once a polling GET on a new connection; the GET may be handled
/// first. It waits for the upgrade's outcome and gets 400 once upgraded.
@Suite struct UpgradeRaceTests {
    let server = EngineIOServer()

    @Test func aGetRacingTheUpgradeWaitsForItAndIsRefused() async throws {
        let open = await server.handleHTTP(
            EngineHTTPRequest(
                method: .get, query: ["EIO": "4", "transport": "polling"], headers: [],
                body: nil, remoteAddress: nil))
        let sid = String(try #require(String(buffer: open.body).split(separator: "\"").dropFirst(3).first))
        let session = try #require(server.session(sid))
        let probe = OutboundFrameQueue(limits: .init(bytes: 1_000, frames: 10))
        #expect(session.beginUpgrade(probe, now: .now))
        session.probed(probe)
        async let get = server.handleHTTP(
            EngineHTTPRequest(
                method: .get, query: ["EIO": "4", "transport": "polling", "sid": sid],
                headers: [], body: nil, remoteAddress: nil))
        while session.upgradeWaiterCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(session.completeUpgrade(probe))
        let answer = await get
        #expect(answer.status == 400)
        #expect(String(buffer: answer.body) == #"{"code":3,"message":"Bad request"}"#)
    }

    @Test func aGetWhileThePausingClientHasNotSentFiveGetsTheNoop() async throws {
        let open = await server.handleHTTP(
            EngineHTTPRequest(
                method: .get, query: ["EIO": "4", "transport": "polling"], headers: [],
                body: nil, remoteAddress: nil))
        let sid = String(try #require(String(buffer: open.body).split(separator: "\"").dropFirst(3).first))
        let session = try #require(server.session(sid))
        // The 100 ms wait ends by the server's timers.
        let timers = Task { try await server.run() }
        defer { timers.cancel() }
        let probe = OutboundFrameQueue(limits: .init(bytes: 1_000, frames: 10))
        #expect(session.beginUpgrade(probe, now: .now))
        session.probed(probe)
        let started = ContinuousClock.now
        async let get = server.handleHTTP(
            EngineHTTPRequest(
                method: .get, query: ["EIO": "4", "transport": "polling", "sid": sid],
                headers: [], body: nil, remoteAddress: nil))
        // The session's earliest deadline moved from its first ping (25 s away) to the GET's 100 ms:
        // the timers are armed for it, not for their 1 s housekeeping bound. (Checked on the heap,
        // not by wall time, which a loaded 2-core machine stretches by seconds.)
        while session.upgradeWaiterCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let armed = try #require(server.timers.earliestDeadline)
        #expect(armed <= ContinuousClock.now + .milliseconds(100) && armed >= started + .milliseconds(100))
        let answer = await get
        #expect(answer.status == 200 && String(buffer: answer.body) == "6")
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        #expect(session.upgradeWaiterCount == 0)
    }
}
