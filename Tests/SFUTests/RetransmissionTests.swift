import NIOCore
import RTP
import SFUTestSupport
import STUN
import Testing

@testable import SFU

/// Issue 11 point 2: NACKs are answered at most once per RTT per packet, only from the buffer,
/// within a byte budget per consumer; RTCP item counts are bounded; every refusal is a named
/// drop; and only a nominating ICE check moves where media goes.
@Suite struct RetransmissionTests {
    typealias Room = RouterTests.Room

    static func nack(_ room: Room, ssrc: UInt32, items: [RTCPGenericNACK.Item]) -> ByteBuffer {
        room.receiver.rtcpPacket([.genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: ssrc, items: items))])
    }

    /// Sends producer packets `range`, `spacing` apart, delivering each.
    static func send(_ room: Room, _ range: ClosedRange<UInt16>, spacing: TimeAmount) {
        for seq in range {
            room.harness.advance(spacing)
            room.harness.send(
                room.sender.opusPacket(sequenceNumber: seq, timestamp: UInt32(seq) &* 960, ssrc: Room.producerSSRC), from: room.sender.address)
            room.harness.run()
        }
    }

    @Test func aStormOfNACKsForOneSequenceNumberCausesAHandfulOfRetransmissions() throws {
        let room = try Room()
        room.send(1...10)
        let received = room.received
        let ssrc = received[0].ssrc
        let wanted = received[4].sequenceNumber
        let counters = { room.harness.worker.counters }
        // 10,000 NACKs over 200 ms (one every 20 µs); no RTT measured yet, so one resend per 100 ms.
        for _ in 0..<10_000 {
            room.harness.advance(.microseconds(20))
            room.harness.send(Self.nack(room, ssrc: ssrc, items: [.init(packetID: wanted, bitmask: 0)]), from: room.receiver.address)
        }
        room.harness.run()
        print(
            "10,000 NACKs for one packet over 200 ms: \(counters().retransmissions) retransmissions, \(counters()[.retransmissionTooSoon]) refused as too soon"
        )
        #expect(counters().retransmissions >= 1)
        #expect(counters().retransmissions <= 3)
        #expect(counters()[.retransmissionTooSoon] == 10_000 - counters().retransmissions)
        #expect(counters()[.rtcpParseFailed] == 0)
    }

    @Test func repeatsInsideOneNACKAreRefusedAndTooManyItemsRefuseTheNACK() throws {
        let room = try Room()
        room.send(1...20)  // a budget of 10 retransmissions
        let received = room.received
        let ssrc = received[0].ssrc
        let wanted = received[14].sequenceNumber
        let counters = { room.harness.worker.counters }
        // 64 entries (the most a NACK may carry), all the same packet and all its 16 followers.
        let same = Array(repeating: RTCPGenericNACK.Item(packetID: wanted, bitmask: 0xFFFF), count: RTCPCompoundReader.maxNACKItems)
        room.harness.send(Self.nack(room, ssrc: ssrc, items: same), from: room.receiver.address)
        // wanted … wanted+5 were sent (seq 15…20): each resent once; the other 11 per entry are misses.
        #expect(counters().retransmissions == 6)
        #expect(counters()[.retransmissionTooSoon] == 63 * 6)
        #expect(counters()[.retransmissionMiss] == 64 * 11)
        // One entry more and the NACK is refused whole.
        room.harness.advance(.seconds(1))
        room.harness.send(Self.nack(room, ssrc: ssrc, items: same + [same[0]]), from: room.receiver.address)
        #expect(counters()[.rtcpTooManyItems] == 1)
        #expect(counters().retransmissions == 6)
    }

    @Test func aPacketIsResentAgainAfterTheRTT() throws {
        let room = try Room()
        room.send(1...10)
        let ssrc = room.received[0].ssrc
        let wanted = room.received[9].sequenceNumber
        let request = { room.harness.send(Self.nack(room, ssrc: ssrc, items: [.init(packetID: wanted, bitmask: 0)]), from: room.receiver.address) }
        request()
        room.harness.advance(.milliseconds(99))
        request()
        #expect(room.harness.worker.counters.retransmissions == 1)
        room.harness.advance(.milliseconds(1))
        request()
        #expect(room.harness.worker.counters.retransmissions == 2)
    }

    @Test func packetsNoLongerBufferedAreNotResent() throws {
        let room = try Room()
        room.send(1...10)
        let ssrc = room.received[0].ssrc
        let wanted = room.received[9].sequenceNumber
        // The buffer answers for 1 s (late audio is worse than lost audio).
        room.harness.advance(.milliseconds(1_001))
        room.harness.send(Self.nack(room, ssrc: ssrc, items: [.init(packetID: wanted, bitmask: 0)]), from: room.receiver.address)
        #expect(room.harness.worker.counters.retransmissions == 0)
        #expect(room.harness.worker.counters[.retransmissionMiss] == 1)
    }

    @Test func retransmittedBytesAreBoundedToHalfOfTheStream() throws {
        let room = try Room()
        // 100 packets 5 ms apart (all still buffered), 80 bytes each: 8,000 bytes forwarded,
        // so 4,000 bytes (50 packets) may be retransmitted.
        Self.send(room, 1...100, spacing: .milliseconds(5))
        let received = room.received
        try #require(received.count == 100)
        #expect(received[0].payload.count == 60)
        let all = received.map(\.sequenceNumber)
        room.harness.send(
            room.receiver.rtcpPacket([.genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: received[0].ssrc, lostSequenceNumbers: all))]),
            from: room.receiver.address)
        let counters = room.harness.worker.counters
        print("NACK for 100 packets (8,000 B forwarded): \(counters.retransmissions) resent, \(counters[.retransmissionRateLimited]) over budget")
        #expect(counters.retransmissions == 50)
        #expect(counters[.retransmissionRateLimited] == 50)
        // Forwarding refills the budget: 10 more packets earn 5 retransmissions.
        Self.send(room, 101...110, spacing: .milliseconds(5))
        room.harness.advance(.milliseconds(100))
        room.harness.send(
            room.receiver.rtcpPacket([.genericNACK(RTCPGenericNACK(senderSSRC: 1, mediaSSRC: received[0].ssrc, lostSequenceNumbers: all.suffix(40)))]
            ),
            from: room.receiver.address)
        #expect(room.harness.worker.counters.retransmissions == 55)
    }

    @Test func onlyANominatingCheckMovesTheMediaPath() throws {
        let room = try Room()
        let transport = try room.harness.router.transport(room.receiveTransport)
        #expect(transport.remoteAddress == room.receiver.address)
        // A valid check without USE-CANDIDATE from another address (e.g. a spoofed victim's).
        let elsewhere = TransportAddress(ipv4: 192, 0, 2, 7, port: 9)
        room.harness.send(room.receiver.bindingRequest(useCandidate: false), from: elsewhere)
        #expect(transport.remoteAddress == room.receiver.address)
        room.send(1...2)
        #expect(room.received.count == 2)
        // Nor after consent lapsed.
        room.harness.advance(room.harness.worker.settings.consentTimeout + .seconds(1))
        room.harness.worker.tick(now: room.harness.now)
        #expect(transport.iceDisconnected)
        room.harness.send(room.receiver.bindingRequest(useCandidate: false), from: elsewhere)
        #expect(transport.remoteAddress == room.receiver.address)
        #expect(transport.iceDisconnected)
        // With USE-CANDIDATE it moves (the client nominated it), as in mediasoup.
        room.harness.send(room.receiver.bindingRequest(useCandidate: true), from: elsewhere)
        #expect(transport.remoteAddress == elsewhere)
    }
}
