import NIOCore
import Testing

@testable import RTP

/// RTCP item counts a peer controls are bounded (issue 11 point 2).
@Suite struct RTCPItemLimitTests {
    static func nack(items: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        let entries = (0..<items).map { RTCPGenericNACK.Item(packetID: UInt16(truncatingIfNeeded: $0 &* 100), bitmask: 0) }
        buffer.writeRTCPPacket(.genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: 2, items: entries)))
        return buffer
    }

    @Test func aNACKWithAtMostTheLimitParses() throws {
        let packets = try RTCPCompoundReader.packets(in: Self.nack(items: RTCPCompoundReader.maxNACKItems))
        guard case .genericNACK(let nack) = packets.first else {
            Issue.record("expected a NACK")
            return
        }
        #expect(nack.items.count == RTCPCompoundReader.maxNACKItems)
    }

    @Test func aNACKOverTheLimitIsRefused() {
        // 300 entries fit in one 1.2 kB datagram and would name 5,100 packets.
        #expect { _ = try RTCPCompoundReader.packets(in: Self.nack(items: 300)) } throws: { ($0 as? RTPError)?.type == .tooManyItems }
        #expect { _ = try RTCPCompoundReader.packets(in: Self.nack(items: RTCPCompoundReader.maxNACKItems + 1)) } throws: {
            ($0 as? RTPError)?.type == .tooManyItems
        }
    }

    @Test func anSDESChunkWithTooManyItemsIsRefused() {
        func sdes(items: Int) -> ByteBuffer {
            var body: [UInt8] = [0, 0, 0, 7]  // SSRC
            for _ in 0..<items { body += [1, 1, UInt8(ascii: "a")] }  // CNAME "a"
            body.append(0)
            while body.count % 4 != 0 { body.append(0) }
            var buffer = ByteBuffer()
            buffer.writeBytes([0x81, 202])
            buffer.writeInteger(UInt16(body.count / 4))
            buffer.writeBytes(body)
            return buffer
        }
        #expect(throws: Never.self) { _ = try RTCPCompoundReader.packets(in: sdes(items: RTCPCompoundReader.maxSDESItemsPerChunk)) }
        #expect { _ = try RTCPCompoundReader.packets(in: sdes(items: RTCPCompoundReader.maxSDESItemsPerChunk + 1)) } throws: {
            ($0 as? RTPError)?.type == .tooManyItems
        }
    }
}
