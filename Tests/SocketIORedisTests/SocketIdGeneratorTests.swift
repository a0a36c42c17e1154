import SocketIORedis
import Testing

/// Returns its words in turn, forever.
struct ConstantGenerator: RandomNumberGenerator {
    var words: [UInt64]
    var index = 0
    mutating func next() -> UInt64 {
        defer { index = (index + 1) % words.count }
        return words[index]
    }
}

@Suite struct SocketIdGeneratorTests {
    @Test func theBase64idLayout() {
        // Random bytes 00 01 … 0b (little-endian words), then the sequence's low three bytes.
        var ids = SocketIdGenerator(generator: ConstantGenerator(words: [0x0706_0504_0302_0100, 0x0b0a_0908]))
        #expect(ids.next() == "AAECAwQFBgcICQoLAAAB")  // base64url(00…0b 00 00 01)
        #expect(ids.next() == "AAECAwQFBgcICQoLAAAC")
        #expect(ids.sequenceNumber == 2)
    }

    @Test func theURLSafeAlphabetAndTheWrappingSequence() {
        // fb ef be encodes as "++++" in standard base64: here "----". Sequence −1 is ff ff ff ff
        // at offset 11, whose first byte the random bytes overwrite (as Node's base64id does).
        let first: UInt64 = 0xeffb_beef_fbbe_effb  // little-endian bytes fb ef be fb ef be fb ef
        let second: UInt64 = 0xbeef_fbbe  // be fb ef be
        var ids = SocketIdGenerator(generator: ConstantGenerator(words: [first, second]), sequenceNumber: -2)
        #expect(ids.next() == "----------------____")
        #expect(ids.sequenceNumber == -1)
        var wrapping = SocketIdGenerator(generator: ConstantGenerator(words: [0]), sequenceNumber: .max)
        #expect(wrapping.next() == "AAAAAAAAAAAAAAAAAAAA")  // Int32.max + 1 wraps to Int32.min: 80 00 00 00
        #expect(wrapping.sequenceNumber == .min)
    }

    @Test func systemIdsHaveTheShapeAndDoNotRepeat() {
        var ids = SocketIdGenerator()
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = ids.next()
            #expect(SocketIdGenerator<SystemRandomNumberGenerator>.isSocketIdShaped(id))
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        #expect(!SocketIdGenerator<SystemRandomNumberGenerator>.isSocketIdShaped("AbCdEfGhIjKlMnOpQrS"))
        #expect(!SocketIdGenerator<SystemRandomNumberGenerator>.isSocketIdShaped("AbCdEfGhIjKlMnOpQrS/"))
        #expect(SocketIdGenerator<SystemRandomNumberGenerator>.isSocketIdShaped("AbCdEfGhIjKlMnOpQrSt"))
    }
}
