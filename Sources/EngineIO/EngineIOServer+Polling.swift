import EngineIOParser
import Foundation
import Logging
import Metrics
import NIOCore
import Synchronization

// HTTP long-polling: the handshake over GET, and the GET/POST of an open polling session.
extension EngineIOServer {
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
        EngineHandshake(
            headers: request.headers, query: request.query, remoteAddress: request.remoteAddress,
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
}
