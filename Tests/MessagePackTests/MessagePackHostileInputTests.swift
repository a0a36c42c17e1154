import MessagePack
import NIOCore
import TestSupport
import Testing

/// Inputs a hostile publisher could send: every one is a typed error (never a trap, never an
/// allocation sized by a length field that the bytes cannot back).
@Suite struct MessagePackHostileInputTests {
    func reason(_ encoded: [UInt8], limits: MessagePackLimits = .default) -> MessagePackDecodingError.Reason? {
        do {
            _ = try MessagePackValue.decode(encoded, limits: limits)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func hugeDeclaredLengthsWithFewBytesAreTruncatedBeforeAllocating() {
        // Each claims 4 G elements or bytes and carries nothing (or almost nothing) after the header.
        #expect(reason(bytes("dd ff ff ff ff")) == .truncated)  // array 32
        #expect(reason(bytes("df ff ff ff ff")) == .truncated)  // map 32
        #expect(reason(bytes("db ff ff ff ff 61")) == .truncated)  // str 32
        #expect(reason(bytes("c6 ff ff ff ff 00")) == .truncated)  // bin 32
        #expect(reason(bytes("c9 ff ff ff ff 05 00")) == .truncated)  // ext 32
        #expect(reason(bytes("dc ff ff 01 02")) == .truncated)  // array 16
        #expect(reason(bytes("de 00 02 01 02 03")) == .truncated)  // map 16: 2 entries need 4 values
        #expect(reason(bytes("9f c0")) == .truncated)  // fixarray of 15 with 1 byte
        // Nested: each level is checked against what remains.
        #expect(reason(bytes("91 dd ff ff ff ff")) == .truncated)
    }

    @Test func depth64IsAcceptedAndDepth65Refused() throws {
        let deep64 = repeated(0x91, 63) + [0x90]
        #expect(try MessagePackValue.decode(deep64).arrayValue != nil)
        let deep65 = repeated(0x91, 64) + [0x90]
        #expect(reason(deep65) == .depthLimitExceeded)
        let mapDeep65: [UInt8] = (0..<64).flatMap { _ -> [UInt8] in bytes("81 a0") } + [0x80]  // {"": {"": … {}}}
        #expect(reason(mapDeep65) == .depthLimitExceeded)
        // A depth bomb far beyond the limit fails at the limit, without recursing further.
        #expect(reason(repeated(0x91, 100_000) + [0xc0]) == .depthLimitExceeded)
        do {
            _ = try MessagePackValue.decode(deep65)
        } catch {
            #expect(error.offset == 64)
        }
    }

    @Test func theElementBudgetCoversTheWholeMessage() throws {
        let limits = MessagePackLimits(maximumElements: 10)
        #expect(try MessagePackValue.decode(bytes("9a") + repeated(0xc0, 10), limits: limits) == array(10))
        #expect(reason(bytes("9b") + repeated(0xc0, 11), limits: limits) == .elementLimitExceeded)
        // 3 arrays of 4: 3 + 12 = 15 values in all.
        let nested: [UInt8] = [0x93] + (0..<3).flatMap { _ -> [UInt8] in [0x94] + repeated(0xc0, 4) }
        #expect(reason(nested, limits: limits) == .elementLimitExceeded)
        // A map entry counts as two values.
        #expect(reason(bytes("86") + (0..<6).flatMap { [UInt8($0), 0xc0] as [UInt8] }, limits: limits) == .elementLimitExceeded)
        #expect(try MessagePackValue.decode(bytes("85") + (0..<5).flatMap { [UInt8($0), 0xc0] as [UInt8] }, limits: limits) == map(5))
        // The default bound: 1,000,000.
        #expect(MessagePackLimits.default.maximumElements == 1_000_000)
        let many = bytes("dd 00 0f 42 41") + repeated(0xc0, 1_000_001)
        #expect(reason(many) == .elementLimitExceeded)
    }

    @Test func stringAndBinaryLengthLimits() throws {
        let limits = MessagePackLimits(maximumStringLength: 4, maximumBinaryLength: 2)
        #expect(try MessagePackValue.decode(bytes("a4 61 62 63 64"), limits: limits) == "abcd")
        #expect(reason(bytes("a5 61 62 63 64 65"), limits: limits) == .stringTooLong)
        #expect(reason(bytes("c4 03 01 02 03"), limits: limits) == .binaryTooLong)
        #expect(reason(bytes("c7 03 05 01 02 03"), limits: limits) == .binaryTooLong)
        #expect(reason(bytes("c7 03 00 01 02 03"), limits: limits) == .binaryTooLong)  // legacy ArrayBuffer
    }

    @Test func truncatedAtEveryOffsetOfAValidMessageIsAnError() throws {
        let message: MessagePackValue = [
            "Xy12Ab",
            ["type": 2, "data": ["chat:message", ["text": "hi", "n": -33, "big": .uint(UInt64.max), "f": 1.5]], "nsp": "/"],
            [
                "rooms": ["42"], "except": [.string(string(40))], "flags": ["timeout": 5000],
                "blob": .binary(ByteBuffer(bytes: [1, 2, 3])), "when": .timestamp(seconds: 1, nanoseconds: 2),
                "late": .timestamp(seconds: -5, nanoseconds: 0), "x": .ext(type: 3, data: [9, 9, 9]), "m": .int(70000),
            ],
        ]
        let encoded = message.encodedBytes
        #expect(try MessagePackValue.decode(encoded) == message)
        for length in 0..<encoded.count {
            #expect(reason(Array(encoded.prefix(length))) == .truncated, "prefix of \(length) bytes")
        }
    }

    @Test func trailingBytesAreAnError() {
        #expect(reason(bytes("c0 c0")) == .trailingBytes)
        #expect(reason(bytes("91 01 02")) == .trailingBytes)
        do {
            _ = try MessagePackValue.decode(bytes("a1 61 00"))
        } catch {
            #expect(error == MessagePackDecodingError(.trailingBytes, offset: 2))
        }
    }

    @Test func emptyInputIsTruncated() {
        #expect(reason([]) == .truncated)
    }

    @Test func invalidUTF8IsReplacedByDefaultOrRejectedOnRequest() throws {
        let encoded = bytes("a4 61 ff 62 c3")  // "a", a lone 0xff, "b", a cut 2-byte sequence
        #expect(try MessagePackValue.decode(encoded) == .string("a\u{FFFD}b\u{FFFD}"))
        let strict = MessagePackLimits(invalidUTF8: .reject)
        #expect(reason(encoded, limits: strict) == .invalidUTF8)
        #expect(try MessagePackValue.decode(bytes("a2 c3 a9"), limits: strict) == "é")
        // Surrogates encoded in UTF-8 (CESU) are not UTF-8 either.
        #expect(reason(bytes("a3 ed a0 80"), limits: strict) == .invalidUTF8)
        // Invalid UTF-8 in a map key too.
        #expect(reason(bytes("81 a1 ff 01"), limits: strict) == .invalidUTF8)
    }

    @Test func decodingASliceUsesOnlyItsReadableBytes() throws {
        var buffer = ByteBuffer(bytes: bytes("ff ff 92 a1 61 c4 01 07 ee"))
        buffer.moveReaderIndex(forwardBy: 2)
        buffer.moveWriterIndex(to: 8)
        #expect(try MessagePackValue.decode(buffer) == ["a", .binary(ByteBuffer(bytes: [7]))])
        do {
            _ = try MessagePackValue.decode(buffer.getSlice(at: 2, length: 5)!)
        } catch {
            #expect(error == MessagePackDecodingError(.truncated, offset: 5))
        }
    }

    /// Random bytes and random mutations of a valid message: every outcome is a value or a typed
    /// error, and a decoded value re-encodes to something that decodes to the same value.
    @Test func randomInputNeverTraps() throws {
        var rng = SeededGenerator(seed: 0x5eed)
        let seed: MessagePackValue = [
            "uid", ["type": 2, "data": ["ev", 1, -200, 3.25, true, nil, .binary(ByteBuffer(bytes: [1, 2]))]],
            ["rooms": ["a", "b"], "except": [], "flags": ["volatile": true], "t": .timestamp(seconds: 99, nanoseconds: 1)],
        ]
        let valid = seed.encodedBytes
        var decodedCount = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int(rng.next() % 24)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                input = valid
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    input[Int(rng.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            if let value = try? MessagePackValue.decode(input, limits: MessagePackLimits(maximumElements: 1000)) {
                decodedCount += 1
                let again = try MessagePackValue.decode(value.encodedBytes)
                // NaN never equals itself; compare re-encodings instead.
                #expect(again.encodedBytes == value.encodedBytes)
            }
        }
        #expect(decodedCount > 0)
    }
}
