import MessagePack
public import NIOCore
public import SocketIOParser

/// A message on `socket.io-response#/#` or `socket.io-response#/#<uid>#` (../shared/redis-adapter.md
/// §A.3). Most answers carry no type: the requester knows what it asked under that request id,
/// so decoding needs the pending request's type.
public enum RedisAdapterResponse: Sendable, Hashable {
    /// To SOCKETS (legacy): `{requestId, sockets: [sid…]}`.
    case sockets(requestId: String, socketIds: [String])
    /// To ALL_ROOMS: `{requestId, rooms}`.
    case allRooms(requestId: String, rooms: [String])
    /// To REMOTE_FETCH: `{requestId, sockets: [{id, handshake, rooms, data}]}`.
    case remoteFetch(requestId: String, sockets: [RedisRemoteSocket])
    /// To SERVER_SIDE_EMIT with an acknowledgement: `{type: 6, requestId, data}`, one per node
    /// (`data` is the single argument its handler acknowledged with).
    case serverSideEmit(requestId: String, data: JSONValue)
    /// To a broadcast with acknowledgements, first from each node: `{type: 8, requestId, clientCount}`.
    case broadcastClientCount(requestId: String, clientCount: Int)
    /// Then one per client that acknowledged (MessagePack): `{type: 9, requestId, packet}`, where
    /// `packet` is the client's acknowledgement argument(s).
    case broadcastAck(requestId: String, packet: JSONValue)
    /// To a legacy remote join/leave/disconnect: `{requestId}`.
    case legacyAcknowledgement(requestId: String?)

    public var requestId: String? {
        switch self {
        case .sockets(let id, _), .allRooms(let id, _), .remoteFetch(let id, _), .serverSideEmit(let id, _),
            .broadcastClientCount(let id, _), .broadcastAck(let id, _):
            return id
        case .legacyAcknowledgement(let id):
            return id
        }
    }

    // MARK: - encoding

    /// The bytes a Node node publishes for the same answer: JSON in its key order, except
    /// `broadcastAck`, which is MessagePack (the acknowledgement may carry binary).
    public func encoded() -> ByteBuffer {
        switch self {
        case .sockets(let requestId, let socketIds):
            return RedisAdapterRequest.json(["requestId": .string(requestId), "sockets": RedisAdapterRequest.strings(socketIds)])
        case .allRooms(let requestId, let rooms):
            return RedisAdapterRequest.json(["requestId": .string(requestId), "rooms": RedisAdapterRequest.strings(rooms)])
        case .remoteFetch(let requestId, let sockets):
            return RedisAdapterRequest.json(["requestId": .string(requestId), "sockets": .array(sockets.map(\.json))])
        case .serverSideEmit(let requestId, let data):
            return RedisAdapterRequest.json([
                "type": RedisAdapterRequest.number(.serverSideEmit), "requestId": .string(requestId), "data": data,
            ])
        case .broadcastClientCount(let requestId, let clientCount):
            return RedisAdapterRequest.json([
                "type": RedisAdapterRequest.number(.broadcastClientCount), "requestId": .string(requestId),
                "clientCount": .number(Double(clientCount)),
            ])
        case .broadcastAck(let requestId, let packet):
            let message: MessagePackValue = [
                "type": .int(Int64(RedisAdapterRequestType.broadcastAck.rawValue)), "requestId": .string(requestId),
                "packet": MessagePackValue(packet),
            ]
            return message.encoded()
        case .legacyAcknowledgement(let requestId):
            var object = JSONObject()
            if let requestId { object["requestId"] = .string(requestId) }
            return RedisAdapterRequest.json(.object(object))
        }
    }

    // MARK: - decoding

    /// Reads an answer as `onresponse` does. `pendingRequest` gives the type of the request this
    /// node sent under a request id, or nil when it has none (then the answer is not for this
    /// node, or came too late, and the result is nil, as it is for answers Node would ignore:
    /// a broadcast answer whose type is neither 8 nor 9).
    ///
    /// Like Node, an answer whose `sockets`/`rooms` is missing or not an array still counts as an
    /// answer, with nothing in it; entries of the wrong type are a typed error.
    public static func decode(
        _ payload: ByteBuffer, limits: RedisAdapterLimits = .default,
        pendingRequest: (_ requestId: String) -> RedisAdapterRequestType?
    ) throws(RedisAdapterError) -> RedisAdapterResponse? {
        let reader = RedisWireReader(limits: limits)
        let response = try reader.object(try reader.parse(payload), "")
        guard case .string(let requestId)? = response["requestId"], let pending = pendingRequest(requestId) else { return nil }
        switch pending {
        case .broadcast:
            switch try reader.optionalInteger(response["type"], "type") {
            case RedisAdapterRequestType.broadcastClientCount.rawValue:
                guard case .number(let count)? = response["clientCount"], count.isFinite else {
                    throw RedisAdapterError(.wrongType(expected: "number"), field: "clientCount")
                }
                // A count is never negative or beyond 2^53 (JavaScript); clamp rather than trap.
                return .broadcastClientCount(requestId: requestId, clientCount: Int(min(max(count, 0), 9_007_199_254_740_991)))
            case RedisAdapterRequestType.broadcastAck.rawValue:
                return .broadcastAck(requestId: requestId, packet: response["packet"] ?? .null)
            default:
                return nil
            }
        case .sockets:
            return .sockets(requestId: requestId, socketIds: try reader.rooms(arrayOrNil(response["sockets"]), "sockets"))
        case .allRooms:
            return .allRooms(requestId: requestId, rooms: try reader.rooms(arrayOrNil(response["rooms"]), "rooms"))
        case .remoteFetch:
            let entries = arrayOrNil(response["sockets"])?.arrayValue ?? []
            guard entries.count <= limits.maximumListLength else {
                throw RedisAdapterError(.tooManyEntries(limit: limits.maximumListLength), field: "sockets")
            }
            var sockets: [RedisRemoteSocket] = []
            sockets.reserveCapacity(entries.count)
            for (index, entry) in entries.enumerated() {
                let field = "sockets[\(index)]"
                let socket = try reader.object(entry, field)
                sockets.append(
                    RedisRemoteSocket(
                        id: try reader.room(socket["id"], field + ".id"),
                        handshake: socket["handshake"] ?? .null,
                        rooms: try reader.rooms(socket["rooms"], field + ".rooms"),
                        data: socket["data"] ?? .null
                    ))
            }
            return .remoteFetch(requestId: requestId, sockets: sockets)
        case .serverSideEmit:
            return .serverSideEmit(requestId: requestId, data: response["data"] ?? .null)
        case .remoteJoin, .remoteLeave, .remoteDisconnect:
            return .legacyAcknowledgement(requestId: requestId)
        case .broadcastClientCount, .broadcastAck:
            return nil
        }
    }

    /// The value when it is an array, else nil: an answer whose list is missing or not an array
    /// counts with nothing in it (Node's `!Array.isArray(…) → return` after counting it).
    static func arrayOrNil(_ value: JSONValue?) -> JSONValue? {
        if case .array? = value { return value }
        return nil
    }
}
