import MessagePack
import NIOCore
import SocketIOParser
import SocketIORedis
import TestSupport
import Testing

@Suite struct RedisBroadcastTests {
    /// ../shared/redis-adapter.md §A.2: `socket.to("42").emit("chat:message", {text: "hi"})` from
    /// socket `AbCdEfGhIjKlMnOpQrSt` on the node whose adapter uid is `Xy12Ab`.
    static let nodeDump: [UInt8] =
        bytes("93") + bytes("a6") + ascii("Xy12Ab")
        + bytes("83")
        + bytes("a4") + ascii("type") + bytes("02")
        + bytes("a4") + ascii("data") + bytes("92")
        + bytes("ac") + ascii("chat:message")
        + bytes("81 a4") + ascii("text") + bytes("a2") + ascii("hi")
        + bytes("a3") + ascii("nsp") + bytes("a1") + ascii("/")
        + bytes("83")
        + bytes("a5") + ascii("rooms") + bytes("91 a2") + ascii("42")
        + bytes("a6") + ascii("except") + bytes("91 b4") + ascii("AbCdEfGhIjKlMnOpQrSt")
        + bytes("a5") + ascii("flags") + bytes("80")

    static let nodeBroadcast = RedisBroadcast(
        uid: "Xy12Ab",
        packet: SocketIOPacket(type: .event, data: ["chat:message", ["text": "hi"]]),
        options: RedisBroadcastOptions(rooms: ["42"], except: ["AbCdEfGhIjKlMnOpQrSt"])
    )

    /// §A.4: `emitter.emit("balance.updated", {coins: "10"})` to everyone.
    static let emitterDump: [UInt8] =
        bytes("93 a7") + ascii("emitter")
        + bytes("83 a4") + ascii("type") + bytes("02 a4") + ascii("data") + bytes("92 af") + ascii("balance.updated")
        + bytes("81 a5") + ascii("coins") + bytes("a2") + ascii("10") + bytes("a3") + ascii("nsp") + bytes("a1") + ascii("/")
        + bytes("83 a5") + ascii("rooms") + bytes("90 a5") + ascii("flags") + bytes("80 a6") + ascii("except") + bytes("90")

    static let emitterBroadcast = RedisBroadcast(
        uid: "emitter",
        packet: SocketIOPacket(type: .event, data: ["balance.updated", ["coins": "10"]]),
        options: RedisBroadcastOptions()
    )

    @Test func theNodeDumpByteForByteBothWays() throws {
        #expect(Array(Self.nodeBroadcast.encoded().readableBytesView) == Self.nodeDump)
        #expect(try RedisBroadcast.decode(buffer(Self.nodeDump)) == Self.nodeBroadcast)
        #expect(Self.nodeBroadcast.channel(in: RedisAdapterChannels()) == "socket.io#/#42#")
    }

    @Test func theEmitterDumpByteForByteBothWays() throws {
        #expect(Array(Self.emitterBroadcast.encoded(layout: .emitter).readableBytesView) == Self.emitterDump)
        #expect(try RedisBroadcast.decode(buffer(Self.emitterDump)) == Self.emitterBroadcast)
        #expect(Self.emitterBroadcast.channel(in: RedisAdapterChannels()) == "socket.io#/#")
        // Our own order puts `except` before `flags`; the bytes differ, the message does not.
        let adapterOrder = Self.emitterBroadcast.encoded()
        #expect(Array(adapterOrder.readableBytesView) != Self.emitterDump)
        #expect(try RedisBroadcast.decode(adapterOrder) == Self.emitterBroadcast)
    }

    @Test func binaryArgumentsTravelAsBin() throws {
        let broadcast = RedisBroadcast(
            uid: "Xy12Ab",
            packet: SocketIOPacket(type: .binaryEvent, data: ["file", .binary(ByteBuffer(bytes: [1, 2, 3]))]),
            options: RedisBroadcastOptions()
        )
        let encoded = Array(broadcast.encoded().readableBytesView)
        // Binary stays type 2 on the Redis wire, and the Buffer is `c4 03 01 02 03`.
        let packet = bytes("83 a4") + ascii("type") + bytes("02 a4") + ascii("data") + bytes("92 a4") + ascii("file") + bytes("c4 03 01 02 03")
        #expect(encoded.starts(with: bytes("93 a6") + ascii("Xy12Ab") + packet))
        let decoded = try RedisBroadcast.decode(buffer(encoded))
        #expect(decoded.packet.type == .event)
        #expect(decoded.packet.data == ["file", .binary(ByteBuffer(bytes: [1, 2, 3]))])
        #expect(decoded.packet.data?.containsBinary == true)
    }

    @Test func packetsWithAnAckIdAndFlags() throws {
        let broadcast = RedisBroadcast(
            uid: "Xy12Ab",
            packet: SocketIOPacket(type: .event, namespace: "/admin", id: 7, data: ["ping", 1.5, -40, 1e300]),
            options: RedisBroadcastOptions(rooms: ["a", "b"], except: [], flags: RedisBroadcastFlags(volatile: true, compress: false, timeout: 5000))
        )
        let encoded = broadcast.encoded()
        #expect(try RedisBroadcast.decode(encoded) == broadcast)
        let value = try MessagePackValue.decode(encoded)
        #expect(value[1]?.mapValue?.keys == ["type", "data", "nsp", "id"])
        #expect(value[2]?["flags"] == ["volatile": true, "compress": false, "timeout": 5000])
        #expect(value[1]?["data"] == ["ping", .float(1.5), .int(-40), .float(1e300)])
        #expect(broadcast.channel(in: RedisAdapterChannels()) == "socket.io#/#")
    }

    // MARK: - what other publishers send

    @Test func phpEmitterShapes() throws {
        // kev-ac/socket.io-php-emitter: no `except`, empty rooms and flags as PHP empty arrays (0x90).
        let php =
            bytes("93 a7") + ascii("emitter")
            + bytes("83 a4") + ascii("type") + bytes("02 a4") + ascii("data") + bytes("92 a2") + ascii("ev") + bytes("a1") + ascii("x")
            + bytes("a3") + ascii("nsp") + bytes("a1") + ascii("/")
            + bytes("82 a5") + ascii("rooms") + bytes("90 a5") + ascii("flags") + bytes("90")
        let decoded = try RedisBroadcast.decode(buffer(php))
        #expect(decoded == RedisBroadcast(uid: "emitter", packet: SocketIOPacket(type: .event, data: ["ev", "x"]), options: RedisBroadcastOptions()))

        // Binary: type 5, several rooms, legacy flags (`json`, `broadcast`) ignored, no nsp.
        let binary: MessagePackValue = [
            "emitter",
            ["type": 5, "data": ["file", .binary(ByteBuffer(bytes: [9]))]],
            ["rooms": ["a", "b", "c"], "flags": ["json": true, "broadcast": true, "volatile": true]],
        ]
        let typed = try RedisBroadcast.decode(buffer(binary))
        #expect(typed.packet.type == .event)
        #expect(typed.packet.namespace == "/")
        #expect(typed.packet.data == ["file", .binary(ByteBuffer(bytes: [9]))])
        #expect(typed.options == RedisBroadcastOptions(rooms: ["a", "b", "c"], except: [], flags: RedisBroadcastFlags(volatile: true)))
    }

    @Test func numericRoomsBecomeTheStringsJavaScriptWrites() throws {
        let message: MessagePackValue = [
            "node",
            ["type": 2, "data": ["ev"], "nsp": "/"],
            ["rooms": [42, -1, 1.5, .uint(UInt64.max), 0], "except": [7, "sid"], "flags": [:]],
        ]
        let decoded = try RedisBroadcast.decode(buffer(message))
        #expect(decoded.options.rooms == ["42", "-1", "1.5", "18446744073709552000", "0"])
        #expect(decoded.options.except == ["7", "sid"])
    }

    @Test func optionalPartsAsOlderAndOtherPublishersWriteThem() throws {
        // nil for absent values (notepack 2 wrote `undefined` as `d4 00 00`, which reads as nil),
        // a missing `rooms`, a fourth element, a null packet id.
        let message =
            bytes("94 a1") + ascii("u")
            + bytes("83 a4") + ascii("type") + bytes("02 a3") + ascii("nsp") + bytes("d4 00 00 a2") + ascii("id") + bytes("c0")
            + bytes("82 a6") + ascii("except") + bytes("c0 a5") + ascii("flags") + bytes("81 a8") + ascii("compress") + bytes("d4 00 00")
            + bytes("c3")
        let decoded = try RedisBroadcast.decode(buffer(message))
        #expect(decoded == RedisBroadcast(uid: "u", packet: SocketIOPacket(type: .event), options: RedisBroadcastOptions()))
        // Other packet types pass through (6 reads as ACK).
        let ack: MessagePackValue = ["u", ["type": 6, "data": [1], "nsp": "/x", "id": 3], ["rooms": []]]
        #expect(try RedisBroadcast.decode(buffer(ack)).packet == SocketIOPacket(type: .ack, namespace: "/x", id: 3, data: [1]))
        // A timestamp argument reads as the ISO text a Node node would send its clients.
        let dated: MessagePackValue = ["u", ["type": 2, "data": ["t", .timestamp(seconds: 960_854_400, nanoseconds: 0)]], [:]]
        #expect(try RedisBroadcast.decode(buffer(dated)).packet.data == ["t", "2000-06-13T00:00:00.000Z"])
    }

    // MARK: - hostile input

    static let wellFormedPacket: MessagePackValue = ["type": 2, "data": ["ev"], "nsp": "/"]

    static let hostile: [(MessagePackValue, String, RedisAdapterError.Reason)] = [
        (["a": 1], "", .wrongType(expected: "array")),
        ([], "uid", .missingField),
        (["u", wellFormedPacket], "opts", .missingField),
        ([1, wellFormedPacket, [:]], "uid", .wrongType(expected: "string")),
        (["u", "packet", [:]], "packet", .wrongType(expected: "object")),
        (["u", ["data": ["ev"]], [:]], "packet.type", .missingField),
        (["u", ["type": "2"], [:]], "packet.type", .wrongType(expected: "integer")),
        (["u", ["type": 2.5], [:]], "packet.type", .wrongType(expected: "integer")),
        (["u", ["type": 9], [:]], "packet.type", .unsupportedPacketType(9)),
        (["u", ["type": -1], [:]], "packet.type", .unsupportedPacketType(-1)),
        (["u", ["type": .uint(UInt64.max)], [:]], "packet.type", .wrongType(expected: "integer")),
        (["u", ["type": 2, "nsp": 5], [:]], "packet.nsp", .wrongType(expected: "string")),
        (["u", ["type": 2, "id": "1"], [:]], "packet.id", .wrongType(expected: "integer")),
        (["u", ["type": 2, "id": -1], [:]], "packet.id", .wrongType(expected: "acknowledgement id")),
        (["u", ["type": 2, "id": 1e300], [:]], "packet.id", .wrongType(expected: "integer")),
        (["u", wellFormedPacket, "opts"], "opts", .wrongType(expected: "object")),
        (["u", wellFormedPacket, ["rooms": "42"]], "opts.rooms", .wrongType(expected: "array")),
        (["u", wellFormedPacket, ["rooms": ["a", true]]], "opts.rooms[1]", .wrongType(expected: "string")),
        (["u", wellFormedPacket, ["rooms": [["nested"]]]], "opts.rooms[0]", .wrongType(expected: "string")),
        (["u", wellFormedPacket, ["except": ["a": 1]]], "opts.except", .wrongType(expected: "array")),
        (["u", wellFormedPacket, ["except": [nil]]], "opts.except[0]", .wrongType(expected: "string")),
        (["u", wellFormedPacket, ["flags": "volatile"]], "opts.flags", .wrongType(expected: "object")),
        (["u", wellFormedPacket, ["flags": ["volatile"]]], "opts.flags", .wrongType(expected: "object")),
        (["u", wellFormedPacket, ["flags": ["volatile": 1]]], "opts.flags.volatile", .wrongType(expected: "boolean")),
        (["u", wellFormedPacket, ["flags": ["compress": "no"]]], "opts.flags.compress", .wrongType(expected: "boolean")),
        (["u", wellFormedPacket, ["flags": ["timeout": "5s"]]], "opts.flags.timeout", .wrongType(expected: "number")),
        (["u", wellFormedPacket, ["flags": ["timeout": .float(.nan)]]], "opts.flags.timeout", .wrongType(expected: "number")),
        (["u", ["type": 2, "data": [[[1]: 2]]], [:]], "", .unsupportedMapKey),
        (["u", ["type": 2, "data": [[.binary(ByteBuffer()): 2]]], [:]], "", .unsupportedMapKey),
    ]

    @Test(arguments: hostile)
    func wrongTypesAreTypedErrors(message: MessagePackValue, field: String, expected: RedisAdapterError.Reason) {
        let error = reason { () throws(RedisAdapterError) in try RedisBroadcast.decode(buffer(message)) }
        #expect(error == RedisAdapterError(expected, field: field))
    }

    @Test func flagTimeoutsAreClampedNotTrapped() throws {
        let cases: [(MessagePackValue, Int)] = [(-5, 0), (1e300, 9_007_199_254_740_991), (.uint(UInt64.max), 9_007_199_254_740_991), (2.9, 2)]
        for (timeout, expected) in cases {
            let message: MessagePackValue = ["u", Self.wellFormedPacket, ["flags": ["timeout": timeout]]]
            #expect(try RedisBroadcast.decode(buffer(message)).options.flags.timeout == expected)
        }
    }

    @Test func boundsOnSizeRoomsAndRoomNames() {
        let limits = RedisAdapterLimits(maximumMessageBytes: 64, maximumListLength: 3, maximumRoomLength: 5)
        let big = buffer([UInt8](repeating: 0xc0, count: 65))
        #expect(
            reason { () throws(RedisAdapterError) in try RedisBroadcast.decode(big, limits: limits) }
                == RedisAdapterError(.messageTooLarge(bytes: 65, limit: 64)))
        let manyRooms: MessagePackValue = ["u", Self.wellFormedPacket, ["rooms": ["a", "b", "c", "d"]]]
        #expect(
            reason { () throws(RedisAdapterError) in try RedisBroadcast.decode(buffer(manyRooms), limits: limits) }
                == RedisAdapterError(.tooManyEntries(limit: 3), field: "opts.rooms"))
        let longRoom: MessagePackValue = ["u", Self.wellFormedPacket, ["except": ["abcdef"]]]
        #expect(
            reason { () throws(RedisAdapterError) in try RedisBroadcast.decode(buffer(longRoom), limits: limits) }
                == RedisAdapterError(.stringTooLong(limit: 5), field: "opts.except[0]"))
        #expect(RedisAdapterLimits.default.maximumMessageBytes == 1 << 20)
    }

    @Test func malformedMessagePackIsATypedError() {
        let cases: [[UInt8]] = [[], bytes("93"), bytes("dd ff ff ff ff"), bytes("c1"), Self.nodeDump + [0x00], Array(Self.nodeDump.dropLast())]
        for bytes in cases {
            guard case .messagePack? = reason({ () throws(RedisAdapterError) in try RedisBroadcast.decode(buffer(bytes)) })?.reason else {
                Issue.record("\(bytes.prefix(8)) was not a MessagePack error")
                continue
            }
        }
        // A depth bomb inside the packet data stops at the MessagePack depth limit.
        let bomb = bytes("93 a1 75 82 a4") + ascii("type") + bytes("02 a4") + ascii("data") + [UInt8](repeating: 0x91, count: 200) + bytes("c0 80")
        guard case .messagePack(let inner)? = reason({ () throws(RedisAdapterError) in try RedisBroadcast.decode(buffer(bomb)) })?.reason else {
            Issue.record("depth bomb accepted")
            return
        }
        #expect(inner.reason == .depthLimitExceeded)
    }

    @Test func randomMutationsOfTheDumpsNeverTrap() {
        var rng = SeededGenerator(seed: 42)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes = round % 2 == 0 ? Self.nodeDump : Self.emitterDump
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let decoded = try? RedisBroadcast.decode(buffer(bytes)) {
                accepted += 1
                // Whatever was accepted re-encodes to something that reads the same.
                #expect((try? RedisBroadcast.decode(decoded.encoded())) == decoded)
            }
        }
        #expect(accepted > 0)
    }
}

extension MessagePackValue {
    subscript(index: Int) -> MessagePackValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
