import NIOCore
import RTP
import TestSupport
import Testing

@Suite("RTP header extensions (RFC 8285, RFC 6464, RFC 8843 mid)")
struct RFC8285Tests {
    /// A one-byte-form packet shaped like aiortc's: mid (id 1, "0") and audio level (id 2, V=1 level 42)
    /// plus a padding byte, then an Opus payload.
    static let oneByte = bytes("90 60 0001 00000002 00000003 bede0002 1030 20aa 00 000000 fcff fe")

    /// The RFC 8285 §4.3 two-byte example shape: appbits 0, id 1 len 0, id 2 len 1, padding, id 3 len 4.
    static let twoByte = bytes("90 60 0001 00000002 00000003 10000003 0100 0201 aa 00 0304 01020304 cafe")

    @Test("one-byte form: elements, padding, audio level and mid")
    func oneByteForm() throws {
        var buffer = ByteBuffer(Self.oneByte)
        let result = try #require(
            buffer.withRTPPacketView { view in
                (
                    view.extensionForm, view.extensionElements.map { ($0.id, $0.dataRange) }, view.audioLevel(extensionID: 2),
                    view.mid(extensionID: 1), Array(view.payload)
                )
            }
        )
        #expect(result.0 == .oneByte)
        #expect(result.1.map(\.0) == [1, 2])
        #expect(result.1.map(\.1) == [17..<18, 19..<20])
        #expect(result.2 == RTPAudioLevel(voiceActivity: true, level: 42))
        #expect(result.2?.dBov == -42)
        #expect(result.3 == "0")
        #expect(result.4 == [0xFC, 0xFF, 0xFE])
    }

    @Test("two-byte form: zero-length elements and padding between elements")
    func twoByteForm() throws {
        var buffer = ByteBuffer(Self.twoByte)
        let elements = try #require(buffer.withRTPPacketView { view in (view.extensionForm, view.extensionElements.map { $0 }) })
        #expect(elements.0 == .twoByte)
        #expect(elements.1.map(\.id) == [1, 2, 3])
        #expect(elements.1.map(\.dataRange.count) == [0, 1, 4])
        let three = buffer.withRTPPacketView { view in view.extensionData(id: 3).map { Array(view.bytes[$0]) } }
        #expect(three == [1, 2, 3, 4])
        #expect(buffer.withRTPPacketView { $0.extensionData(id: 4) } == .some(nil))
        #expect(buffer.withRTPPacketView { $0.audioLevel(extensionID: 1) } == .some(nil))  // empty data
    }

    @Test("one-byte id 15 stops processing; an overlong element ends the walk")
    func reservedAndMalformed() {
        var reserved = ByteBuffer(bytes("90 60 0001 00000002 00000003 bede0002 10aa f0 21bbcc 000000"))
        #expect(reserved.withRTPPacketView { view in view.extensionElements.map(\.id) } == [1])
        // Element 2 claims 16 bytes in a 4-byte block.
        var overlong = ByteBuffer(bytes("90 60 0001 00000002 00000003 bede0001 10aa 2f00"))
        #expect(overlong.withRTPPacketView { view in view.extensionElements.map(\.id) } == [1])
    }

    @Test("remapping ids rewrites in place and strips unmapped ids as padding")
    func remapOneByte() throws {
        var buffer = ByteBuffer(Self.oneByte)
        // Producer (aiortc): mid 1, level 2 → router: mid 1→4, level 2→10; nothing else.
        let map = RTPHeaderExtensionIDMap([(from: 1, to: 4), (from: 2, to: 10)])
        buffer.withRTPPacketView { $0.remapExtensionIDs(map) }
        let after = try #require(
            buffer.withRTPPacketView { view in (view.mid(extensionID: 4), view.audioLevel(extensionID: 10), view.extensionData(id: 1)) }
        )
        #expect(after.0 == "0")
        #expect(after.1?.level == 42)
        #expect(after.2 == nil)
        var expected = Self.oneByte
        expected[16] = 0x40
        expected[18] = 0xA0
        #expect(buffer.array == expected)

        // Dropping the mid: its two bytes become padding, the level is still found.
        var stripped = ByteBuffer(Self.oneByte)
        stripped.withRTPPacketView { $0.remapExtensionIDs(.keeping([2])) }
        #expect(Array(stripped.array[16..<18]) == [0, 0])
        #expect(stripped.withRTPPacketView { $0.audioLevel(extensionID: 2)?.level } == 42)
        #expect(stripped.withRTPPacketView { view in view.extensionElements.map(\.id) } == [2])
    }

    @Test("swapping ids works; one-byte elements mapped above 14 are removed")
    func remapSwapAndOverflow() throws {
        var buffer = ByteBuffer(Self.oneByte)
        buffer.withRTPPacketView { $0.remapExtensionIDs(RTPHeaderExtensionIDMap([(from: 1, to: 2), (from: 2, to: 1)])) }
        #expect(buffer.withRTPPacketView { $0.mid(extensionID: 2) } == "0")
        #expect(buffer.withRTPPacketView { $0.audioLevel(extensionID: 1)?.voiceActivity } == true)

        var overflow = ByteBuffer(Self.oneByte)
        overflow.withRTPPacketView { $0.remapExtensionIDs(RTPHeaderExtensionIDMap([(from: 1, to: 20), (from: 2, to: 2)])) }
        #expect(overflow.withRTPPacketView { view in view.extensionElements.map(\.id) } == [2])

        var two = ByteBuffer(Self.twoByte)
        two.withRTPPacketView { $0.remapExtensionIDs(RTPHeaderExtensionIDMap([(from: 3, to: 200), (from: 2, to: 2)])) }
        #expect(two.withRTPPacketView { view in view.extensionElements.map(\.id) } == [2, 200])
    }

    @Test("a packet without an extension block has no elements; remap is a no-op")
    func noExtension() {
        let packet = bytes("80 60 0001 00000002 00000003 aabb")
        var buffer = ByteBuffer(packet)
        #expect(buffer.withRTPPacketView { view in view.extensionElements.map(\.id) } == [])
        buffer.withRTPPacketView { $0.remapExtensionIDs(RTPHeaderExtensionIDMap()) }
        #expect(buffer.array == packet)
    }

    @Test("RFC 6464 byte encoding")
    func audioLevelByte() {
        #expect(RTPAudioLevel(byte: 0xFF) == RTPAudioLevel(voiceActivity: true, level: 127))
        #expect(RTPAudioLevel(byte: 0x00) == RTPAudioLevel(voiceActivity: false, level: 0))
        #expect(RTPAudioLevel(voiceActivity: true, level: 30).byte == 0x9E)
        #expect(RTPAudioLevel(voiceActivity: false, level: 200).level == 200 & 0x7F)
    }
}
