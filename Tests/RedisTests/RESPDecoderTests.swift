import NIOCore
import TestSupport
import Testing

@testable import Redis

/// Wire bytes and the values they decode to. Every fixture is also fed one byte at a time.
let respFixtures: [(wire: String, values: [RESPValue])] = [
    ("+OK\r\n", [.simpleString("OK")]),
    ("+\r\n", [.simpleString("")]),
    ("-ERR unknown command 'x'\r\n", [.error("ERR unknown command 'x'")]),
    (":0\r\n", [.integer(0)]),
    (":-42\r\n", [.integer(-42)]),
    (":+7\r\n", [.integer(7)]),
    (":9223372036854775807\r\n", [.integer(.max)]),
    (":-9223372036854775808\r\n", [.integer(.min)]),
    ("$5\r\nhello\r\n", [.bulkString(ByteBuffer(string: "hello"))]),
    ("$0\r\n\r\n", [.bulkString(ByteBuffer())]),
    ("$4\r\na\r\nb\r\n", [.bulkString(ByteBuffer(string: "a\r\nb"))]),
    ("$-1\r\n", [.null]),
    ("*-1\r\n", [.null]),
    ("_\r\n", [.null]),
    ("*0\r\n", [.array([])]),
    ("*2\r\n$3\r\nfoo\r\n:1\r\n", [.array([.bulkString(ByteBuffer(string: "foo")), .integer(1)])]),
    ("*3\r\n*1\r\n+a\r\n*0\r\n*2\r\n$-1\r\n_\r\n", [.array([.array([.simpleString("a")]), .array([]), .array([.null, .null])])]),
    ("*2\r\n*-1\r\n-WRONGTYPE x\r\n", [.array([.null, .error("WRONGTYPE x")])]),
    (",3.14\r\n", [.double(3.14)]),
    (",-1.5e3\r\n", [.double(-1500)]),
    (",10\r\n", [.double(10)]),
    (",inf\r\n", [.double(.infinity)]),
    (",-inf\r\n", [.double(-.infinity)]),
    ("#t\r\n", [.boolean(true)]),
    ("#f\r\n", [.boolean(false)]),
    ("(3492890328409238509324850943850943825024385\r\n", [.bigNumber("3492890328409238509324850943850943825024385")]),
    ("(-3492890328409238509324850943850943825024385\r\n", [.bigNumber("-3492890328409238509324850943850943825024385")]),
    ("!21\r\nSYNTAX invalid syntax\r\n", [.error("SYNTAX invalid syntax")]),
    ("=15\r\ntxt:Some string\r\n", [.verbatimString("Some string")]),
    ("=4\r\nmkd:\r\n", [.verbatimString("")]),
    (
        "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
        [.map([RESPPair(key: .simpleString("first"), value: .integer(1)), RESPPair(key: .simpleString("second"), value: .integer(2))])]
    ),
    ("%0\r\n", [.map([])]),
    ("~2\r\n+a\r\n:1\r\n", [.set([.simpleString("a"), .integer(1)])]),
    (
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n",
        [.push([.bulkString(ByteBuffer(string: "message")), .bulkString(ByteBuffer(string: "ch")), .bulkString(ByteBuffer(string: "abc"))])]
    ),
    (
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
        [
            .attribute(
                [
                    RESPPair(
                        key: .simpleString("key-popularity"),
                        value: .map([
                            RESPPair(key: .bulkString(ByteBuffer(string: "a")), value: .double(0.1923)),
                            RESPPair(key: .bulkString(ByteBuffer(string: "b")), value: .double(0.0012)),
                        ]))
                ],
                .array([.integer(2_039_123), .integer(9_543_892)]))
        ]
    ),
    (
        "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n",
        [.array([.attribute([RESPPair(key: .simpleString("ttl"), value: .integer(3600))], .integer(1)), .integer(2)])]
    ),
    ("|0\r\n+x\r\n", [.attribute([], .simpleString("x"))]),
    // Several replies in one read (a pipeline's answers).
    ("+OK\r\n:1\r\n$1\r\nx\r\n*1\r\n_\r\n", [.simpleString("OK"), .integer(1), .bulkString(ByteBuffer(string: "x")), .array([.null])]),
]

/// Inputs that must be refused (and never trap).
let malformedFixtures: [String] = [
    "$536870913\r\n",  // above the default 512 MiB bulk limit
    "*1048577\r\n",  // above the aggregate count limit
    "%1048577\r\n",
    "$-2\r\n", "*-2\r\n", "$-10\r\n", "%-1\r\n", "~-1\r\n", ">-1\r\n", "!-1\r\n", "=-1\r\n", "|-1\r\n",
    "$abc\r\n", "$1a\r\n", "$+5\r\n", "$\r\n", "$ 5\r\n", "*x\r\n", "*\r\n",
    ":99999999999999999999\r\n", ":9223372036854775808\r\n", ":-9223372036854775809\r\n",
    "$99999999999999999999\r\n", "*9223372036854775807\r\n", "*99999999999999999999999999\r\n",
    ":\r\n", ":-\r\n", ":12a\r\n", ": 1\r\n", ":1.5\r\n",
    "+OK\rX", "+OK\r\r\n",
    "#x\r\n", "#\r\n", "#tt\r\n", "_x\r\n", ",abc\r\n", ",0x1p3\r\n", ",\r\n", ",infinity\r\n", "(12a\r\n", "(\r\n", "(-\r\n",
    "=3\r\nabc\r\n", "=5\r\nabcde\r\n",
    "$3\r\nabcXY", "$3\r\nabc\rX",
    "?\r\n", "\r\n", "x\r\n", "$?\r\n", "*?\r\n", ";4\r\n", ".\r\n",
]

func feedWhole(_ wire: String, limits: RESPDecoder.Limits = .init()) throws(RedisError) -> [RESPValue] {
    var decoder = RESPDecoder(limits: limits)
    decoder.feed(ByteBuffer(string: wire))
    var values: [RESPValue] = []
    while let value = try decoder.next() { values.append(value) }
    return values
}

func feedBytewise(_ wire: [UInt8], limits: RESPDecoder.Limits = .init()) throws(RedisError) -> [RESPValue] {
    var decoder = RESPDecoder(limits: limits)
    var values: [RESPValue] = []
    for byte in wire {
        decoder.feed(ByteBuffer(bytes: [byte]))
        while let value = try decoder.next() { values.append(value) }
    }
    return values
}

func isProtocolError(_ body: () throws -> Void) -> Bool {
    do {
        try body()
        return false
    } catch {
        if case .protocolError = error as? RedisError { return true }
        return false
    }
}

@Suite struct RESPDecoderTests {
    @Test(arguments: respFixtures.indices) func decodesWhole(_ index: Int) throws {
        let fixture = respFixtures[index]
        #expect(try feedWhole(fixture.wire) == fixture.values, "\(fixture.wire.debugDescription)")
    }

    @Test(arguments: respFixtures.indices) func decodesByteByByte(_ index: Int) throws {
        let fixture = respFixtures[index]
        #expect(try feedBytewise(Array(fixture.wire.utf8)) == fixture.values, "\(fixture.wire.debugDescription)")
    }

    @Test func decodesAllFixturesConcatenatedInRandomChunks() throws {
        let wire = Array(respFixtures.map(\.wire).joined().utf8)
        let expected = respFixtures.flatMap(\.values)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<50 {
            var decoder = RESPDecoder()
            var values: [RESPValue] = []
            var offset = 0
            while offset < wire.count {
                let size = Int.random(in: 1...17, using: &generator)
                let end = min(wire.count, offset + size)
                decoder.feed(ByteBuffer(bytes: wire[offset..<end]))
                while let value = try decoder.next() { values.append(value) }
                offset = end
            }
            #expect(values == expected)
            #expect(decoder.bufferedBytes == 0)
        }
    }

    @Test func nanDecodes() throws {
        let values = try feedWhole(",nan\r\n")
        guard case .double(let value) = values.first else {
            Issue.record("not a double: \(values)")
            return
        }
        #expect(value.isNaN)
    }

    @Test func threeMegabyteBulkStringInRandomChunks() throws {
        var generator = SeededGenerator(seed: 42)
        let payload = (0..<(3 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var wire = Array("$\(payload.count)\r\n".utf8)
        wire += payload
        wire += Array("\r\n:5\r\n".utf8)
        var decoder = RESPDecoder()
        var values: [RESPValue] = []
        var offset = 0
        var chunks = 0
        while offset < wire.count {
            let size = Int.random(in: 1...65_536, using: &generator)
            let end = min(wire.count, offset + size)
            decoder.feed(ByteBuffer(bytes: wire[offset..<end]))
            while let value = try decoder.next() { values.append(value) }
            offset = end
            chunks += 1
        }
        #expect(chunks > 40)
        #expect(values.count == 2)
        #expect(values.first?.bytes.map { Array($0.readableBytesView) } == payload)
        #expect(values.last == .integer(5))
    }

    @Test func splitInsideCRLFAndBulkBody() throws {
        var decoder = RESPDecoder()
        decoder.feed(ByteBuffer(string: "$5\r"))
        #expect(try decoder.next() == nil)
        decoder.feed(ByteBuffer(string: "\nhel"))
        #expect(try decoder.next() == nil)
        decoder.feed(ByteBuffer(string: "lo\r"))
        #expect(try decoder.next() == nil)
        decoder.feed(ByteBuffer(string: "\n*2\r\n:1"))
        #expect(try decoder.next() == .bulkString(ByteBuffer(string: "hello")))
        #expect(try decoder.next() == nil)
        decoder.feed(ByteBuffer(string: "\r\n:2\r\n"))
        #expect(try decoder.next() == .array([.integer(1), .integer(2)]))
        #expect(try decoder.next() == nil)
    }

    @Test(arguments: malformedFixtures) func refusesMalformed(_ wire: String) {
        #expect(isProtocolError { _ = try feedWhole(wire) }, "\(wire.debugDescription)")
        #expect(isProtocolError { _ = try feedBytewise(Array(wire.utf8)) }, "bytewise \(wire.debugDescription)")
    }

    @Test func nestingDepthIsBounded() throws {
        let depth32 = String(repeating: "*1\r\n", count: 32) + ":1\r\n"
        var expected = RESPValue.integer(1)
        for _ in 0..<32 { expected = .array([expected]) }
        #expect(try feedWhole(depth32) == [expected])
        #expect(isProtocolError { _ = try feedWhole(String(repeating: "*1\r\n", count: 33) + ":1\r\n") })
        #expect(isProtocolError { _ = try feedWhole(String(repeating: "*1\r\n", count: 33) + "*0\r\n") })
        #expect(isProtocolError { _ = try feedWhole(String(repeating: "%1\r\n+k\r\n", count: 33) + ":1\r\n") })
        #expect(isProtocolError { _ = try feedWhole(String(repeating: "|1\r\n+k\r\n:1\r\n", count: 33) + ":1\r\n") })
        // Only the open aggregates count: many siblings are fine.
        #expect(try feedWhole("*40\r\n" + String(repeating: "*1\r\n*1\r\n:1\r\n", count: 40)).count == 1)
    }

    @Test func hugeInputDoesNotTrapOrStack() {
        // A million nested headers: refused at depth 33, long before any stack or memory trouble.
        let wire = String(repeating: "*1\r\n", count: 1_000_000)
        #expect(isProtocolError { _ = try feedWhole(wire) })
    }

    @Test func limitsAreConfigurable() throws {
        let client = RESPDecoder.clientLimits
        #expect(isProtocolError { _ = try feedWhole("$\(64 * 1024 * 1024 + 1)\r\n", limits: client) })
        // Up to the limit the header is accepted and the body awaited.
        #expect(try feedWhole("$\(64 * 1024 * 1024)\r\n", limits: client) == [])
        let small = RESPDecoder.Limits(maxBulkLength: 4, maxAggregateCount: 2, maxDepth: 2, maxLineLength: 8, maxValueBytes: 200)
        #expect(try feedWhole("$4\r\nabcd\r\n", limits: small) == [.bulkString(ByteBuffer(string: "abcd"))])
        #expect(isProtocolError { _ = try feedWhole("$5\r\nabcde\r\n", limits: small) })
        #expect(try feedWhole("*2\r\n:1\r\n:2\r\n", limits: small).count == 1)
        #expect(isProtocolError { _ = try feedWhole("*3\r\n", limits: small) })
        #expect(isProtocolError { _ = try feedWhole("*1\r\n*1\r\n*1\r\n:1\r\n", limits: small) })
        #expect(try feedWhole("+12345678\r\n", limits: small) == [.simpleString("12345678")])
        #expect(isProtocolError { _ = try feedWhole("+123456789\r\n", limits: small) })
        // No CR yet, but already too long: refused without waiting for the end of the line.
        #expect(isProtocolError { _ = try feedWhole("+123456789", limits: small) })
        #expect(isProtocolError { _ = try feedBytewise(Array("+123456789".utf8), limits: small) })
        // The per-reply budget counts bytes and elements of one reply, and resets after it.
        let budget = RESPDecoder.Limits(maxValueBytes: 200)
        #expect(try feedWhole(String(repeating: "*1\r\n:1\r\n", count: 20), limits: budget).count == 20)
        #expect(isProtocolError { _ = try feedWhole("*20\r\n" + String(repeating: ":1\r\n", count: 20), limits: budget) })
    }

    @Test func longLineWithinLimitIsFine() throws {
        let text = String(repeating: "a", count: 64 * 1024)
        #expect(try feedWhole("+\(text)\r\n") == [.simpleString(text)])
        #expect(isProtocolError { _ = try feedWhole("+\(text)a\r\n") })
        #expect(isProtocolError { _ = try feedWhole("+\(text)aa") })
    }

    @Test func failureIsSticky() {
        var decoder = RESPDecoder()
        decoder.feed(ByteBuffer(string: ":x\r\n+OK\r\n"))
        #expect(isProtocolError { _ = try decoder.next() })
        #expect(isProtocolError { _ = try decoder.next() })
    }

    @Test func randomGarbageNeverTraps() {
        var generator = SeededGenerator(seed: 99)
        let alphabet = Array("+-:$*_,#!=(%~>|\r\n0123456789-?ab.;".utf8)
        for _ in 0..<2_000 {
            let length = Int.random(in: 1...64, using: &generator)
            let bytes = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            var decoder = RESPDecoder(limits: .init(maxBulkLength: 1024, maxAggregateCount: 64, maxDepth: 8))
            decoder.feed(ByteBuffer(bytes: bytes))
            for _ in 0..<100 {
                guard (try? decoder.next()) != nil else { break }
            }
        }
    }

    @Test func accessors() {
        #expect(RESPValue.bulkString(ByteBuffer(string: "12")).int == 12)
        #expect(RESPValue.bulkString(ByteBuffer(string: "x")).string == "x")
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.integer(3).int == 3)
        #expect(RESPValue.set([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.attribute([], .integer(4)).int == 4)
        #expect(RESPValue.null.isNull)
        #expect(RESPValue.array([.integer(1), .integer(2)]).pairs == [RESPPair(key: .integer(1), value: .integer(2))])
        #expect(RESPValue.array([.integer(1)]).pairs == nil)
        #expect(RESPValue.error("ERR x").errorMessage == "ERR x")
    }
}
