import NIOCore
import RTP
import TestSupport
import Testing

/// Bytes produced by aiortc 1.16.0's own encoders (the stack under pymediasoup), parsed by us, and
/// our builder's output compared byte for byte with aiortc's.
@Suite("aiortc-encoded RTP/RTCP")
struct AiortcInteropTests {
    @Test("aiortc Opus packet with mid and audio level extensions")
    func rtpWithExtensions() throws {
        var buffer = ByteBuffer(try fixture("aiortc-opus-mid-level"))
        let fields = try #require(
            buffer.withRTPPacketView { view in
                (
                    view.payloadType, view.marker, view.sequenceNumber, view.timestamp, view.ssrc,
                    view.mid(extensionID: 1), view.audioLevel(extensionID: 2), Array(view.payload)
                )
            }
        )
        #expect(fields.0 == 96)
        #expect(fields.1)
        #expect(fields.2 == 65535)
        #expect(fields.3 == 3_000_000_000)
        #expect(fields.4 == 2_659_474_323)
        #expect(fields.5 == "0")
        #expect(fields.6 == RTPAudioLevel(voiceActivity: true, level: 37))
        #expect(fields.7 == bytes("780be4c136ecc58d"))
    }

    @Test("aiortc SR + SDES compound parses and rebuilds identically")
    func senderReportCompound() throws {
        let raw = try fixture("aiortc-rtcp-sr-sdes")
        let packets = try RTCPCompoundReader.packets(in: ByteBuffer(raw))
        let block = RTCPReportBlock(
            ssrc: 11_223_344,
            fractionLost: 25,
            cumulativeLost: 7,
            extendedHighestSequenceNumber: 0x0001_0010,
            jitter: 123,
            lastSenderReport: 0x2345_6789,
            delaySinceLastSenderReport: 65536
        )
        let expected: [RTCPPacket] = [
            .senderReport(
                RTCPSenderReport(
                    ssrc: 2_659_474_323,
                    ntpTimestamp: 0xE9B1_2345_6789_ABCD,
                    rtpTimestamp: 3_000_000_960,
                    packetCount: 51,
                    octetCount: 4321,
                    reportBlocks: [block]
                )
            ),
            .sourceDescription(RTCPSourceDescription(chunks: [.init(ssrc: 2_659_474_323, items: [.cname("c61cba89-4f4a-4fd0-9d54-8f6b0e1c2a11")])])),
        ]
        #expect(packets == expected)
        if case .sourceDescription(let sdes) = packets.last {
            #expect(sdes.chunks.first?.cname == "c61cba89-4f4a-4fd0-9d54-8f6b0e1c2a11")
        }
        if case .senderReport(let sr) = packets.first {
            #expect(sr.compactNTPTimestamp == 0x2345_6789)
        }
        var rebuilt = ByteBuffer()
        for packet in expected { rebuilt.writeRTCPPacket(packet) }
        #expect(rebuilt.array == raw)
    }

    @Test("aiortc RR (negative loss), BYE, NACK, PLI, REMB")
    func feedbackCompound() throws {
        let raw = try fixture("aiortc-rtcp-rr-bye-nack-pli-remb")
        let packets = try RTCPCompoundReader.packets(in: ByteBuffer(raw))
        #expect(packets.count == 5)
        guard packets.count == 5 else { return }
        guard case .receiverReport(let rr) = packets[0] else {
            Issue.record("not RR: \(packets[0])")
            return
        }
        #expect(rr.ssrc == 1)
        #expect(rr.reportBlocks.first?.cumulativeLost == -3)
        #expect(rr.reportBlocks.first?.extendedHighestSequenceNumber == 70000)
        #expect(packets[1] == .goodbye(RTCPGoodbye(ssrcs: [2_659_474_323, 42])))
        guard case .genericNACK(let nack) = packets[2] else {
            Issue.record("not NACK: \(packets[2])")
            return
        }
        #expect(nack.lostSequenceNumbers == [1000, 1001, 1005, 1016, 1017, 1050])
        #expect(packets[3] == .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2_659_474_323)))
        #expect(packets[4] == .receiverEstimatedMaxBitrate(senderSSRC: 1))

        // Our builder produces aiortc's bytes for everything but REMB (recognised only).
        var rebuilt = ByteBuffer()
        rebuilt.writeRTCPPacket(packets[0])
        rebuilt.writeRTCPPacket(packets[1])
        rebuilt.writeRTCPPacket(
            .genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: 2_659_474_323, lostSequenceNumbers: [1000, 1001, 1005, 1016, 1017, 1050]))
        )
        rebuilt.writeRTCPPacket(packets[3])
        #expect(rebuilt.writeRTCPPacket(packets[4]) == 0)
        #expect(rebuilt.array == Array(raw[0..<0x50]))
    }
}

@Suite("Forwarding rewrite and restore")
struct ForwardRewriteTests {
    /// mediasoup's SimpleConsumer rewrites a shared packet per consumer, sends it, then restores it;
    /// with a bijective id map, the restore must give back the producer's exact bytes.
    @Test("rewrite SSRC/PT/seq/ts/ids, then restore, gives back the original bytes")
    func rewriteAndRestore() throws {
        let original = try fixture("aiortc-opus-mid-level")
        var buffer = ByteBuffer(original)
        let toRouter = RTPHeaderExtensionIDMap([(from: 1, to: 4), (from: 2, to: 1)])
        let fromRouter = RTPHeaderExtensionIDMap([(from: 4, to: 1), (from: 1, to: 2)])
        var sequence = SeqManager<UInt16>(initialOutput: 999)
        sequence.sync(65534)
        let rewritten: [UInt8]? = buffer.withRTPPacketView { view in
            let saved = (view.ssrc, view.payloadType, view.sequenceNumber, view.timestamp)
            view.ssrc = 0x0BAD_CAFE
            view.payloadType = 100
            view.sequenceNumber = sequence.input(saved.2) ?? 0
            view.timestamp = saved.3 &+ 960
            view.remapExtensionIDs(toRouter)
            let sent = Array(view.bytes)
            view.ssrc = saved.0
            view.payloadType = saved.1
            view.sequenceNumber = saved.2
            view.timestamp = saved.3
            view.remapExtensionIDs(fromRouter)
            return sent
        }
        let sent = try #require(rewritten)
        #expect(buffer.array == original)
        var check = ByteBuffer(sent)
        let fields = try #require(
            check.withRTPPacketView { ($0.ssrc, $0.payloadType, $0.sequenceNumber, $0.marker, $0.mid(extensionID: 4), $0.audioLevel(extensionID: 1)) }
        )
        #expect(fields.0 == 0x0BAD_CAFE)
        #expect(fields.1 == 100)
        #expect(fields.2 == 1000)
        #expect(fields.3)
        #expect(fields.4 == "0")
        #expect(fields.5?.level == 37)
    }
}
