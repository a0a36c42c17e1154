import MediasoupWire
import NIOCore
import RTP
import SFUTestSupport
import STUN
import Testing

@testable import SFU

/// Issue 11 point 3: no trapping arithmetic on wire values or clocks. A stream is driven across
/// 80 simulated hours with sequence-number and timestamp wraps, extreme SR/RR/NACK values, and a
/// client CNAME longer than an SDES item can hold.
@Suite struct WireArithmeticTests {
    typealias Room = RouterTests.Room

    @Test func dlsrIsExactAndSaturates() {
        #expect(RTPStreamRecv.delaySinceLastSenderReport(elapsed: .zero) == 0)
        #expect(RTPStreamRecv.delaySinceLastSenderReport(elapsed: .milliseconds(1_500)) == 98_304)
        #expect(RTPStreamRecv.delaySinceLastSenderReport(elapsed: .milliseconds(65_535_500)) == 4_294_934_528)
        // 78 hours and beyond: `elapsed * 65_536` overflowed UInt64 and trapped here.
        #expect(RTPStreamRecv.delaySinceLastSenderReport(elapsed: .hours(78)) == UInt32.max)
        #expect(RTPStreamRecv.delaySinceLastSenderReport(elapsed: .nanoseconds(.max)) == UInt32.max)
    }

    @Test func senderReportTimestampsDoNotOverflowForAnyClockRate() {
        var stream = RTPStreamSend(ssrc: 1, clockRate: UInt32.max)
        stream.sent(sequenceNumber: 1, producerSequenceNumber: 1, timestamp: UInt32.max, length: 100, payloadLength: 80, now: .distantPast)
        let report = stream.makeSenderReport(now: .distantFuture, ntp: UInt64.max)
        #expect(report != nil)
    }

    /// Keeps both peers' ICE consent fresh (a lite agent closes a transport 40 s after the last check).
    static func keepAlive(_ room: Room) {
        room.harness.send(room.sender.bindingRequest(), from: room.sender.address)
        room.harness.send(room.receiver.bindingRequest(), from: room.receiver.address)
        room.harness.run()
    }

    @Test func aStreamAcross80HoursWithWrapsAndExtremeReports() throws {
        let room = try Room()
        let harness = room.harness
        // One SR with every field at its maximum, then 80 hours of stream.
        let extremeSR = RTCPSenderReport(
            ssrc: Room.producerSSRC, ntpTimestamp: UInt64.max, rtpTimestamp: UInt32.max, packetCount: UInt32.max, octetCount: UInt32.max)
        harness.send(room.sender.rtcpPacket([.senderReport(extremeSR)]), from: room.sender.address)
        var sequenceNumber: UInt16 = 65_500
        var timestamp: UInt32 = UInt32.max - 50 * 960
        for hour in 1...80 {
            // A jump of an hour, then a burst of 100 packets (20 ms of media time each) that
            // crosses the 16-bit sequence wrap in hour 1 and the 32-bit timestamp wrap too.
            harness.advance(.hours(1))
            Self.keepAlive(room)
            for _ in 0..<100 {
                harness.advance(.milliseconds(20))
                harness.send(
                    room.sender.opusPacket(sequenceNumber: sequenceNumber, timestamp: timestamp, ssrc: Room.producerSSRC), from: room.sender.address)
                sequenceNumber &+= 1
                timestamp &+= 960
            }
            harness.run()
            // The receiver reports extreme values about its consumer, and NACKs around the wrap.
            let consumerSSRC = try #require(room.consumer.rtpParameters.encodings?.first?.ssrc)
            let block = RTCPReportBlock(
                ssrc: consumerSSRC, fractionLost: 255, cumulativeLost: hour.isMultiple(of: 2) ? -8_388_608 : 8_388_607,
                extendedHighestSequenceNumber: UInt32.max, jitter: UInt32.max, lastSenderReport: UInt32.max,
                delaySinceLastSenderReport: hour.isMultiple(of: 2) ? UInt32.max : 0)
            let nack = RTCPGenericNACK(
                senderSSRC: 1, mediaSSRC: consumerSSRC,
                items: [.init(packetID: UInt16.max, bitmask: UInt16.max), .init(packetID: 0, bitmask: 0xFFFF)])
            harness.send(
                room.receiver.rtcpPacket([.receiverReport(RTCPReceiverReport(ssrc: 7, reportBlocks: [block])), .genericNACK(nack)]),
                from: room.receiver.address)
            // Timers: RR to the producer (DLSR hours after its SR), SR to the consumer.
            for _ in 0..<6 {
                harness.advance(.seconds(1))
                harness.worker.tick(now: harness.now)
                harness.run()
            }
            if hour == 1 || hour == 80 { Self.keepAlive(room) }
        }
        // Still connected and forwarding, gap-free across every wrap.
        #expect(try harness.router.transport(room.sendTransport).state == .connected)
        #expect(try harness.router.transport(room.receiveTransport).state == .connected)
        let received = room.received.filter { $0.ssrc == room.consumer.rtpParameters.encodings?.first?.ssrc }
        #expect(received.count >= 8_000)
        let original = received.prefix(8_000)
        for (previous, next) in zip(original, original.dropFirst()) where next.payload != previous.payload {
            #expect(next.sequenceNumber == previous.sequenceNumber &+ 1)
        }
        // The last RR told the producer the DLSR saturated (the SR is 80 hours old).
        let blocks = room.sender.rtcp.compactMap { packet -> RTCPReportBlock? in
            guard case .receiverReport(let rr) = packet else { return nil }
            return rr.reportBlocks.first
        }
        let last = try #require(blocks.last)
        #expect(last.lastSenderReport == extremeSR.compactNTPTimestamp)
        #expect(last.delaySinceLastSenderReport == UInt32.max)
        #expect(last.cumulativeLost == 0)
    }

    @Test func aCNAMELongerThanAnSDESItemIsCut() throws {
        let room = try Room()
        var parameters = Harness.produceParameters
        parameters.encodings?[0].ssrc = 4_242
        parameters.rtcp?.cname = String(repeating: "x", count: 300)
        let producer = try room.harness.router.produce(transportId: room.sendTransport, kind: .audio, rtpParameters: parameters, paused: false)
        let consumer = try room.harness.router.consume(
            transportId: room.receiveTransport, producerId: producer, rtpCapabilities: Harness.deviceCapabilities, paused: false,
            now: room.harness.now)
        room.harness.send(room.sender.opusPacket(sequenceNumber: 1, timestamp: 960, ssrc: 4_242), from: room.sender.address)
        room.harness.run()
        // Its first SR + SDES (1–5 s after creation) used to hit the builder's 255-byte precondition.
        for _ in 0..<300 {
            room.harness.advance(.milliseconds(20))
            room.harness.worker.tick(now: room.harness.now)
            room.harness.run()
        }
        let cnames = room.receiver.rtcp.compactMap { packet -> String? in
            guard case .sourceDescription(let sdes) = packet, sdes.chunks.first?.ssrc == consumer.rtpParameters.encodings?.first?.ssrc else {
                return nil
            }
            return sdes.chunks.first?.cname
        }
        #expect(cnames.first == String(repeating: "x", count: 255))
    }
}
