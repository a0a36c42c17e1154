import NIOCore
import RTP
import TestSupport
import Testing

@Suite("RTCP compound packets (RFC 3550 §6, RFC 4585)")
struct RTCPTests {
    static let samples: [RTCPPacket] = [
        .senderReport(RTCPSenderReport(ssrc: 7, ntpTimestamp: 1, rtpTimestamp: 2, packetCount: 3, octetCount: 4)),
        .receiverReport(
            RTCPReceiverReport(
                ssrc: 9,
                reportBlocks: [
                    RTCPReportBlock(
                        ssrc: 1,
                        fractionLost: 255,
                        cumulativeLost: -0x80_0000,
                        extendedHighestSequenceNumber: .max,
                        jitter: 1,
                        lastSenderReport: 2,
                        delaySinceLastSenderReport: 3
                    ),
                    RTCPReportBlock(
                        ssrc: 2,
                        fractionLost: 0,
                        cumulativeLost: 0x7F_FFFF,
                        extendedHighestSequenceNumber: 0,
                        jitter: 0,
                        lastSenderReport: 0,
                        delaySinceLastSenderReport: 0
                    ),
                ]
            )
        ),
        .sourceDescription(
            RTCPSourceDescription(chunks: [
                .init(ssrc: 1, items: [.cname("ab")]),  // 4 + 2 + 2 + null = 9 → padded to 12
                .init(ssrc: 2, items: [.cname("abcdef"), .init(type: 6, value: Array("msab".utf8))]),  // 4+8+6 = 18 + null → 20
                .init(ssrc: 3, items: []),  // SSRC + null item padded to 8
            ])
        ),
        .goodbye(RTCPGoodbye(ssrcs: [5], reason: "left")),
        .goodbye(RTCPGoodbye(ssrcs: [])),
        .genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: 2, items: [.init(packetID: 65535, bitmask: 0x0001)])),
        .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 3, mediaSSRC: 4)),
        .unknown(packetType: 204, count: 3, body: ByteBuffer(bytes: Array("nameDATA".utf8))),
    ]

    @Test("every modelled packet round-trips, alone and in one compound", arguments: samples)
    func roundTrip(_ packet: RTCPPacket) throws {
        var buffer = ByteBuffer()
        let written = buffer.writeRTCPPacket(packet)
        #expect(written % 4 == 0)
        #expect(written == buffer.readableBytes)
        #expect(try RTCPCompoundReader.packets(in: buffer) == [packet])
    }

    @Test("a compound of all samples parses back in order")
    func compound() throws {
        var buffer = ByteBuffer()
        for packet in Self.samples { buffer.writeRTCPPacket(packet) }
        #expect(try RTCPCompoundReader.packets(in: buffer) == Self.samples)
    }

    @Test("NACK packing across the sequence wrap, and unpacking")
    func nackWrap() {
        let nack = RTCPGenericNACK(senderSSRC: 0, mediaSSRC: 0, lostSequenceNumbers: [65534, 65535, 0, 13, 14, 100, 100])
        // 65534 + 16 wraps to 14, so 13 and 14 still fit in the first BLP (bits 14 and 15).
        #expect(nack.items == [.init(packetID: 65534, bitmask: 0b1100_0000_0000_0011), .init(packetID: 100, bitmask: 0)])
        #expect(nack.lostSequenceNumbers == [65534, 65535, 0, 13, 14, 100])
    }

    @Test("SR with a profile-specific extension after the blocks is accepted")
    func senderReportExtension() throws {
        var buffer = ByteBuffer()
        buffer.writeRTCPPacket(.senderReport(RTCPSenderReport(ssrc: 7, ntpTimestamp: 1, rtpTimestamp: 2, packetCount: 3, octetCount: 4)))
        buffer.writeBytes([0xDE, 0xAD, 0xBE, 0xEF])
        buffer.setInteger(UInt16(7), at: 2)
        let packets = try RTCPCompoundReader.packets(in: buffer)
        #expect(packets == [.senderReport(RTCPSenderReport(ssrc: 7, ntpTimestamp: 1, rtpTimestamp: 2, packetCount: 3, octetCount: 4))])
    }

    @Test("padding on the last packet is removed; a bad padding count is an error")
    func padding() throws {
        // RR with no blocks + 4 bytes of padding (P=1, count 4).
        let padded = bytes("a0c90002 00000009 00000004")
        #expect(try RTCPCompoundReader.packets(in: ByteBuffer(padded)) == [.receiverReport(RTCPReceiverReport(ssrc: 9))])
        #expect(throws: RTPError.self) { try RTCPCompoundReader.packets(in: ByteBuffer(bytes("a0c90002 00000009 00000000"))) }
        #expect(throws: RTPError.self) { try RTCPCompoundReader.packets(in: ByteBuffer(bytes("a0c90002 00000009 0000000d"))) }
    }

    @Test(
        "malformed packets are typed errors",
        arguments: [
            ("00c90001 00000009", RTPError.ErrorType.unsupportedVersion),
            ("80c90002 00000009", .truncated),  // length says 12 bytes, 8 present
            ("80c9", .truncated),
            ("81c90001 00000009", .invalidLength),  // RC=1 without a block
            ("80c80001 00000009", .invalidLength),  // SR without sender info
            ("81ca0001 00000001", .truncated),  // SDES chunk without its null item
            ("81cb0000", .invalidLength),  // BYE SC=1 without SSRC
            ("80cb0001 05000000", .truncated),  // BYE reason of 5 bytes in 3
            ("81cd0003 00000001 00000002 0001", .truncated),  // length beyond the data
            ("81cd0001 00000001", .invalidLength),  // feedback without media SSRC
        ]
    )
    func malformed(_ sample: (String, RTPError.ErrorType)) {
        let (hexBytes, expectedType) = sample
        do {
            let packets = try RTCPCompoundReader.packets(in: ByteBuffer(bytes(hexBytes)))
            Issue.record("parsed \(packets) from \(hexBytes)")
        } catch {
            #expect(error.type == expectedType, "\(hexBytes): \(error)")
        }
    }

    @Test("every prefix of a valid compound either parses fewer packets or fails; nothing traps")
    func prefixes() throws {
        var buffer = ByteBuffer()
        for packet in Self.samples { buffer.writeRTCPPacket(packet) }
        let all = buffer.array
        for length in 0..<all.count {
            var reader = RTCPCompoundReader(ByteBuffer(Array(all[0..<length])))
            var count = 0
            do {
                while try reader.next() != nil { count += 1 }
                #expect(count < Self.samples.count)
            } catch {
                // expected for most cuts
            }
        }
    }

    @Test("unknown feedback formats keep their bytes")
    func unknownFeedback() throws {
        // PSFB FMT 4 (FIR) with one FCI entry.
        let fir = bytes("84ce0004 00000001 00000000 00000002 07000000")
        let packets = try RTCPCompoundReader.packets(in: ByteBuffer(fir))
        #expect(packets == [.unknown(packetType: 206, count: 4, body: ByteBuffer(bytes: Array(fir[4...])))])
        var rebuilt = ByteBuffer()
        rebuilt.writeRTCPPacket(packets[0])
        #expect(rebuilt.array == fir)
        // An empty NACK FCI is odd but well-formed; a partial FCI entry is not.
        #expect(
            try RTCPCompoundReader.packets(in: ByteBuffer(bytes("81cd0002 00000001 00000002"))) == [
                .genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: 2, items: []))
            ]
        )
        #expect(throws: RTPError.self) { try RTCPCompoundReader.packets(in: ByteBuffer(bytes("a1cd0003 00000001 00000002 00010002"))) }
        // Transport-wide CC is recognised by FMT 15.
        let twcc = bytes("8fcd0003 00000001 00000002 00010000")
        #expect(try RTCPCompoundReader.packets(in: ByteBuffer(twcc)) == [.transportWideCC(senderSSRC: 1, mediaSSRC: 2)])
    }
}
