import NIOCore
import RTP
import Testing

@Suite("PacketClassifier (RFC 7983 / RFC 5761)")
struct PacketClassifierTests {
    @Test("every first-byte value lands in the RFC 7983 range it belongs to")
    func firstByteTable() {
        for first in 0...255 {
            let kind = PacketClassifier.classify(firstByte: UInt8(first), secondByte: 96)
            let expected: PacketKind =
                switch first {
                case 0...3: .stun
                case 16...19: .zrtp
                case 20...63: .dtls
                case 64...79: .turnChannel
                case 128...191: .rtp
                default: .unknown
                }
            #expect(kind == expected, "first byte \(first)")
        }
    }

    @Test("RTCP is told apart from RTP by the second byte 192–223 (RFC 5761 §4)")
    func rtcpBySecondByte() {
        for second in 0...255 {
            let kind = PacketClassifier.classify(firstByte: 0x80, secondByte: UInt8(second))
            #expect(kind == ((192...223).contains(second) ? .rtcp : .rtp), "second byte \(second)")
        }
        // Opus PT 111 with the marker bit set is 0xEF = 239: still RTP.
        #expect(PacketClassifier.classify(firstByte: 0x80, secondByte: 0xEF) == .rtp)
    }

    @Test("datagrams too short for their kind are unknown")
    func shortDatagrams() {
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [0x00, 0x01])) == .unknown)
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [UInt8](repeating: 0, count: 20))) == .stun)
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [0x80, 0x60] + [UInt8](repeating: 0, count: 9))) == .unknown)
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [0x80, 0x60] + [UInt8](repeating: 0, count: 10))) == .rtp)
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [0x80, 0xC9, 0x00, 0x01])) == .rtcp)
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [22, 0xFE, 0xFD])) == .unknown)
        #expect(PacketClassifier.classify(ByteBuffer(bytes: [22, 0xFE, 0xFD] + [UInt8](repeating: 0, count: 10))) == .dtls)
        #expect(PacketClassifier.classify(ByteBuffer()) == .unknown)
    }
}
