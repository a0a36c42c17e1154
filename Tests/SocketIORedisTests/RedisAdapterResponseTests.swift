import MessagePack
import NIOCore
import SocketIOParser
import SocketIORedis
import TestSupport
import Testing

@Suite struct RedisAdapterResponseTests {
    static let fetched = RedisRemoteSocket(
        id: "AbCdEfGhIjKlMnOpQrSt",
        handshake: [
            "headers": ["host": "example.com"], "time": "Thu Jan 01 1970", "address": "::1", "xdomain": false, "secure": true,
            "issued": 1_700_000_000_000, "url": "/socket.io/?EIO=4", "query": ["EIO": "4"], "auth": [:],
        ],
        rooms: ["AbCdEfGhIjKlMnOpQrSt", "room1"],
        data: ["userId": 42]
    )

    static let shapes: [(String, RedisAdapterRequestType, RedisAdapterResponse)] = [
        (#"{"requestId":"r1","sockets":["a","b"]}"#, .sockets, .sockets(requestId: "r1", socketIds: ["a", "b"])),
        (
            #"{"requestId":"r1","rooms":["AbCdEfGhIjKlMnOpQrSt","room1"]}"#, .allRooms,
            .allRooms(requestId: "r1", rooms: ["AbCdEfGhIjKlMnOpQrSt", "room1"])
        ),
        (
            #"{"requestId":"r1","sockets":[{"id":"AbCdEfGhIjKlMnOpQrSt","handshake":{"headers":{"host":"example.com"},"time":"Thu Jan 01 1970","#
                + #""address":"::1","xdomain":false,"secure":true,"issued":1700000000000,"url":"/socket.io/?EIO=4","query":{"EIO":"4"},"auth":{}},"#
                + #""rooms":["AbCdEfGhIjKlMnOpQrSt","room1"],"data":{"userId":42}}]}"#,
            .remoteFetch, .remoteFetch(requestId: "r1", sockets: [fetched])
        ),
        (#"{"type":6,"requestId":"r1","data":{"ok":true}}"#, .serverSideEmit, .serverSideEmit(requestId: "r1", data: ["ok": true])),
        (#"{"type":8,"requestId":"r1","clientCount":3}"#, .broadcast, .broadcastClientCount(requestId: "r1", clientCount: 3)),
        (#"{"requestId":"r1"}"#, .remoteJoin, .legacyAcknowledgement(requestId: "r1")),
    ]

    @Test func everyJSONAnswerEncodesAsNodeWritesItAndDecodes() throws {
        for (json, pending, response) in Self.shapes {
            #expect(text(response.encoded()) == json)
            let decoded = try RedisAdapterResponse.decode(buffer(json)) { $0 == "r1" ? pending : nil }
            #expect(decoded == response, "\(json.prefix(40))")
        }
    }

    @Test func theBroadcastAckIsMessagePack() throws {
        let response = RedisAdapterResponse.broadcastAck(requestId: "r1", packet: ["yes", .binary(ByteBuffer(bytes: [7]))])
        let expected =
            bytes("83 a4") + ascii("type") + bytes("09 a9") + ascii("requestId") + bytes("a2") + ascii("r1")
            + bytes("a6") + ascii("packet") + bytes("92 a3") + ascii("yes") + bytes("c4 01 07")
        #expect(Array(response.encoded().readableBytesView) == expected)
        #expect(try RedisAdapterResponse.decode(buffer(expected)) { _ in .broadcast } == response)
        #expect(response.requestId == "r1")
    }

    @Test func answersNotForThisNodeAreNil() throws {
        let json = buffer(#"{"requestId":"other","rooms":[]}"#)
        #expect(try RedisAdapterResponse.decode(json) { _ in nil } == nil)
        // No request id, or not a string.
        #expect(try RedisAdapterResponse.decode(buffer(#"{"rooms":[]}"#)) { _ in .allRooms } == nil)
        #expect(try RedisAdapterResponse.decode(buffer(#"{"requestId":5,"rooms":[]}"#)) { _ in .allRooms } == nil)
        // A broadcast's answer that is neither a count nor an ack.
        #expect(try RedisAdapterResponse.decode(buffer(#"{"type":6,"requestId":"r1"}"#)) { _ in .broadcast } == nil)
        #expect(try RedisAdapterResponse.decode(buffer(#"{"requestId":"r1"}"#)) { _ in .broadcastAck } == nil)
    }

    @Test func answersWithoutTheirListCountWithNothingInIt() throws {
        #expect(try RedisAdapterResponse.decode(buffer(#"{"requestId":"r1"}"#)) { _ in .allRooms } == .allRooms(requestId: "r1", rooms: []))
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"requestId":"r1","sockets":{}}"#)) { _ in .remoteFetch }
                == .remoteFetch(requestId: "r1", sockets: []))
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"requestId":"r1","sockets":"x"}"#)) { _ in .sockets }
                == .sockets(requestId: "r1", socketIds: []))
        // Numeric rooms (a Node app's `join(42)`) come back as strings.
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"requestId":"r1","rooms":[42,"a"]}"#)) { _ in .allRooms }
                == .allRooms(requestId: "r1", rooms: ["42", "a"]))
        // A fetched socket with only an id.
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"requestId":"r1","sockets":[{"id":"s"}]}"#)) { _ in .remoteFetch }
                == .remoteFetch(requestId: "r1", sockets: [RedisRemoteSocket(id: "s", handshake: .null, rooms: [], data: .null)]))
        // An acknowledgement without its argument; a server-side emit answer without data.
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"type":9,"requestId":"r1"}"#)) { _ in .broadcast }
                == .broadcastAck(requestId: "r1", packet: .null))
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"type":6,"requestId":"r1"}"#)) { _ in .serverSideEmit }
                == .serverSideEmit(requestId: "r1", data: .null))
        // Client counts are clamped, never trapped on.
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"type":8,"requestId":"r1","clientCount":-4}"#)) { _ in .broadcast }
                == .broadcastClientCount(requestId: "r1", clientCount: 0))
        #expect(
            try RedisAdapterResponse.decode(buffer(#"{"type":8,"requestId":"r1","clientCount":1e300}"#)) { _ in .broadcast }
                == .broadcastClientCount(requestId: "r1", clientCount: 9_007_199_254_740_991))
    }

    static let hostile: [(String, RedisAdapterRequestType, String, RedisAdapterError.Reason)] = [
        (#"{"requestId":"r1","rooms":[true]}"#, .allRooms, "rooms[0]", .wrongType(expected: "string")),
        (#"{"requestId":"r1","sockets":[null]}"#, .sockets, "sockets[0]", .wrongType(expected: "string")),
        (#"{"requestId":"r1","sockets":["s"]}"#, .remoteFetch, "sockets[0]", .wrongType(expected: "object")),
        (#"{"requestId":"r1","sockets":[{"rooms":[]}]}"#, .remoteFetch, "sockets[0].id", .missingField),
        (#"{"requestId":"r1","sockets":[{"id":"s","rooms":"a"}]}"#, .remoteFetch, "sockets[0].rooms", .wrongType(expected: "array")),
        (#"{"type":8,"requestId":"r1"}"#, .broadcast, "clientCount", .wrongType(expected: "number")),
        (#"{"type":8,"requestId":"r1","clientCount":"3"}"#, .broadcast, "clientCount", .wrongType(expected: "number")),
        (#"{"type":"8","requestId":"r1"}"#, .broadcast, "type", .wrongType(expected: "integer")),
        (#"["r1"]"#, .allRooms, "", .messagePack(MessagePackDecodingError(.trailingBytes, offset: 1))),
    ]

    @Test(arguments: hostile)
    func wrongTypesAreTypedErrors(json: String, pending: RedisAdapterRequestType, field: String, expected: RedisAdapterError.Reason) {
        let error = reason { () throws(RedisAdapterError) in try RedisAdapterResponse.decode(buffer(json)) { _ in pending } }
        #expect(error == RedisAdapterError(expected, field: field))
    }

    @Test func listBounds() {
        let limits = RedisAdapterLimits(maximumListLength: 2)
        let rooms = buffer(#"{"requestId":"r1","rooms":["a","b","c"]}"#)
        #expect(
            reason { () throws(RedisAdapterError) in try RedisAdapterResponse.decode(rooms, limits: limits) { _ in .allRooms } }
                == RedisAdapterError(.tooManyEntries(limit: 2), field: "rooms"))
        let sockets = buffer(#"{"requestId":"r1","sockets":[{"id":"a"},{"id":"b"},{"id":"c"}]}"#)
        #expect(
            reason { () throws(RedisAdapterError) in try RedisAdapterResponse.decode(sockets, limits: limits) { _ in .remoteFetch } }
                == RedisAdapterError(.tooManyEntries(limit: 2), field: "sockets"))
    }
}
