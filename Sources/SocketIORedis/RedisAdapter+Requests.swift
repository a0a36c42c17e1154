import EngineIO
import Foundation
import Logging
import Metrics
import NIOCore
import SocketIO
import SocketIOParser
import Synchronization

/// The adapter's requests (../shared/redis-adapter.md §A.3), answered as a Node node does, so
/// `fetchSockets()`, `allRooms()`, `socketsJoin()`, `disconnectSockets()`, `serverSideEmit()` and
/// `broadcast.timeout().emitWithAck()` on a Node node (or an emitter) work with msab nodes in
/// the cluster. Answers go to the requester's own response channel (`socket.io-response#/#<uid>#`,
/// which Node ≥ 7.1 subscribes) except SERVER_SIDE_EMIT's, which Node reads on the shared one.
extension RedisAdapter {
    func receiveRequest(_ payload: ByteBuffer) async {
        let request: RedisAdapterRequest
        do {
            request = try RedisAdapterRequest.decode(payload, limits: limits)
        } catch {
            droppedIn.increment()
            logger.debug("adapter request dropped", metadata: ["error": "\(error)"])
            return
        }
        // Our own requests come back to us too (Redis echoes them); we send none, but an id is an id.
        guard request.uid != uid, let namespace = namespace.withLock({ $0 }) else { return }
        let responseChannel = request.uid.map { channels.response(for: $0) } ?? channels.response
        switch request {
        case .sockets(_, let requestId, let rooms):
            let ids = local.sockets(in: Set(rooms), except: []).sorted()
            respond(.sockets(requestId: requestId, socketIds: ids), on: responseChannel)
        case .allRooms(_, let requestId):
            respond(.allRooms(requestId: requestId, rooms: local.allRooms().sorted()), on: responseChannel)
        case .remoteJoin(_, let options, let rooms):
            for sid in matching(options) { for room in rooms { local.add(sid, to: room) } }
        case .remoteLeave(_, let options, let rooms):
            for sid in matching(options) { for room in rooms { local.remove(sid, from: room) } }
        case .remoteDisconnect(_, let options, let close):
            for sid in matching(options) { namespace.socket(id: sid)?.disconnect(close: close) }
        case .remoteFetch(_, let requestId, let options):
            let sockets = matching(options).sorted().compactMap { namespace.socket(id: $0) }.map(remoteSocket)
            respond(.remoteFetch(requestId: requestId, sockets: sockets), on: responseChannel)
        case .serverSideEmit(_, let requestId?, _):
            // msab registers no server-side listeners; answering (with null) keeps a Node
            // requester from waiting out its timeout for this node.
            respond(.serverSideEmit(requestId: requestId, data: .null), on: channels.response)
        case .serverSideEmit(_, nil, _):
            break
        case .broadcastWithAck(_, let requestId, let packet, let options):
            await broadcastWithAck(requestId: requestId, packet: packet, options: options, namespace: namespace, on: responseChannel)
        case .legacyRemoteJoin(_, let requestId, let sid, let room):
            if namespace.socket(id: sid) != nil {
                local.add(sid, to: room)
                respond(.legacyAcknowledgement(requestId: requestId), on: responseChannel)
            }
        case .legacyRemoteLeave(_, let requestId, let sid, let room):
            if namespace.socket(id: sid) != nil {
                local.remove(sid, from: room)
                respond(.legacyAcknowledgement(requestId: requestId), on: responseChannel)
            }
        case .legacyRemoteDisconnect(_, let requestId, let sid, let close):
            if let socket = namespace.socket(id: sid) {
                socket.disconnect(close: close)
                respond(.legacyAcknowledgement(requestId: requestId), on: responseChannel)
            }
        case .unknown:
            break
        }
    }

    func matching(_ options: RedisBroadcastOptions) -> Set<String> {
        local.sockets(in: Set(options.rooms), except: Set(options.except))
    }

    func respond(_ response: RedisAdapterResponse, on channel: String) {
        enqueue(channel: channel, response.encoded())
    }

    /// Node's `buildHandshake` shape: `{headers, time, address, xdomain, secure, issued, url, query, auth}`.
    func remoteSocket(_ socket: Socket) -> RedisRemoteSocket {
        let handshake = socket.handshake
        var headers = JSONObject()
        for header in handshake.engine.headers.prefix(100) { headers[header.name.lowercased()] = .string(header.value) }
        var query = JSONObject()
        for (key, value) in handshake.query.sorted(by: { $0.key < $1.key }) { query[key] = .string(value) }
        let issued = Double(handshake.issued)
        let json: JSONValue = .object(
            JSONObject([
                ("headers", .object(headers)),
                ("time", .string(Self.javaScriptDateString(milliseconds: handshake.issued))),
                ("address", .string(Self.ipOnly(handshake.address ?? ""))),
                ("xdomain", .bool(handshake.header("origin") != nil)),
                ("secure", .bool(false)),
                ("issued", .number(issued)),
                (
                    "url",
                    .string(
                        "/socket.io/?"
                            + handshake.query.sorted { $0.key < $1.key }
                            .map { "\(Self.percentEncoded($0.key))=\(Self.percentEncoded($0.value))" }.joined(separator: "&"))
                ),
                ("query", .object(query)),
                ("auth", .object(JSONObject())),  // never the client's token
            ]))
        return RedisRemoteSocket(id: socket.id, handshake: json, rooms: socket.rooms.sorted())
    }

    /// Node's `address` is the peer's IP (`conn.remoteAddress`), without the port.
    static func ipOnly(_ address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") { return String(address[address.index(after: address.startIndex)..<end]) }
        if address.filter({ $0 == ":" }).count == 1, let colon = address.lastIndex(of: ":") { return String(address[..<colon]) }
        return address
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? text
    }

    /// `String(new Date(ms))` as V8 prints it in UTC: "Wed Dec 02 2026 10:00:00 GMT+0000 (Coordinated Universal Time)".
    static func javaScriptDateString(milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM dd yyyy HH:mm:ss 'GMT+0000 (Coordinated Universal Time)'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// BROADCAST with acks: the client count first (type 8), then each client's ack (type 9) as
    /// it comes, within the requester's timeout (5 s when it gave none).
    func broadcastWithAck(requestId: String, packet: SocketIOPacket, options: RedisBroadcastOptions, namespace: Namespace, on channel: String) async {
        guard case .array(let data)? = packet.data, case .string(let event)? = data.first else { return }
        let sockets = matching(options).sorted().compactMap { namespace.socket(id: $0) }
        respond(.broadcastClientCount(requestId: requestId, clientCount: sockets.count), on: channel)
        let timeout = Duration.milliseconds(min(max(options.flags.timeout ?? 5_000, 0), 600_000))
        let args = Array(data.dropFirst())
        for socket in sockets {
            // Not awaited one after another: each client answers in its own time.
            Task {
                guard let answer = try? await socket.emitWithAck(event, args, timeout: timeout) else { return }
                self.respond(.broadcastAck(requestId: requestId, packet: answer.count == 1 ? answer[0] : .array(answer)), on: channel)
            }
        }
    }
}
