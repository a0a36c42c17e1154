import MessagePack
import NIOCore
import SocketIOParser
import SocketIORedis
import TestSupport
import Testing

/// The request shapes of ../shared/redis-adapter.md §A.3 (read from socket.io-redis-adapter
/// `lib/index.ts` and socket.io-redis-emitter `lib/broadcast-operator.ts`), as JSON text exactly
/// as JSON.stringify writes them.
@Suite struct RedisAdapterRequestTests {
    static let target = RedisBroadcastOptions(rooms: ["room1"], except: ["AbCdEfGhIjKlMnOpQrSt"])
    static let targetJSON = #"{"rooms":["room1"],"except":["AbCdEfGhIjKlMnOpQrSt"]}"#

    static let shapes: [(String, RedisAdapterRequest)] = [
        (#"{"uid":"Xy12Ab","requestId":"r1","type":0,"rooms":["a","b"]}"#, .sockets(uid: "Xy12Ab", requestId: "r1", rooms: ["a", "b"])),
        (#"{"uid":"Xy12Ab","requestId":"r1","type":1}"#, .allRooms(uid: "Xy12Ab", requestId: "r1")),
        (#"{"uid":"Xy12Ab","type":2,"opts":\#(targetJSON),"rooms":["vip"]}"#, .remoteJoin(uid: "Xy12Ab", options: target, rooms: ["vip"])),
        (#"{"uid":"Xy12Ab","type":3,"opts":\#(targetJSON),"rooms":["vip"]}"#, .remoteLeave(uid: "Xy12Ab", options: target, rooms: ["vip"])),
        (#"{"uid":"Xy12Ab","type":4,"opts":\#(targetJSON),"close":true}"#, .remoteDisconnect(uid: "Xy12Ab", options: target, close: true)),
        (#"{"uid":"Xy12Ab","requestId":"r1","type":5,"opts":\#(targetJSON)}"#, .remoteFetch(uid: "Xy12Ab", requestId: "r1", options: target)),
        (
            #"{"uid":"Xy12Ab","type":6,"data":["hello",1,{"a":[true,null]}]}"#,
            .serverSideEmit(uid: "Xy12Ab", requestId: nil, data: ["hello", 1, ["a": [true, nil]]])
        ),
        (#"{"uid":"Xy12Ab","requestId":"r1","type":6,"data":["hello"]}"#, .serverSideEmit(uid: "Xy12Ab", requestId: "r1", data: ["hello"])),
        // The emitter's requests carry no uid (serverSideEmit has "emitter").
        (#"{"type":2,"opts":{"rooms":[],"except":[]},"rooms":["vip"]}"#, .remoteJoin(uid: nil, options: RedisBroadcastOptions(), rooms: ["vip"])),
        (
            #"{"type":3,"opts":{"rooms":["a"],"except":[]},"rooms":["b","c"]}"#,
            .remoteLeave(uid: nil, options: RedisBroadcastOptions(rooms: ["a"]), rooms: ["b", "c"])
        ),
        (
            #"{"type":4,"opts":{"rooms":[],"except":["x"]},"close":false}"#,
            .remoteDisconnect(uid: nil, options: RedisBroadcastOptions(except: ["x"]), close: false)
        ),
        (#"{"uid":"emitter","type":6,"data":["ev",{"k":"v"}]}"#, .serverSideEmit(uid: "emitter", requestId: nil, data: ["ev", ["k": "v"]])),
        // Legacy forms (adapters before 7.0), still answered by 8.x.
        (
            #"{"uid":"Xy12Ab","requestId":"r1","type":2,"sid":"AbCdEfGhIjKlMnOpQrSt","room":"vip"}"#,
            .legacyRemoteJoin(uid: "Xy12Ab", requestId: "r1", socketId: "AbCdEfGhIjKlMnOpQrSt", room: "vip")
        ),
        (
            #"{"uid":"Xy12Ab","requestId":"r1","type":3,"sid":"AbCdEfGhIjKlMnOpQrSt","room":"vip"}"#,
            .legacyRemoteLeave(uid: "Xy12Ab", requestId: "r1", socketId: "AbCdEfGhIjKlMnOpQrSt", room: "vip")
        ),
        (
            #"{"uid":"Xy12Ab","requestId":"r1","type":4,"sid":"AbCdEfGhIjKlMnOpQrSt","close":true}"#,
            .legacyRemoteDisconnect(uid: "Xy12Ab", requestId: "r1", socketId: "AbCdEfGhIjKlMnOpQrSt", close: true)
        ),
        // Types this adapter ignores.
        (#"{"type":42}"#, .unknown(type: 42)),
    ]

    @Test func everyRequestShapeDecodesFromJSONAndEncodesBackToTheSameText() throws {
        for (json, request) in Self.shapes {
            #expect(try RedisAdapterRequest.decode(buffer(json)) == request, "\(json)")
            #expect(text(request.encoded()) == json)
        }
    }

    @Test func requestsSentAsMessagePackDecodeToo() throws {
        // A custom `parser` option (or a non-Node peer) may send any request as MessagePack.
        for (json, request) in Self.shapes {
            let value = MessagePackValue(try JSONValue.parse(json))
            #expect(try RedisAdapterRequest.decode(value.encoded()) == request, "\(json)")
        }
    }

    @Test func theBroadcastWithAckIsMessagePack() throws {
        let request = RedisAdapterRequest.broadcastWithAck(
            uid: "Xy12Ab", requestId: "r1",
            packet: SocketIOPacket(type: .event, data: ["question", .binary(ByteBuffer(bytes: [1, 2]))]),
            options: RedisBroadcastOptions(rooms: ["42"], except: [], flags: RedisBroadcastFlags(timeout: 5000))
        )
        let encoded = request.encoded()
        #expect(encoded.readableBytesView.first != UInt8(ascii: "{"))
        // `{uid, requestId, type, packet, opts}` in the adapter's order (`broadcastWithAck`).
        let expected: [UInt8] =
            bytes("85 a3") + ascii("uid") + bytes("a6") + ascii("Xy12Ab") + bytes("a9") + ascii("requestId") + bytes("a2") + ascii("r1")
            + bytes("a4") + ascii("type") + bytes("07")
            + bytes("a6") + ascii("packet") + bytes("83 a4") + ascii("type") + bytes("02 a4") + ascii("data") + bytes("92 a8") + ascii("question")
            + bytes("c4 02 01 02 a3") + ascii("nsp") + bytes("a1") + ascii("/")
            + bytes("a4") + ascii("opts") + bytes("83 a5") + ascii("rooms") + bytes("91 a2") + ascii("42") + bytes("a6") + ascii("except")
            + bytes("90")
            + bytes("a5") + ascii("flags") + bytes("81 a7") + ascii("timeout") + bytes("cd 13 88")
        #expect(Array(encoded.readableBytesView) == expected)
        #expect(try RedisAdapterRequest.decode(encoded) == request)
        #expect(request.type == .broadcast && request.requestId == "r1" && request.uid == "Xy12Ab")
    }

    @Test func accessors() {
        #expect(RedisAdapterRequest.allRooms(uid: "u", requestId: "r").type == .allRooms)
        #expect(RedisAdapterRequest.legacyRemoteLeave(uid: nil, requestId: "r", socketId: "s", room: "x").type == .remoteLeave)
        #expect(RedisAdapterRequest.remoteJoin(uid: "u", options: RedisBroadcastOptions(), rooms: []).requestId == nil)
        #expect(RedisAdapterRequest.unknown(type: 8).type == .broadcastClientCount)
        #expect(RedisAdapterRequest.unknown(type: 99).type == nil)
        #expect(RedisAdapterRequest.unknown(type: nil).uid == nil)
        #expect(text(RedisAdapterRequest.unknown(type: nil).encoded()) == "{}")
    }

    @Test func tolerantReadings() throws {
        // Missing or null type: ignored by Node, `.unknown(nil)` here; 8 and 9 are responses.
        #expect(try RedisAdapterRequest.decode(buffer(#"{"uid":"u"}"#)) == .unknown(type: nil))
        #expect(try RedisAdapterRequest.decode(buffer(#"{"type":null}"#)) == .unknown(type: nil))
        #expect(try RedisAdapterRequest.decode(buffer(#"{"type":8,"requestId":"r","clientCount":1}"#)) == .unknown(type: 8))
        #expect(try RedisAdapterRequest.decode(buffer(#"{"type":-3}"#)) == .unknown(type: -3))
        // `opts: null` is the legacy form, as `if (request.opts)` decides.
        #expect(
            try RedisAdapterRequest.decode(buffer(#"{"type":2,"opts":null,"sid":"s","room":7}"#))
                == .legacyRemoteJoin(uid: nil, requestId: nil, socketId: "s", room: "7"))
        // Missing `close`, `except`, `rooms`: false and empty.
        #expect(
            try RedisAdapterRequest.decode(buffer(#"{"type":4,"opts":{}}"#))
                == .remoteDisconnect(uid: nil, options: RedisBroadcastOptions(), close: false))
        #expect(
            try RedisAdapterRequest.decode(buffer(#"{"type":2,"opts":{"rooms":[1]}}"#))
                == .remoteJoin(uid: nil, options: RedisBroadcastOptions(rooms: ["1"]), rooms: []))
        // Unknown keys are ignored.
        #expect(try RedisAdapterRequest.decode(buffer(#"{"type":1,"requestId":"r","future":{"x":1}}"#)) == .allRooms(uid: nil, requestId: "r"))
    }

    @Test func binaryInJSONRequestsIsWrittenAsNodeWritesABuffer() {
        let request = RedisAdapterRequest.serverSideEmit(uid: "u", requestId: nil, data: ["ev", .binary(ByteBuffer(bytes: [1, 255]))])
        #expect(text(request.encoded()) == #"{"uid":"u","type":6,"data":["ev",{"type":"Buffer","data":[1,255]}]}"#)
    }

    // MARK: - hostile input

    static let hostile: [(String, String, RedisAdapterError.Reason)] = [
        (#"[1,2]"#, "", .messagePack(MessagePackDecodingError(.trailingBytes, offset: 1))),  // `[` is not `{`: read as MessagePack
        (#"{"type":"1"}"#, "type", .wrongType(expected: "integer")),
        (#"{"type":1.5}"#, "type", .wrongType(expected: "integer")),
        (#"{"type":1e300}"#, "type", .wrongType(expected: "integer")),
        (#"{"type":1,"uid":5,"requestId":"r"}"#, "uid", .wrongType(expected: "string")),
        (#"{"type":1}"#, "requestId", .missingField),
        (#"{"type":1,"requestId":5}"#, "requestId", .wrongType(expected: "string")),
        (#"{"type":0,"requestId":"r","rooms":"a"}"#, "rooms", .wrongType(expected: "array")),
        (#"{"type":2,"opts":"all","rooms":[]}"#, "opts", .wrongType(expected: "object")),
        (#"{"type":2,"opts":{"rooms":[{}]},"rooms":[]}"#, "opts.rooms[0]", .wrongType(expected: "string")),
        (#"{"type":3,"opts":{"except":"x"},"rooms":[]}"#, "opts.except", .wrongType(expected: "array")),
        (#"{"type":3,"opts":{},"rooms":[false]}"#, "rooms[0]", .wrongType(expected: "string")),
        (#"{"type":2,"room":"x"}"#, "sid", .missingField),
        (#"{"type":2,"sid":"s"}"#, "room", .missingField),
        (#"{"type":2,"sid":["s"],"room":"x"}"#, "sid", .wrongType(expected: "string")),
        (#"{"type":4,"opts":{},"close":"yes"}"#, "close", .wrongType(expected: "boolean")),
        (#"{"type":4,"sid":"s","requestId":1}"#, "requestId", .wrongType(expected: "string")),
        (#"{"type":5,"requestId":"r"}"#, "opts", .missingField),
        (#"{"type":5,"requestId":"r","opts":[]}"#, "opts", .wrongType(expected: "object")),
        (#"{"type":6}"#, "data", .missingField),
        (#"{"type":6,"data":{"0":"ev"}}"#, "data", .wrongType(expected: "array")),
        (#"{"type":6,"data":[],"requestId":false}"#, "requestId", .wrongType(expected: "string")),
        (#"{"type":7,"requestId":"r","opts":{}}"#, "packet", .missingField),
        (
            #"{"type":7,"requestId":"r","packet":{"type":2},"opts":{"flags":{"timeout":"soon"}}}"#, "opts.flags.timeout",
            .wrongType(expected: "number")
        ),
        (#"{"type":7,"requestId":"r","packet":{"type":12},"opts":{}}"#, "packet.type", .unsupportedPacketType(12)),
    ]

    @Test(arguments: hostile)
    func wrongTypesAreTypedErrors(json: String, field: String, expected: RedisAdapterError.Reason) {
        #expect(reason { () throws(RedisAdapterError) in try RedisAdapterRequest.decode(buffer(json)) } == RedisAdapterError(expected, field: field))
    }

    @Test func malformedJSONAndOversizedMessagesAreTypedErrors() {
        for json in [#"{"type":1"#, #"{"type":1}x"#, #"{type:1}"#, "{" + String(repeating: #""a":["#, count: 70)] {
            guard case .json? = reason({ () throws(RedisAdapterError) in try RedisAdapterRequest.decode(buffer(json)) })?.reason else {
                Issue.record("\(json.prefix(20)) was not a JSON error")
                continue
            }
        }
        let limits = RedisAdapterLimits(maximumMessageBytes: 10)
        #expect(
            reason { () throws(RedisAdapterError) in try RedisAdapterRequest.decode(buffer(#"{"type":1,"requestId":"r"}"#), limits: limits) }
                == RedisAdapterError(.messageTooLarge(bytes: 26, limit: 10)))
        #expect(
            reason { () throws(RedisAdapterError) in try RedisAdapterRequest.decode(ByteBuffer()) }?.reason
                == .messagePack(MessagePackDecodingError(.truncated, offset: 0)))
        // A MessagePack request that is not a map.
        #expect(
            reason { () throws(RedisAdapterError) in try RedisAdapterRequest.decode(buffer(bytes("93 01 02 03"))) }
                == RedisAdapterError(.wrongType(expected: "object")))
    }

    @Test func randomMutationsNeverTrap() {
        var rng = SeededGenerator(seed: 7)
        let withAck = RedisAdapterRequest.broadcastWithAck(
            uid: "u", requestId: "r", packet: SocketIOPacket(type: .event, data: ["e"]), options: RedisBroadcastOptions())
        let seeds = Self.shapes.map { Array($0.0.utf8) } + [Array(withAck.encoded().readableBytesView)]
        var accepted = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let index = Int(rng.next() % UInt64(bytes.count))
                // Keep the first byte half of the time, so the JSON path is exercised too.
                if index == 0, round % 2 == 0 { continue }
                bytes[index] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let decoded = try? RedisAdapterRequest.decode(buffer(bytes)) {
                accepted += 1
                _ = decoded.encoded()
            }
        }
        #expect(accepted > 0)
    }
}
