import NIOCore
import RTP
import TestSupport
import Testing

@Suite("Setting header extensions (mid rewrite per consumer)")
struct RTPHeaderExtensionWriteTests {
    /// Checks the packet still parses, and returns (mid at id 1, level at id 2, payload).
    static func read(_ buffer: inout ByteBuffer, midID: UInt8 = 1, levelID: UInt8 = 2) -> (String?, RTPAudioLevel?, [UInt8])? {
        buffer.withRTPPacketView { ($0.mid(extensionID: midID), $0.audioLevel(extensionID: levelID), Array($0.payload)) }
    }

    static let payload = bytes("780be4c136ecc58d")

    @Test("same length and shorter values are written in place")
    func inPlace() throws {
        let original = try fixture("aiortc-opus-mid-level")
        var buffer = ByteBuffer(original)
        let set1 = buffer.setRTPHeaderExtension(id: 1, value: Array("7".utf8))
        #expect(set1)
        #expect(buffer.readableBytes == original.count)
        let result = try #require(Self.read(&buffer))
        #expect(result.0 == "7")
        #expect(result.1 == RTPAudioLevel(voiceActivity: true, level: 37))
        #expect(result.2 == Self.payload)
    }

    @Test("a longer mid grows the block by a word and moves the payload (\"0\" → \"10\")")
    func grow() throws {
        let original = try fixture("aiortc-opus-mid-level")
        var buffer = ByteBuffer(original)
        let set2 = buffer.setRTPHeaderExtension(id: 1, value: Array("10".utf8))
        #expect(set2)
        #expect(buffer.readableBytes == original.count + 4)
        let result = try #require(Self.read(&buffer))
        #expect(result.0 == "10")
        #expect(result.1?.level == 37)
        #expect(result.2 == Self.payload)
        // Fixed header untouched, block length now 2 words.
        #expect(Array(buffer.readableBytesView.prefix(12)) == Array(original.prefix(12)))
        #expect(buffer.getInteger(at: buffer.readerIndex + 14, as: UInt16.self) == 2)
        // The exact layout: old mid zeroed into padding, level kept, "10" appended, one pad byte.
        // aiortc 1.16's RtpPacket.parse reads these bytes as mid "10", audio level (True, 37).
        #expect(buffer.array == bytes("90e0ffff b2d05e00 9e845b93 bede0002 000020a5 11313000 780be4c1 36ecc58d"))
        // Growing again within the new padding needs no further move.
        let set3 = buffer.setRTPHeaderExtension(id: 1, value: Array("12".utf8))
        #expect(set3)
        #expect(buffer.readableBytes == original.count + 4)
        #expect(Self.read(&buffer)?.0 == "12")
    }

    @Test("a packet without extensions gets a one-byte block; padding at the end survives")
    func addBlock() throws {
        // V=2 P=1 CC=1, CSRC, payload AA BB, 2 bytes of padding.
        let original = bytes("a1 6f 0001 00000002 00000003 44444444 aabb 0002")
        var buffer = ByteBuffer(bytes: original)
        let set4 = buffer.setRTPHeaderExtension(id: 3, value: Array("abc".utf8))
        #expect(set4)
        let result = try #require(
            buffer.withRTPPacketView { ($0.extensionForm, $0.mid(extensionID: 3), Array($0.payload), $0.paddingLength, $0.csrc(at: 0)) }
        )
        #expect(result.0 == .oneByte)
        #expect(result.1 == "abc")
        #expect(result.2 == [0xAA, 0xBB])
        #expect(result.3 == 2)
        #expect(result.4 == 0x4444_4444)
        #expect(buffer.readableBytes == original.count + 8)
    }

    @Test("two-byte form: ids above 14 and empty values")
    func twoByte() throws {
        var buffer = ByteBuffer(bytes: bytes("90 60 0001 00000002 00000003 10000001 0101 aa 00 cafe"))
        let set5 = buffer.setRTPHeaderExtension(id: 200, value: Array(repeating: 7, count: 20))
        #expect(set5)
        let elements = try #require(buffer.withRTPPacketView { view in view.extensionElements.map { ($0.id, $0.dataRange.count) } })
        #expect(elements.map(\.0) == [1, 200])
        #expect(elements.map(\.1) == [1, 20])
        #expect(buffer.withRTPPacketView { Array($0.payload) } == [0xCA, 0xFE])
        let set6 = buffer.setRTPHeaderExtension(id: 1, value: [])
        #expect(set6)
        #expect(buffer.withRTPPacketView { $0.extensionData(id: 1)?.count } == 0)
    }

    @Test("impossible requests change nothing")
    func impossible() throws {
        let original = try fixture("aiortc-opus-mid-level")
        var buffer = ByteBuffer(original)
        let set7 = buffer.setRTPHeaderExtension(id: 15, value: [1])
        #expect(!set7)  // one-byte form: id 15 reserved
        let set8 = buffer.setRTPHeaderExtension(id: 3, value: Array(repeating: 1, count: 17))
        #expect(!set8)
        let set9 = buffer.setRTPHeaderExtension(id: 3, value: [])
        #expect(!set9)
        let set10 = buffer.setRTPHeaderExtension(id: 0, value: [1])
        #expect(!set10)
        #expect(buffer.array == original)
        var notRTP = ByteBuffer(bytes: [0x00, 0x01, 0x02])
        let set11 = notRTP.setRTPHeaderExtension(id: 1, value: [1])
        #expect(!set11)
        var privateProfile = ByteBuffer(bytes: bytes("90e0698f d9c293da 1c642782 00010001 ffffffff 9836be889e"))
        let set12 = privateProfile.setRTPHeaderExtension(id: 1, value: [1])
        #expect(!set12)
    }

    @Test("moving a value to the block's end when the element is in the middle")
    func relocate() throws {
        // mid(1)="0", level(2), then 1 byte of padding... a 4-byte block with no spare room.
        var buffer = ByteBuffer(bytes: bytes("90 60 0001 00000002 00000003 bede0001 1030 20a5 fcff"))
        let set13 = buffer.setRTPHeaderExtension(id: 1, value: Array("abcdef".utf8))
        #expect(set13)
        let result = try #require(Self.read(&buffer))
        #expect(result.0 == "abcdef")
        #expect(result.1?.level == 37)
        #expect(result.2 == [0xFC, 0xFF])
        #expect(buffer.withRTPPacketView { view in view.extensionElements.map(\.id) } == [2, 1])
    }
}
