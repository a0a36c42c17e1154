import EngineIOParser
import Logging
import Metrics
import Synchronization

// The session registry: ids, the caps, opening and forgetting sessions, and the open packet.
extension EngineIOServer {
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
        let session = EngineSession(
            id: Self.makeSid(), handshake: handshake, transport: transport, configuration: configuration,
            now: .now, timers: timers
        ) { [weak self] session, cause in
            self?.forget(session, cause: cause)
        }
        let admitted: Result<Int, EngineRequestError> = sessions.withLock { sessions in
            if let refusal = sessions.refusal(
                address: handshake.remoteAddress, maxSessions: configuration.maxSessions,
                maxPerAddress: configuration.maxSessionsPerAddress)
            {
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
            logger.info(
                "engine.io handshake refused",
                metadata: [
                    "reason": "\(refusal.message)",
                    "eio.remote": "\(handshake.remoteAddress ?? "?")",
                ])
            session.discard()
            return .failure(refusal)
        }
        sessionsGauge.record(count)
        Counter(label: "msab_engineio_handshakes_total", dimensions: [("result", "accepted")]).increment()
        return .success(session)
    }

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
            logger.warning(
                "engine.io session closed: slow consumer (outbound backlog over the cap)",
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
        let pingInterval =
            configuration.pingInterval.components.seconds * 1000 + configuration.pingInterval.components.attoseconds / 1_000_000_000_000_000
        let pingTimeout =
            configuration.pingTimeout.components.seconds * 1000 + configuration.pingTimeout.components.attoseconds / 1_000_000_000_000_000
        let upgradesJSON = upgrades.map { "\"\($0)\"" }.joined(separator: ",")
        return EnginePacket(
            .open,
            .text(
                #"{"sid":"\#(sid)","upgrades":[\#(upgradesJSON)],"pingInterval":\#(pingInterval),"pingTimeout":\#(pingTimeout),"maxPayload":\#(configuration.maxPayload)}"#
            ))
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
}

/// glibc's malloc_trim(3) (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32
