import NIOCore
public import ServiceLifecycle
import EngineIOParser
import Foundation
import Logging
import Metrics
import Synchronization

/// An Engine.IO v4 server (engine.io's `Server`): the handshake, the long-polling and WebSocket
/// transports and the upgrade between them, the heartbeat, and the session table. It is a
/// `Service`: `run()` drives the sessions' timers until graceful shutdown, then closes every session.
///
/// The web framework adapter (`EngineIOHummingbird`) hands it HTTP requests (`handleHTTP`) and
/// WebSockets (`runWebSocket`); the layer above reads `connections`.
public final class EngineIOServer: Service, Sendable {
    public let configuration: EngineIOConfiguration
    let logger: Logger
    /// New open sessions, for the layer above (Socket.IO) to serve.
    public let connections: AsyncStream<any EngineConnection>
    let connectionsContinuation: AsyncStream<any EngineConnection>.Continuation
    let sessions = Mutex(SessionTable())
    /// Wakes each session at its next deadline (heartbeat, upgrade probe, upgrade waits).
    let timers = SessionTimers()
    /// Polling sessions the client closed while no GET was pending → until when a GET for them
    /// still gets the noop it would have got had it arrived first (one GET each; engine.io
    /// answers a GET pending at the close with a noop, and the official suite's "forcefully
    /// closes the session" sends the GET and the close at the same time).
    let stragglingPolls = Mutex<[String: ContinuousClock.Instant]>([:])
    static let stragglingPollGrace = Duration.seconds(1)
    let sessionsGauge = Gauge(label: "msab_engineio_sessions")
    /// Session objects alive (closed sessions must be freed: a leak check).
    let objectsGauge = Gauge(label: "msab_engineio_session_objects")

    public init(configuration: EngineIOConfiguration = .init(), logger: Logger = Logger(label: "msab.engineio")) {
        self.configuration = configuration
        self.logger = logger
        (connections, connectionsContinuation) = AsyncStream.makeStream(of: (any EngineConnection).self)
    }

    /// Open sessions (a test hook, and the gauge's value).
    public var sessionCount: Int { sessions.withLock { $0.count } }

    // MARK: - Service

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

    // MARK: - sessions

    static func makeSid() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        return String(decoding: (0..<20).map { _ in alphabet[Int(generator.next() % 64)] }, as: UTF8.self)
    }

    /// Whether a handshake from `remoteAddress` would be refused by the session caps (checked
    /// again, atomically, when the session opens).
    func capRefusal(remoteAddress: String?) -> EngineRequestError? {
        sessions.withLock {
            $0.refusal(address: remoteAddress, maxSessions: configuration.maxSessions, maxPerAddress: configuration.maxSessionsPerAddress)
        }
    }

    /// Opens a session, or says which cap refuses it.
    func openSession(handshake: EngineHandshake, transport: EngineSession.Transport) -> Result<EngineSession, EngineRequestError> {
        let session = EngineSession(id: Self.makeSid(), handshake: handshake, transport: transport, configuration: configuration,
                                    now: .now, timers: timers) { [weak self] session, cause in
            self?.forget(session, cause: cause)
        }
        let admitted: Result<Int, EngineRequestError> = sessions.withLock { sessions in
            if let refusal = sessions.refusal(address: handshake.remoteAddress, maxSessions: configuration.maxSessions,
                                              maxPerAddress: configuration.maxSessionsPerAddress) {
                return .failure(refusal)
            }
            sessions.insert(session)
            return .success(sessions.count)
        }
        let count: Int
        switch admitted {
        case .success(let value): count = value
        case .failure(let refusal):
            Counter(label: "msab_engineio_handshakes_total", dimensions: [("result", refusal.metricName)]).increment()
            logger.info("engine.io handshake refused", metadata: ["reason": "\(refusal.message)",
                                                                  "eio.remote": "\(handshake.remoteAddress ?? "?")"])
            session.discard()
            return .failure(refusal)
        }
        sessionsGauge.record(count)
        Counter(label: "msab_engineio_handshakes_total", dimensions: [("result", "accepted")]).increment()
        return .success(session)
    }

    /// When to give freed memory back after a wave of closed sessions.
    let trimPolicy = Mutex(MemoryTrimPolicy())

    /// After a wave of closed sessions (a reconnect storm, 10,000 abandoned handshakes), ask glibc
    /// to return freed heap pages to the system: otherwise the process keeps its peak footprint.
    func releaseMemoryAfterAWaveOfCloses(now: ContinuousClock.Instant) {
        if trimPolicy.withLock({ $0.shouldTrim(now: now) }) { _ = glibcMallocTrim(0) }
    }

    func forget(_ session: EngineSession, cause: EngineCloseCause) {
        let reason = cause.reason
        Counter(label: "msab_engineio_closed_total", dimensions: [("reason", cause.rawValue)]).increment()
        trimPolicy.withLock { $0.sessionClosed(at: ContinuousClock.now) }
        let count = sessions.withLock { sessions in
            sessions.remove(session)
            return sessions.count
        }
        sessionsGauge.record(count)
        if reason == .clientClose, session.owesStragglingPoll {
            let until = ContinuousClock.now + Self.stragglingPollGrace
            stragglingPolls.withLock { $0[session.id] = until }
        }
        if cause == .slowConsumer {
            logger.warning("engine.io session closed: slow consumer (outbound backlog over the cap)",
                           metadata: ["eio.sid": "\(session.id)", "eio.remote": "\(session.handshake.remoteAddress ?? "?")"])
        } else {
            logger.debug("engine.io session closed", metadata: ["eio.sid": "\(session.id)", "reason": "\(cause.rawValue)"])
        }
    }

    func session(_ sid: String) -> EngineSession? { sessions.withLock { $0[sid] } }

    /// Whether `sid` is a client-closed polling session still owed a noop (then no longer).
    func takeStragglingPoll(_ sid: String) -> Bool {
        stragglingPolls.withLock { table in
            guard let until = table.removeValue(forKey: sid) else { return false }
            return until > ContinuousClock.now
        }
    }

    func openPacket(sid: String, upgrades: [String]) -> EnginePacket {
        let pingInterval = configuration.pingInterval.components.seconds * 1000 + configuration.pingInterval.components.attoseconds / 1_000_000_000_000_000
        let pingTimeout = configuration.pingTimeout.components.seconds * 1000 + configuration.pingTimeout.components.attoseconds / 1_000_000_000_000_000
        let upgradesJSON = upgrades.map { "\"\($0)\"" }.joined(separator: ",")
        return EnginePacket(.open, .text(#"{"sid":"\#(sid)","upgrades":[\#(upgradesJSON)],"pingInterval":\#(pingInterval),"pingTimeout":\#(pingTimeout),"maxPayload":\#(configuration.maxPayload)}"#))
    }

    func refuse(_ error: EngineRequestError, _ request: EngineHTTPRequest) -> EngineHTTPResponse {
        Counter(label: "msab_engineio_handshakes_total", dimensions: [("result", error.metricName)]).increment()
        return refuseCounted(error, request)
    }

    /// The refusal answer, already counted.
    func refuseCounted(_ error: EngineRequestError, _ request: EngineHTTPRequest) -> EngineHTTPResponse {
        var response = EngineHTTPResponse.error(error)
        response.headers += corsHeaders(request)
        return response
    }

    // MARK: - HTTP (long-polling)

    func corsHeaders(_ request: EngineHTTPRequest) -> [(name: String, value: String)] {
        guard let origin = request.header("origin") else { return [] }
        if let allowed = configuration.allowedOrigins, !allowed.contains(origin), !allowed.contains("*"),
           !SameOrigin.matches(origin: origin, host: request.header("host")) { return [] }
        return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
    }

    /// engine.io's `verify()` + `handleRequest()` for long-polling requests (and the HTTP answer to
    /// WebSocket requests that were not upgraded).
    public func handleHTTP(_ request: EngineHTTPRequest) async -> EngineHTTPResponse {
        if request.method == .options {
            var headers = corsHeaders(request)
            headers.append(("Access-Control-Allow-Methods", "GET,POST"))
            if let asked = request.header("access-control-request-headers") { headers.append(("Access-Control-Allow-Headers", asked)) }
            return EngineHTTPResponse(status: 204, headers: headers, body: ByteBuffer())
        }
        let transport = request.query["transport"] ?? ""
        guard (transport == "polling" && configuration.allowPolling) || (transport == "websocket" && configuration.allowWebSocket) else {
            return refuse(.unknownTransport, request)
        }
        if let sid = request.query["sid"] {
            // A session whose pong is overdue is dead now, whatever the timers' phase.
            if let session = session(sid) { session.timerFired(now: .now) }
            guard let session = session(sid) else {
                if transport == "polling", request.method == .get, takeStragglingPoll(sid) {
                    var response = EngineHTTPResponse.text(200, EngineIOCodec.encodePayload([EnginePacket(.noop)]))
                    response.headers += corsHeaders(request)
                    return response
                }
                return refuse(.unknownSid, request)
            }
            // A WebSocket request that reached HTTP was not an upgrade.
            guard transport == "polling" else { return refuse(.badRequest, request) }
            switch request.method {
            case .get:
                // The session's machine answers 400 once upgraded; a GET racing the client's "5"
                // on the upgrading WebSocket first waits for the upgrade's outcome.
                return await pollGET(session, request)
            case .post:
                // A polling request must be on a polling session.
                guard session.isPolling else { return refuse(.badRequest, request) }
                return await pollPOST(session, request)
            default: return refuse(.badRequest, request)
            }
        }
        guard request.method == .get else { return refuse(.badHandshakeMethod, request) }
        // A WebSocket handshake that an adapter routed here (not upgraded) because of a cap gets the cap's answer.
        if transport == "websocket", request.query["EIO"] == "4", let refusal = capRefusal(remoteAddress: request.remoteAddress) {
            return refuse(refusal, request)
        }
        guard transport == "polling" else { return refuse(.badRequest, request) }
        guard request.query["EIO"] == "4" else { return refuse(.unsupportedProtocolVersion, request) }
        let session: EngineSession
        switch openSession(handshake: handshake(request), transport: .polling) {
        case .success(let opened): session = opened
        case .failure(let refusal): return refuseCounted(refusal, request)
        }
        connectionsContinuation.yield(session)
        let open = openPacket(sid: session.id, upgrades: configuration.allowWebSocket ? ["websocket"] : [])
        var response = EngineHTTPResponse.text(200, EngineIOCodec.encodePayload([open]))
        response.headers += corsHeaders(request)
        return response
    }

    func handshake(_ request: EngineHTTPRequest) -> EngineHandshake {
        EngineHandshake(headers: request.headers, query: request.query, remoteAddress: request.remoteAddress,
                        issuedAtMs: Int64(Date().timeIntervalSince1970 * 1000))
    }

    func pollGET(_ session: EngineSession, _ request: EngineHTTPRequest) async -> EngineHTTPResponse {
        switch await session.poll() {
        case .rejected:
            return refuse(.badRequest, request)
        case .packets(let packets):
            var response = EngineHTTPResponse.text(200, EngineIOCodec.encodePayload(packets.isEmpty ? [EnginePacket(.noop)] : packets))
            response.headers += corsHeaders(request)
            return response
        }
    }

    func pollPOST(_ session: EngineSession, _ request: EngineHTTPRequest) async -> EngineHTTPResponse {
        let body = request.body ?? ByteBuffer()
        guard body.readableBytes <= configuration.maxPayload else {
            session.close(reason: .transportError)
            var response = EngineHTTPResponse.text(413, "Payload Too Large")
            response.headers += corsHeaders(request)
            return response
        }
        let text = String(decoding: body.readableBytesView, as: UTF8.self)
        let packets: [EnginePacket]
        do {
            packets = try EngineIOCodec.decodePayload(text)
        } catch {
            session.close(reason: .parseError)
            return refuse(.badRequest, request)
        }
        // One POST at a time (engine.io: "data request overlap from client"): the inbound caps
        // below hold back one request, not an unbounded number of them.
        guard session.beginPOST() else {
            session.close(reason: .transportError)
            return refuse(.badRequest, request)
        }
        defer { session.endPOST() }
        for packet in packets {
            if packet.type == .message { await session.inboundQueue.waitForRoom() }
            // A packet a client may not send (open, upgrade, noop): the session is closed.
            if !session.received(packet, now: .now) { return refuse(.badRequest, request) }
        }
        var response = EngineHTTPResponse.text(200, "ok", contentType: "text/html")
        response.headers += corsHeaders(request)
        return response
    }

    // MARK: - WebSocket

    /// Whether a WebSocket upgrade request should be accepted (the adapter asks before upgrading);
    /// a refused one is answered over HTTP by `handleHTTP`.
    public func shouldUpgrade(query: [String: String], remoteAddress: String? = nil) -> Bool {
        guard configuration.allowWebSocket, query["transport"] == "websocket" else { return false }
        if let sid = query["sid"] {
            // A known sid is upgraded even when it cannot take a new transport (already on
            // WebSocket): the socket is then closed, as engine.io does.
            return session(sid) != nil
        }
        guard query["EIO"] == "4" else { return false }
        // Over a session cap: not upgraded. (engine.io answers a refused upgrade with a bare 400;
        // hummingbird-websocket does the same, with an empty body, for any refused upgrade.)
        if let refusal = capRefusal(remoteAddress: remoteAddress) {
            Counter(label: "msab_engineio_handshakes_total", dimensions: [("result", refusal.metricName)]).increment()
            return false
        }
        return true
    }

    /// Serves an upgraded WebSocket until it closes: a new session (no sid), or the upgrade of a
    /// polling session. `frames` are the client's messages; `write` sends one frame.
    public func runWebSocket<Frames: AsyncSequence & Sendable>(
        query: [String: String], headers: [(name: String, value: String)], remoteAddress: String?,
        frames: Frames, sink: any EngineFrameSink
    ) async where Frames.Element == EngineIOCodec.Frame {
        let writer = OutboundFrameQueue(
            limits: .init(bytes: configuration.maxOutboundBytes, frames: configuration.maxOutboundPackets), sink: sink)
        let request = EngineHTTPRequest(method: .get, query: query, headers: headers, body: nil, remoteAddress: remoteAddress)
        var session: EngineSession
        var probing = false
        if let sid = query["sid"] {
            guard let existing = self.session(sid), existing.beginUpgrade(writer, now: .now) else {
                _ = writer.push([.text("1")])
                writer.finish()
                await writer.drained()
                return
            }
            session = existing
            probing = true
        } else {
            switch openSession(handshake: handshake(request), transport: .websocket(writer)) {
            case .success(let opened): session = opened
            case .failure:
                // A cap filled up since `shouldUpgrade`: nothing was opened, the socket just closes.
                return
            }
            _ = writer.push([.text(EngineIOCodec.encodeText(openPacket(sid: session.id, upgrades: [])))])
            connectionsContinuation.yield(session)
        }
        let current = session
        let startsProbing = probing
        do {
            try await withThrowingDiscardingTaskGroup { group in
                // The writer drains itself into the channel (see OutboundFrameQueue). Once the
                // session has closed (or the probe was abandoned) and the last frame is on the
                // wire, the reader is cancelled by the error, which closes the socket.
                group.addTask {
                    await writer.drained()
                    throw WebSocketWriterDone()
                }
                group.addTask {
                    await self.readWebSocket(frames: frames, session: current, writer: writer, probing: startsProbing)
                    writer.finish()
                }
                // A slow consumer's socket is ended at once, even with a write stuck on it.
                group.addTask {
                    await writer.aborted()
                    throw WebSocketWriterDone()
                }
            }
        } catch {
            // WriterDone or a failed socket: fall through to the clean-up.
        }
        if !current.isClosed, !startsProbing || current.isCurrentWebSocket() {
            // This socket was the session's transport: the session ends with it.
            current.close(reason: .transportError)
        }
        if startsProbing, !current.isCurrentWebSocket() { current.abandonUpgrade(writer) }
        writer.finish()
    }

    func readWebSocket<Frames: AsyncSequence & Sendable>(frames: Frames, session current: EngineSession,
                                                        writer: OutboundFrameQueue,
                                                        probing startsProbing: Bool) async where Frames.Element == EngineIOCodec.Frame {
        var probing = startsProbing
        do {
            reading: for try await frame in frames {
                let size: Int
                switch frame {
                case .text(let t): size = t.utf8.count
                case .binary(let b): size = b.readableBytes
                }
                guard size <= configuration.maxPayload else {
                    current.close(reason: .transportError)
                    break reading
                }
                if probing {
                    // Before "5" only the probe is allowed on this socket.
                    if case .text("2probe") = frame {
                        current.probed(writer)
                        continue
                    }
                    if case .text("5") = frame, current.completeUpgrade(writer) {
                        probing = false
                        continue
                    }
                    current.abandonUpgrade(writer)
                    break reading
                }
                let packet: EnginePacket
                switch frame {
                case .text(let text):
                    do { packet = try EngineIOCodec.decodeText(text) } catch {
                        current.close(reason: .parseError)
                        break reading
                    }
                case .binary(let bytes):
                    packet = EngineIOCodec.decodeBinaryFrame(bytes)
                }
                // At the inbound cap, stop reading until the layer above catches up (TCP pushes back).
                if packet.type == .message { await current.inboundQueue.waitForRoom() }
                if !current.received(packet, now: .now) { break reading }
                if current.isClosed { break reading }
            }
        } catch {
            // The socket failed or was cancelled.
        }
        if probing {
            current.abandonUpgrade(writer)
        } else if !current.isClosed, current.isCurrentWebSocket() {
            current.close(reason: .transportError)
        }
    }
}

/// Ends the WebSocket task group when the session stops writing.
struct WebSocketWriterDone: Error {}

/// glibc's malloc_trim(3) (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32
