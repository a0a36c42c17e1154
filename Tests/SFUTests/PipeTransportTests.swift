import DTLS
import Foundation
import MediasoupWire
import NIOCore
import RTP
import SFUTestSupport
import STUN
import Testing

@testable import SFU

/// Two workers wired in memory by their sinks (each one's datagrams to the other's port arrive
/// from its port), a producer on worker A piped to a router on worker B, and listeners on B.
@Suite struct PipeTransportTests {
    static let producerSSRC: UInt32 = 2_659_474_323

    /// Worker A (port 40,000) with a sending peer and its producer; worker B (port 41,000);
    /// a pipe pair between their routers; the producer piped to B; `listeners` consumers on B.
    final class Link {
        let a: Harness
        let b: Harness
        let sender: TestPeer
        let producerId: String
        let pipeA: PipeTransportInfo
        let pipeB: PipeTransportInfo
        var pipeConsumer: PipeConsumerInfo
        var listeners: [(peer: TestPeer, transportId: String, consumer: ConsumerInfo)] = []

        init(listeners count: Int = 1, enableSrtp: Bool = true) throws {
            a = try Harness(port: 40_000)
            b = try Harness(port: 41_000)
            a.links[b.address] = b
            b.links[a.address] = a
            let send = try a.connectedPeer(peerRole: .server)
            sender = send.peer
            producerId = try a.router.produce(
                transportId: send.transportId, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
            // mediasoup pipeToRouter: a pipe on each router, each connected with the other's
            // tuple and key, then consume on A's side and produce the copy (same id) on B's.
            pipeA = try a.router.createPipeTransport(enableSrtp: enableSrtp)
            pipeB = try b.router.createPipeTransport(enableSrtp: enableSrtp)
            try a.router.connectPipeTransport(pipeA.id, ip: pipeB.ip, port: pipeB.port, srtpParameters: pipeB.srtpParameters)
            try b.router.connectPipeTransport(pipeB.id, ip: pipeA.ip, port: pipeA.port, srtpParameters: pipeA.srtpParameters)
            pipeConsumer = try a.router.consumeOnPipe(transportId: pipeA.id, producerId: producerId)
            let piped = try b.router.produceOnPipe(
                transportId: pipeB.id, producerId: producerId, kind: pipeConsumer.kind, rtpParameters: pipeConsumer.rtpParameters,
                paused: pipeConsumer.producerPaused)
            #expect(piped == producerId)
            for _ in 0..<count { try addListener() }
        }

        func addListener() throws {
            let (peer, transportId) = try b.connectedPeer(peerRole: .client)
            let consumer = try b.router.consume(
                transportId: transportId, producerId: producerId, rtpCapabilities: Harness.deviceCapabilities, paused: false, now: b.now)
            listeners.append((peer, transportId, consumer))
        }

        /// Sends packets 20 ms apart from A's speaker and delivers them through both workers.
        func send(_ range: ClosedRange<UInt16>, level: UInt8 = 30, tick: Bool = false) {
            for seq in range {
                a.advance(.milliseconds(20))
                b.advance(.milliseconds(20))
                let packet = sender.opusPacket(
                    sequenceNumber: seq, timestamp: 1000 &+ UInt32(seq) &* 960, ssrc: PipeTransportTests.producerSSRC, level: level)
                a.send(packet, from: sender.address)
                deliver()
                if tick {
                    a.worker.tick(now: a.now)
                    b.worker.tick(now: b.now)
                }
            }
        }

        func deliver() {
            a.run()
            b.run()
        }

        func received(_ index: Int) -> [ReceivedRTP] { listeners[index].peer.rtp.compactMap(ReceivedRTP.init) }

        /// One pipe datagram from A to B, captured instead of delivered.
        func capturePipeDatagram(seq: UInt16) -> ByteBuffer? {
            var captured: ByteBuffer?
            a.lose = { [b] destination, datagram in
                guard destination == b.address else { return false }
                captured = datagram
                return true
            }
            send(seq...seq)
            a.lose = { _, _ in false }
            return captured
        }
    }

    @Test func pipedProducerReachesListenersOnTheOtherWorker() throws {
        let link = try Link(listeners: 3)
        link.send(1...10, level: 42)
        for index in 0..<3 {
            let received = link.received(index)
            try #require(received.count == 10)
            let consumerSSRC = try #require(link.listeners[index].consumer.rtpParameters.encodings?.first?.ssrc)
            for (offset, packet) in received.enumerated() {
                #expect(packet.ssrc == consumerSSRC)
                #expect(packet.payload == TestPeer.payload(UInt16(offset + 1)))
                if offset > 0 { #expect(packet.sequenceNumber == received[offset - 1].sequenceNumber &+ 1) }
            }
            #expect(link.listeners[index].peer.srtpFailures == 0)
        }
        // One pipe datagram per packet on A, one receive + three sends on B; nothing dropped.
        #expect(link.a.worker.counters.rtpOut == 10)
        #expect(link.b.worker.counters.rtpIn == 10)
        #expect(link.b.worker.counters.rtpOut == 30)
        #expect(link.a.worker.counters.totalDrops == 0)
        #expect(link.b.worker.counters.totalDrops == 0)
        #expect(link.a.unroutable == 0)
        let stats = try #require(link.b.router.stats.pipeTransports.first)
        #expect(stats.srtpProfile == "AEAD_AES_256_GCM")
        #expect(stats.producerIds == [link.producerId])
        // The pipe producer keeps the origin's id and stats.
        #expect(link.b.router.stats.producers.first { $0.id == link.producerId }?.packets == 10)
    }

    @Test func pipeDatagramsAreSRTPProtected() throws {
        let link = try Link()
        let datagram = try #require(link.capturePipeDatagram(seq: 1))
        // AEAD_AES_256_GCM: a 16-byte tag, and the payload is not in clear.
        let plain = TestPeer.payload(1)
        let bytes = Array(datagram.readableBytesView)
        #expect(bytes.count == 12 + 8 + plain.count + 16)
        #expect(Array(bytes[20..<(20 + plain.count)]) != plain)
    }

    @Test func forgedModifiedReplayedAndStrayPipePacketsAreCountedDrops() throws {
        let link = try Link()
        link.send(1...2)
        let datagram = try #require(link.capturePipeDatagram(seq: 3))
        let before = link.received(0).count
        // Modified payload byte: the GCM tag fails.
        var modified = datagram
        let last = modified.writerIndex - 20
        modified.setInteger(modified.getInteger(at: last, as: UInt8.self)! ^ 0x01, at: last)
        link.b.send(modified, from: link.a.address)
        #expect(link.b.worker.counters[.pipeSRTPUnprotectFailed] == 1)
        // A forged packet with the pipe's (tuple, SSRC) but another key: fails too.
        var forged = ByteBuffer()
        forged.writeBytes(Array(datagram.readableBytesView.prefix(12)))
        forged.writeBytes([UInt8](repeating: 0xAB, count: 76))
        link.b.send(forged, from: link.a.address)
        #expect(link.b.worker.counters[.pipeSRTPUnprotectFailed] == 2)
        // The genuine datagram goes through once; its replay is refused.
        link.b.send(datagram, from: link.a.address)
        link.b.run()
        link.b.send(datagram, from: link.a.address)
        #expect(link.b.worker.counters[.pipeSRTPUnprotectFailed] == 3)
        #expect(link.received(0).count == before + 1)
        // An SSRC no pipe producer has, from the pipe tuple; the pipe's SSRC from another tuple.
        var stray = datagram
        stray.setInteger(UInt32(7), at: stray.readerIndex + 8)
        link.b.send(stray, from: link.a.address)
        #expect(link.b.worker.counters[.pipeUnknownSSRC] == 1)
        link.b.send(datagram, from: TransportAddress(ipv4: 127, 0, 0, 1, port: 40_999))
        #expect(link.b.worker.counters[.unknownTuple] == 1)
        // RTCP on the pipe tuple, and a runt.
        var rtcp = ByteBuffer()
        rtcp.writeBytes([0x80, 201, 0x00, 0x01, 0, 0, 0, 7])
        link.b.send(rtcp, from: link.a.address)
        #expect(link.b.worker.counters[.pipeRTCPIgnored] == 1)
        var runt = ByteBuffer()
        runt.writeBytes([0x80, 111, 0, 1, 0, 0])
        link.b.send(runt, from: link.a.address)
        #expect(link.b.worker.counters.totalDrops == 7)
        #expect(link.received(0).count == before + 1)
    }

    @Test func originPauseResumeAndCloseReachThePipeProducerAndItsConsumers() throws {
        let link = try Link(listeners: 2)
        link.send(1...5)
        // The control path (MediaRouter.pipeToRouter) pauses the origin and then its copies.
        try link.a.router.pauseProducer(link.producerId)
        try link.b.router.pauseProducer(link.producerId)
        #expect(link.b.router.stats.consumers.allSatisfy { $0.producerPaused })
        link.send(6...10)
        #expect(link.received(0).count == 5)
        #expect(link.a.worker.counters[.producerPaused] == 5)
        try link.b.router.resumeProducer(link.producerId)
        try link.a.router.resumeProducer(link.producerId)
        link.send(11...15)
        let received = link.received(0)
        #expect(received.count == 10)
        // Continuous numbering across the pause, as for a local producer.
        for index in 1..<received.count { #expect(received[index].sequenceNumber == received[index - 1].sequenceNumber &+ 1) }

        // The origin closes: its pipe consumer stops on A; closing the copy on B closes B's
        // consumers with events, and no producerClosed comes from B (the origin reports it).
        link.a.router.closeProducer(link.producerId)
        #expect(link.a.router.pipeConsumers.isEmpty)
        link.b.router.closeProducer(link.producerId)
        var closedConsumers: Set<String> = []
        var producerClosed = 0
        while let (_, event) = link.b.worker.pollEvent() {
            if case .consumerClosed(let id, _) = event { closedConsumers.insert(id) }
            if case .producerClosed = event { producerClosed += 1 }
        }
        #expect(closedConsumers == Set(link.listeners.map(\.consumer.id)))
        #expect(producerClosed == 0)
        #expect(link.b.router.stats.pipeTransports.first?.producerIds == [])
        // The speaker goes on sending: A drops it (no producer for its SSRC), nothing crosses.
        link.send(16...16)
        #expect(link.a.worker.counters[.unknownSSRC] == 1)
        #expect(link.b.worker.counters.totalDrops == 0)
    }

    @Test func closingThePipeTransportClosesItsProducersAndFreesTheStream() throws {
        let link = try Link()
        link.send(1...2)
        link.b.router.closePipeTransport(link.pipeB.id)
        var closed = 0
        while let (_, event) = link.b.worker.pollEvent() {
            if case .consumerClosed = event { closed += 1 }
        }
        #expect(closed == 1)
        #expect(link.b.router.producers.isEmpty)
        // A still sends: B no longer knows the tuple as a pipe.
        link.send(3...3)
        #expect(link.b.worker.counters[.unknownTuple] == 1)
    }

    @Test func speakerDetectionOnTheReceivingRouterSeesThePipeProducer() throws {
        let link = try Link()
        var dominant: [String] = []
        for seq in UInt16(1)...60 {
            link.send(seq...seq, level: 20, tick: true)
            while let (_, event) = link.b.worker.pollEvent() {
                if case .dominantSpeaker(let id, _) = event { dominant.append(id) }
            }
        }
        #expect(dominant == [link.producerId])
    }

    @Test func twoPipesBetweenTheSameWorkersAreDemultiplexedBySSRC() throws {
        // Two rooms: a second router on each worker, a second pipe pair on the same tuple.
        let link = try Link()
        let routerA2 = try Router.make(mediaCodecs: ORTC.msabMediaCodecs, worker: link.a.worker)
        let routerB2 = try Router.make(mediaCodecs: ORTC.msabMediaCodecs, worker: link.b.worker)
        let sendInfo = try routerA2.createWebRtcTransport(now: link.a.now)
        let sender2 = try TestPeer(address: TransportAddress(ipv4: 127, 0, 0, 1, port: 40_500), info: sendInfo, dtlsRole: .server)
        link.a.peers[sender2.address] = sender2
        link.a.send(sender2.bindingRequest(), from: sender2.address)
        link.a.run()
        sender2.dtls.start(now: link.a.now)
        try routerA2.connectTransport(sendInfo.id, dtlsParameters: sender2.dtlsParameters, now: link.a.now)
        link.a.run()
        // Same client SSRC as room 1's speaker: pipe SSRCs are the sender's, so no clash.
        let producer2 = try routerA2.produce(transportId: sendInfo.id, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        let p2a = try routerA2.createPipeTransport()
        let p2b = try routerB2.createPipeTransport()
        try routerA2.connectPipeTransport(p2a.id, ip: p2b.ip, port: p2b.port, srtpParameters: p2b.srtpParameters)
        try routerB2.connectPipeTransport(p2b.id, ip: p2a.ip, port: p2a.port, srtpParameters: p2a.srtpParameters)
        let consumer2 = try routerA2.consumeOnPipe(transportId: p2a.id, producerId: producer2)
        #expect(consumer2.rtpParameters.encodings?.first?.ssrc != link.pipeConsumer.rtpParameters.encodings?.first?.ssrc)
        _ = try routerB2.produceOnPipe(
            transportId: p2b.id, producerId: producer2, kind: .audio, rtpParameters: consumer2.rtpParameters, paused: false)
        let recvInfo = try routerB2.createWebRtcTransport(now: link.b.now)
        let listener2 = try TestPeer(address: TransportAddress(ipv4: 127, 0, 0, 1, port: 41_500), info: recvInfo, dtlsRole: .client)
        link.b.peers[listener2.address] = listener2
        link.b.send(listener2.bindingRequest(), from: listener2.address)
        link.b.run()
        listener2.dtls.start(now: link.b.now)
        try routerB2.connectTransport(recvInfo.id, dtlsParameters: listener2.dtlsParameters, now: link.b.now)
        link.b.run()
        _ = try routerB2.consume(
            transportId: recvInfo.id, producerId: producer2, rtpCapabilities: Harness.deviceCapabilities, paused: false, now: link.b.now)

        link.send(1...4)  // room 1 speaks
        for seq in UInt16(1)...3 {  // room 2 speaks, other payloads
            let packet = sender2.opusPacket(
                sequenceNumber: seq, timestamp: UInt32(seq) &* 960, ssrc: Self.producerSSRC, payload: [UInt8](repeating: 0xEE, count: 40))
            link.a.send(packet, from: sender2.address)
            link.deliver()
        }
        #expect(link.received(0).count == 4)
        let room2 = listener2.rtp.compactMap(ReceivedRTP.init)
        #expect(room2.count == 3)
        #expect(room2.allSatisfy { $0.payload == [UInt8](repeating: 0xEE, count: 40) })
        #expect(link.b.worker.counters.totalDrops == 0)

        // B refuses a second stream with a (tuple, SSRC) it already has, and keeps the first.
        var clash = consumer2.rtpParameters
        clash.encodings = link.pipeConsumer.rtpParameters.encodings
        #expect(
            Self.errorKind { () throws(SFUError) in
                _ = try routerB2.produceOnPipe(transportId: p2b.id, producerId: "other", kind: .audio, rtpParameters: clash, paused: false)
            } == .ssrcInUse)
        // … and a second copy of one producer id.
        #expect(
            Self.errorKind { () throws(SFUError) in
                _ = try routerB2.produceOnPipe(
                    transportId: p2b.id, producerId: producer2, kind: .audio, rtpParameters: consumer2.rtpParameters, paused: false)
            } == .producerIdInUse)
        link.send(5...5)
        #expect(link.received(0).count == 5)
    }

    static func errorKind(_ body: () throws(SFUError) -> Void) -> SFUError.Kind? {
        do {
            try body()
            return nil
        } catch {
            return error.kind
        }
    }

    @Test func connectRefusesHostileParameters() throws {
        let harness = try Harness()
        let other = try Harness(port: 41_000)
        let remote = try other.router.createPipeTransport()
        let key = try #require(remote.srtpParameters)
        func refused(_ ip: String, _ port: UInt16, _ srtp: SrtpParameters?) throws -> Bool {
            let pipe = try harness.router.createPipeTransport()
            do {
                try harness.router.connectPipeTransport(pipe.id, ip: ip, port: port, srtpParameters: srtp)
                return false
            } catch {
                return error.kind == .badPipeParameters
            }
        }
        #expect(try refused("not an ip", 41_000, key))
        #expect(try refused(String(repeating: "1", count: 10_000), 41_000, key))
        #expect(try refused("127.0.0.1", 0, key))
        #expect(try refused("127.0.0.1", 41_000, nil))
        #expect(try refused("127.0.0.1", 41_000, SrtpParameters(cryptoSuite: "AES_CM_128_HMAC_SHA1_80", keyBase64: key.keyBase64)))
        #expect(try refused("127.0.0.1", 41_000, SrtpParameters(cryptoSuite: key.cryptoSuite, keyBase64: "AAAA")))
        #expect(try refused("127.0.0.1", 41_000, SrtpParameters(cryptoSuite: key.cryptoSuite, keyBase64: String(repeating: "A", count: 1_000_000))))
        #expect(try refused("127.0.0.1", 41_000, SrtpParameters(cryptoSuite: key.cryptoSuite, keyBase64: "!!not base64!!")))
        // A good connect, then a second one, and produce before connect.
        let pipe = try harness.router.createPipeTransport()
        try harness.router.connectPipeTransport(pipe.id, ip: "127.0.0.1", port: 41_000, srtpParameters: key)
        #expect(throws: SFUError.self) { try harness.router.connectPipeTransport(pipe.id, ip: "127.0.0.1", port: 41_000, srtpParameters: key) }
        let unconnected = try harness.router.createPipeTransport()
        #expect(throws: SFUError.self) {
            _ = try harness.router.produceOnPipe(
                transportId: unconnected.id, producerId: "x", kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        }
        // A pipe without SRTP refuses keys; an unknown pipe id is unknownTransport.
        let plain = try harness.router.createPipeTransport(enableSrtp: false)
        #expect(plain.srtpParameters == nil)
        #expect(throws: SFUError.self) { try harness.router.connectPipeTransport(plain.id, ip: "127.0.0.1", port: 41_000, srtpParameters: key) }
        #expect(throws: SFUError.self) { try harness.router.connectPipeTransport("nope", ip: "127.0.0.1", port: 41_000, srtpParameters: key) }
    }

    @Test func pipeWithoutSRTPCarriesPlainRTP() throws {
        let link = try Link(enableSrtp: false)
        link.send(1...3)
        #expect(link.received(0).count == 3)
        #expect(link.b.router.stats.pipeTransports.first?.srtpProfile == nil)
    }
}
