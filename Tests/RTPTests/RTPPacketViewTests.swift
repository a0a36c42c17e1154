import NIOCore
import RTP
import TestSupport
import Testing

@Suite("RTPPacketView (RFC 3550 §5.1)")
struct RTPPacketViewTests {
    /// pion/rtp's `TestBasic` packet: V=2 X=1 M=1 PT=96, seq 27023, ts 3653407706, SSRC 476325762,
    /// a non-RFC-8285 extension (profile 0x0001, one word) and a 5-byte payload.
    static let pionPacket = bytes("90e0698f d9c293da 1c642782 00010001 ffffffff 9836be889e")

    @Test("parses the fixed header, extension block and payload")
    func parseFields() throws {
        var buffer = ByteBuffer(Self.pionPacket)
        let fields = try #require(
            buffer.withRTPPacketView { view in
                (
                    view.marker, view.payloadType, view.sequenceNumber, view.timestamp, view.ssrc, view.csrcCount,
                    view.hasExtension, view.extensionProfile, view.extensionForm, view.payloadOffset, Array(view.payload), view.paddingLength
                )
            }
        )
        #expect(fields.0 == true)
        #expect(fields.1 == 96)
        #expect(fields.2 == 27023)
        #expect(fields.3 == 3_653_407_706)
        #expect(fields.4 == 476_325_762)
        #expect(fields.5 == 0)
        #expect(fields.6 == true)
        #expect(fields.7 == 0x0001)
        #expect(fields.8 == nil)  // not RFC 8285: elements are not interpreted
        #expect(fields.9 == 20)
        #expect(fields.10 == [0x98, 0x36, 0xbe, 0x88, 0x9e])
        #expect(fields.11 == 0)
    }

    @Test("setters rewrite only their own bits, in place")
    func settersInPlace() {
        var buffer = ByteBuffer(Self.pionPacket)
        let rewritten: Void? = buffer.withRTPPacketView { view in
            view.payloadType = 111
            view.marker = false
            view.sequenceNumber = 0xFFFF
            view.timestamp = 0x0102_0304
            view.ssrc = 0xA1B2_C3D4
        }
        #expect(rewritten != nil)
        var expected = Self.pionPacket
        expected[1] = 111
        expected[2...3] = [0xFF, 0xFF]
        expected[4...7] = [1, 2, 3, 4]
        expected[8...11] = [0xA1, 0xB2, 0xC3, 0xD4]
        #expect(buffer.array == expected)
        // Marker set again keeps the payload type.
        buffer.withRTPPacketView { $0.marker = true }
        #expect(buffer.array[1] == 0x80 | 111)
    }

    @Test("CSRCs and padding are located per RFC 3550")
    func csrcAndPadding() throws {
        // V=2 P=1 CC=2, PT 0, seq 1, ts 2, SSRC 3, CSRCs 0x11111111 0x22222222, payload AA BB, 3 bytes padding.
        var buffer = ByteBuffer(bytes("a2000001 00000002 00000003 11111111 22222222 aabb 0000 03"))
        let result = try #require(
            buffer.withRTPPacketView { view in
                (view.csrcCount, view.csrc(at: 0), view.csrc(at: 1), view.payloadRange, Array(view.payload), view.paddingLength, view.hasPadding)
            }
        )
        #expect(result.0 == 2)
        #expect(result.1 == 0x1111_1111)
        #expect(result.2 == 0x2222_2222)
        #expect(result.3 == 20..<22)
        #expect(result.4 == [0xAA, 0xBB])
        #expect(result.5 == 3)
        #expect(result.6)
    }

    @Test("every truncation of a valid packet is rejected or stays within its bytes")
    func truncations() {
        // V=2 P=1 X=1 CC=1, one CSRC, a one-word 0xBEDE block, payload AA BB CC, 2 bytes of padding.
        let packet = bytes("b1 6f 0001 00000002 00000003 44444444 bede0001 10ff0000 aabbcc 02 02")
        var full = ByteBuffer(packet)
        #expect(full.withRTPPacketView { ($0.payloadRange, $0.paddingLength) }.map { $0.0 == 24..<27 && $0.1 == 2 } == true)
        for length in 0..<packet.count {
            var buffer = ByteBuffer(Array(packet[0..<length]))
            let layout = buffer.withRTPPacketView { view in (view.payloadOffset, view.payloadRange, view.extensionDataRange) }
            if length < 24 {
                // Cut inside the fixed header, the CSRC list or the extension block.
                #expect(layout == nil, "prefix of \(length) bytes parsed")
            } else if let layout {
                // A prefix whose last byte happens to be a plausible padding count parses; its
                // ranges must still lie inside the prefix.
                #expect(layout.0 == 24 && layout.1.upperBound <= length && layout.2 == 20..<24)
            }
        }
    }

    @Test("invalid packets are nil: version, CSRC count, extension length, padding")
    func invalidPackets() {
        let cases: [(String, [UInt8])] = [
            ("version 1", bytes("40000001 00000002 00000003")),
            ("version 0", bytes("00000001 00000002 00000003")),
            ("CC=1 without CSRC", bytes("81000001 00000002 00000003")),
            ("X without extension header", bytes("90000001 00000002 00000003 bede")),
            ("extension length beyond packet", bytes("90000001 00000002 00000003 bede0002 10ff0000")),
            ("padding count 0", bytes("a0000001 00000002 00000003 aa00")),
            ("padding count beyond payload", bytes("a0000001 00000002 00000003 aa05")),
            ("11 bytes", bytes("80000001 00000002 000000")),
        ]
        for (name, packet) in cases {
            var buffer = ByteBuffer(packet)
            #expect(buffer.withRTPPacketView { _ in true } == nil, "\(name)")
        }
    }

    @Test("a header-only packet has an empty payload; padding may fill the whole body")
    func emptyPayload() throws {
        var header = ByteBuffer(bytes("80000001 00000002 00000003"))
        #expect(header.withRTPPacketView { $0.payloadRange } == 12..<12)
        var padded = ByteBuffer(bytes("a0000001 00000002 00000003 00000004"))
        #expect(padded.withRTPPacketView { $0.payloadRange } == 12..<12)
    }

    @Test("writeRTPPacket builds what the view reads back")
    func writeAndRead() throws {
        var buffer = ByteBuffer()
        let written = buffer.writeRTPPacket(payloadType: 100, sequenceNumber: 65_535, timestamp: 960, ssrc: 42, marker: true, payload: [1, 2, 3])
        #expect(written == 15)
        #expect(buffer.array == bytes("80e4ffff 000003c0 0000002a 010203"))
        let ssrc = buffer.withRTPPacketView { $0.ssrc }
        #expect(ssrc == 42)
    }

    @Test("looksLikeRTP rejects RTCP and short datagrams")
    func looksLikeRTP() {
        bytes("80e4ffff 000003c0 0000002a").withUnsafeBytes { #expect(RTPPacketView.looksLikeRTP($0)) }
        bytes("80c90001 000003c0 0000002a").withUnsafeBytes { #expect(!RTPPacketView.looksLikeRTP($0)) }
        bytes("80e4ffff 000003c0 000000").withUnsafeBytes { #expect(!RTPPacketView.looksLikeRTP($0)) }
    }
}
