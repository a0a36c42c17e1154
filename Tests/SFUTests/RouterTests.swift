import DTLS
import MediasoupWire
import NIOCore
import RTP
import SFUTestSupport
import STUN
import Testing

@testable import SFU

/// The SFU objects end to end without sockets: test peers made of our own ICE/DTLS/SRTP cores
/// wired to a worker in memory, producing pymediasoup-shaped Opus RTP.
@Suite struct RouterTests {
    /// A producer (pymediasoup's parameters) and one consumer on a second transport, resumed.
    struct Room {
        let harness: Harness
        let sender: TestPeer
        let sendTransport: String
        let producerId: String
        let receiver: TestPeer
        let receiveTransport: String
        let consumer: ConsumerInfo
        static let producerSSRC: UInt32 = 2_659_474_323

        init(resume: Bool = true) throws {
            harness = try Harness()
            (sender, sendTransport) = try harness.connectedPeer(peerRole: .server)
            producerId = try harness.router.produce(
                transportId: sendTransport, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
            (receiver, receiveTransport) = try harness.connectedPeer(peerRole: .client)
            consumer = try harness.router.consume(
                transportId: receiveTransport, producerId: producerId, rtpCapabilities: Harness.deviceCapabilities, paused: true,
                now: harness.now)
            if resume { try harness.router.resumeConsumer(consumer.id) }
        }

        /// Sends packets `range` 20 ms apart (timestamps 960 apart), delivering each.
        func send(_ range: ClosedRange<UInt16>, level: UInt8 = 30, timestampBase: UInt32 = 1000) {
            for seq in range {
                harness.advance(.milliseconds(20))
                let packet = sender.opusPacket(
                    sequenceNumber: seq, timestamp: timestampBase &+ UInt32(seq) &* 960, ssrc: Self.producerSSRC, level: level)
                harness.send(packet, from: sender.address)
                harness.run()
            }
        }

        var received: [ReceivedRTP] { receiver.rtp.compactMap(ReceivedRTP.init) }
    }

    @Test func bothDTLSRolesConnectAndKeySRTP() throws {
        let harness = try Harness()
        let (sender, sendId) = try harness.connectedPeer(peerRole: .server)
        let (receiver, receiveId) = try harness.connectedPeer(peerRole: .client)
        #expect(sender.isConnected)
        #expect(receiver.isConnected)
        #expect(try harness.router.transport(sendId).state == .connected)
        #expect(try harness.router.transport(receiveId).state == .connected)
        // We offer AEAD_AES_256_GCM first and our peer core accepts it.
        #expect(try harness.router.transport(sendId).stats.srtpProfile == "AEAD_AES_256_GCM")
        #expect(harness.worker.counters.totalDrops == 0)
    }

    @Test func earlyDTLSBeforeConnectIsHeldAndHandshakeCompletes() throws {
        // pymediasoup fires transport:connect without waiting: the client's ClientHello (it is DTLS
        // client on a receive transport) can arrive before we know its fingerprint.
        let harness = try Harness()
        let info = try harness.router.createWebRtcTransport(now: harness.now)
        let peer = try TestPeer(address: TransportAddress(ipv4: 127, 0, 0, 1, port: 50_000), info: info, dtlsRole: .client)
        harness.peers[peer.address] = peer
        harness.send(peer.bindingRequest(), from: peer.address)
        harness.run()
        #expect(peer.stunResponses.count == 1)
        peer.dtls.start(now: harness.now)
        harness.run()  // ClientHello reaches the transport, which has no DTLS endpoint yet
        #expect(!peer.isConnected)
        try harness.router.connectTransport(info.id, dtlsParameters: peer.dtlsParameters, now: harness.now)
        harness.run()
        #expect(peer.isConnected)
        #expect(try harness.router.transport(info.id).state == .connected)
    }

    @Test func consumerGetsRouterPayloadTypeItsSSRCAndMappedExtensions() throws {
        let room = try Room()
        room.send(1...10, level: 42)
        let received = room.received
        try #require(received.count == 10)
        let routerOpusPT = UInt8(room.harness.router.rtpCapabilities.codecs!.first { $0.mimeType == "audio/opus" }!.preferredPayloadType!)
        let consumerSSRC = try #require(room.consumer.rtpParameters.encodings?.first?.ssrc)
        let levelID = try #require(room.consumer.rtpParameters.headerExtensions?.first { $0.uri.hasSuffix("ssrc-audio-level") }?.id)
        let midID = try #require(room.consumer.rtpParameters.headerExtensions?.first { $0.uri.hasSuffix("sdes:mid") }?.id)
        #expect(routerOpusPT != 96)  // the client's 96 is not the router's
        for (index, packet) in received.enumerated() {
            #expect(packet.payloadType == routerOpusPT)
            #expect(packet.ssrc == consumerSSRC)
            #expect(packet.ssrc != Room.producerSSRC)
            #expect(packet.extensions[UInt8(levelID)] == [0x80 | 42])  // V flag + level, at the consumer's id
            #expect(packet.extensions[UInt8(midID)] == Array((room.consumer.rtpParameters.mid ?? "").utf8))
            #expect(packet.payload == TestPeer.payload(UInt16(index + 1)))
            if index > 0 {
                #expect(packet.sequenceNumber == received[index - 1].sequenceNumber &+ 1)
                #expect(packet.timestamp == received[index - 1].timestamp &+ 960)
            }
        }
        #expect(room.receiver.srtpFailures == 0)
        #expect(room.harness.worker.counters.rtpOut == 10)
    }

    @Test func pausedConsumerGetsNothingAndResumeContinuesTheSequence() throws {
        let room = try Room(resume: false)
        room.send(1...5)
        #expect(room.received.isEmpty)
        try room.harness.router.resumeConsumer(room.consumer.id)
        room.send(6...8)
        try room.harness.router.pauseConsumer(room.consumer.id)
        room.send(9...20)
        try room.harness.router.resumeConsumer(room.consumer.id)
        room.send(21...23)
        let received = room.received
        try #require(received.count == 6)
        // Gap-free numbering across the consumer's own pause.
        for index in 1..<received.count {
            #expect(received[index].sequenceNumber == received[index - 1].sequenceNumber &+ 1)
        }
        #expect(received[3].payload == TestPeer.payload(21))
    }

    @Test func producerPauseResumeKeepsSequenceAndTimestampContinuous() throws {
        let room = try Room()
        room.send(1...5)
        try room.harness.router.pauseProducer(room.producerId)
        room.send(6...10)  // received by the transport, not forwarded
        #expect(room.received.count == 5)
        #expect(room.harness.worker.counters[.producerPaused] == 5)
        try room.harness.router.resumeProducer(room.producerId)
        // The client restarts its timeline far away (a new encoder after unmute).
        room.send(500...502, timestampBase: 0x7000_0000)
        let received = room.received
        try #require(received.count == 8)
        #expect(received[5].sequenceNumber == received[4].sequenceNumber &+ 1)
        // Timestamp advances by roughly the wall time of the pause (6 × 20 ms = 5,760 ticks), not the jump.
        let advance = received[5].timestamp &- received[4].timestamp
        #expect(advance > 0 && advance < 48_000)
        #expect(received[6].timestamp &- received[5].timestamp == 960)
    }

    @Test func secondConsumerOnOneTransportGetsItsOwnSSRCAndMid() throws {
        let room = try Room()
        // A second speaker on the sender's transport (its own SSRC), consumed on the same receive transport.
        var parameters = Harness.produceParameters
        parameters.encodings?[0].ssrc = 1_234_567
        let secondProducer = try room.harness.router.produce(
            transportId: room.sendTransport, kind: .audio, rtpParameters: parameters, paused: false)
        let second = try room.harness.router.consume(
            transportId: room.receiveTransport, producerId: secondProducer, rtpCapabilities: Harness.deviceCapabilities, paused: false,
            now: room.harness.now)
        #expect(second.rtpParameters.mid == "1")
        #expect(second.rtpParameters.encodings?.first?.ssrc != room.consumer.rtpParameters.encodings?.first?.ssrc)
        room.send(1...3)
        for seq in UInt16(1)...3 {
            room.harness.send(room.sender.opusPacket(sequenceNumber: seq, timestamp: UInt32(seq) * 960, ssrc: 1_234_567), from: room.sender.address)
            room.harness.run()
        }
        let received = room.received
        #expect(received.count == 6)
        let midID = UInt8(room.consumer.rtpParameters.headerExtensions!.first { $0.uri.hasSuffix("sdes:mid") }!.id)
        let secondSSRC = second.rtpParameters.encodings!.first!.ssrc!
        #expect(received.filter { $0.ssrc == secondSSRC }.allSatisfy { $0.extensions[midID] == Array("1".utf8) })
    }

    @Test func nackIsAnsweredFromTheRetransmissionBuffer() throws {
        let room = try Room()
        // Lose the 4th and 8th RTP packets on the way to the receiver (it would drop a second copy
        // of a packet it already has as an SRTP replay, RFC 3711 §3.3.2).
        var rtpCount = 0
        let receiverAddress = room.receiver.address
        room.harness.lose = { destination, datagram in
            guard destination == receiverAddress, datagram.getInteger(at: datagram.readerIndex + 1, as: UInt8.self)! < 192 else { return false }
            rtpCount += 1
            return rtpCount == 4 || rtpCount == 8
        }
        room.send(1...10)
        room.harness.lose = { _, _ in false }
        let original = room.received
        try #require(original.count == 8)
        let consumerSSRC = original[0].ssrc
        let wanted = [original[2].sequenceNumber &+ 1, original[5].sequenceNumber &+ 1]
        let nack = RTCPGenericNACK(senderSSRC: 1, mediaSSRC: consumerSSRC, lostSequenceNumbers: wanted)
        room.harness.send(room.receiver.rtcpPacket([.genericNACK(nack)]), from: room.receiver.address)
        room.harness.run()
        let all = room.received
        try #require(all.count == 10)
        #expect(all[8].sequenceNumber == wanted[0])
        #expect(all[8].payload == TestPeer.payload(4))
        #expect(all[8].timestamp == original[2].timestamp &+ 960)
        #expect(all[9].sequenceNumber == wanted[1])
        #expect(all[9].payload == TestPeer.payload(8))
        #expect(room.receiver.srtpFailures == 0)
        #expect(room.harness.worker.counters.retransmissions == 2)
        // A NACK for something never sent is a counted miss, not a crash.
        let bogus = RTCPGenericNACK(senderSSRC: 1, mediaSSRC: consumerSSRC, lostSequenceNumbers: [original[0].sequenceNumber &- 1000])
        room.harness.send(room.receiver.rtcpPacket([.genericNACK(bogus)]), from: room.receiver.address)
        room.harness.run()
        #expect(room.harness.worker.counters[.retransmissionMiss] == 1)
    }

    @Test func receiverReportsGoToTheProducerAndSenderReportsToTheConsumer() throws {
        let room = try Room()
        room.send(1...20)
        // Lose nothing, then run the clock past both report intervals.
        for _ in 0..<300 {
            room.harness.advance(.milliseconds(20))
            room.harness.worker.tick(now: room.harness.now)
            room.harness.run()
        }
        let rrBlocks = room.sender.rtcp.compactMap { packet -> RTCPReportBlock? in
            guard case .receiverReport(let rr) = packet else { return nil }
            return rr.reportBlocks.first
        }
        let block = try #require(rrBlocks.first)
        #expect(block.ssrc == Room.producerSSRC)
        #expect(block.cumulativeLost == 0)
        #expect(block.extendedHighestSequenceNumber == 20)
        let srs = room.receiver.rtcp.compactMap { packet -> RTCPSenderReport? in
            guard case .senderReport(let sr) = packet else { return nil }
            return sr
        }
        let sr = try #require(srs.first)
        #expect(sr.ssrc == room.consumer.rtpParameters.encodings?.first?.ssrc)
        #expect(sr.packetCount == 20)
        #expect(
            room.receiver.rtcp.contains {
                if case .sourceDescription(let sdes) = $0 { return sdes.chunks.first?.cname == "c61cba89-6696-466e-8a8c-b67d56c8f349" }
                return false
            })
        // The receiver's RR echoing that SR gives the consumer an RTT.
        let echo = RTCPReportBlock(
            ssrc: sr.ssrc, fractionLost: 0, cumulativeLost: 0, extendedHighestSequenceNumber: 20, jitter: 3,
            lastSenderReport: sr.compactNTPTimestamp, delaySinceLastSenderReport: 0)
        room.harness.advance(.milliseconds(50))
        room.harness.send(room.receiver.rtcpPacket([.receiverReport(RTCPReceiverReport(ssrc: 7, reportBlocks: [echo]))]), from: room.receiver.address)
        let stats = room.harness.router.stats.consumers.first { $0.id == room.consumer.id }
        let rtt = try #require(stats?.roundTripTimeMs)
        #expect(rtt > 0 && rtt < 6_000)
    }

    @Test func closeCascades() throws {
        let room = try Room()
        let otherReceiveTransport = try room.harness.router.createWebRtcTransport(now: room.harness.now).id
        let second = try room.harness.router.consume(
            transportId: otherReceiveTransport, producerId: room.producerId, rtpCapabilities: Harness.deviceCapabilities, paused: false,
            now: room.harness.now)
        // Producer closed by the room: its consumers close and say so.
        room.harness.router.closeProducer(room.producerId)
        var closedConsumers: [String] = []
        while let (_, event) = room.harness.worker.pollEvent() {
            if case .consumerClosed(let id, _) = event { closedConsumers.append(id) }
        }
        #expect(Set(closedConsumers) == [room.consumer.id, second.id])
        #expect(room.harness.router.consumers.isEmpty)
        #expect(throws: SFUError.self) { try room.harness.router.resumeConsumer(second.id) }

        // Transport closed: its producers (and their consumers elsewhere) go with it.
        let producerId = try room.harness.router.produce(
            transportId: room.sendTransport, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        let third = try room.harness.router.consume(
            transportId: room.receiveTransport, producerId: producerId, rtpCapabilities: Harness.deviceCapabilities, paused: false,
            now: room.harness.now)
        room.harness.router.closeTransport(room.sendTransport)
        var events: [String] = []
        while let (_, event) = room.harness.worker.pollEvent() {
            switch event {
            case .producerClosed(let id, _): events.append("p:\(id)")
            case .consumerClosed(let id, _): events.append("c:\(id)")
            default: break
            }
        }
        #expect(events.contains("p:\(producerId)"))
        #expect(events.contains("c:\(third.id)"))
        #expect(room.harness.router.producers.isEmpty)
        // Packets from the closed transport's tuple are now unknown.
        room.send(1...2)
        #expect(room.harness.worker.counters[.unknownTuple] == 2)

        // Router closed: everything goes, no events.
        room.harness.router.close()
        #expect(room.harness.router.transports.isEmpty)
        #expect(room.harness.worker.routers.isEmpty)
        #expect(room.harness.worker.pollEvent() == nil)
    }

    @Test func dtlsCloseNotifyClosesTheTransportAndReportsIt() throws {
        let room = try Room()
        room.sender.dtls.close()
        room.sender.pump(now: room.harness.now)
        room.harness.run()
        var closed: [String] = []
        var producers: [String] = []
        while let (_, event) = room.harness.worker.pollEvent() {
            if case .transportClosed(let id, let reason) = event {
                closed.append(id)
                #expect(reason == .dtlsClosed)
            }
            if case .producerClosed(let id, let reason) = event {
                producers.append(id)
                #expect(reason == .dtlsClosed)
            }
        }
        #expect(closed == [room.sendTransport])
        #expect(producers == [room.producerId])
    }

    @Test func iceConsentTimeoutClosesTheTransportAfterTheGrace() throws {
        let room = try Room()
        let settings = room.harness.worker.settings
        room.harness.advance(settings.consentTimeout + .seconds(1))
        room.harness.worker.tick(now: room.harness.now)
        #expect(try room.harness.router.transport(room.sendTransport).iceDisconnected)
        #expect(room.harness.worker.pollEvent() == nil)
        // The receiver keeps checking: it survives.
        room.harness.send(room.receiver.bindingRequest(), from: room.receiver.address)
        room.harness.advance(settings.disconnectedGrace)
        room.harness.worker.tick(now: room.harness.now)
        var closed: [String] = []
        while let (_, event) = room.harness.worker.pollEvent() {
            if case .transportClosed(let id, let reason) = event {
                closed.append(id)
                #expect(reason == .iceConsentTimeout)
            }
        }
        #expect(closed == [room.sendTransport])
        #expect(try room.harness.router.transport(room.receiveTransport).state == .connected)
    }

    @Test func observersReportLevelsAndTheDominantSpeaker() throws {
        let room = try Room()
        var levels: [[(producerId: String, volume: Int)]] = []
        var dominant: [String] = []
        var silence = 0
        func drain() {
            while let (_, event) = room.harness.worker.pollEvent() {
                switch event {
                case .audioLevels(let entries): levels.append(entries)
                case .dominantSpeaker(let id, _): dominant.append(id)
                case .silence: silence += 1
                default: break
                }
            }
        }
        // 1.2 s of speech at -20 dBov, ticking as the worker does.
        for seq in UInt16(1)...60 {
            room.send(seq...seq, level: 20)
            room.harness.worker.tick(now: room.harness.now)
            drain()
        }
        #expect(dominant == [room.producerId])
        let last = try #require(levels.last)
        #expect(last.count == 1)
        #expect(last.first?.producerId == room.producerId)
        #expect(last.first?.volume == -20)
        // Quiet (-90 dBov, below the -55 threshold): one silence event.
        for seq in UInt16(61)...120 {
            room.send(seq...seq, level: 90)
            room.harness.worker.tick(now: room.harness.now)
            drain()
        }
        #expect(silence == 1)
    }

    @Test func produceRejectsWhatTheRouterCannotTake() throws {
        let harness = try Harness()
        let (_, transportId) = try harness.connectedPeer(peerRole: .server)
        var parameters = Harness.produceParameters
        parameters.codecs[0].mimeType = "audio/PCMU"
        parameters.codecs[0].clockRate = 8000
        #expect { _ = try harness.router.produce(transportId: transportId, kind: .audio, rtpParameters: parameters, paused: false) } throws: {
            ($0 as? SFUError)?.kind == .unsupportedRtpParameters
        }
        #expect {
            _ = try harness.router.produce(transportId: "nope", kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        } throws: { ($0 as? SFUError)?.kind == .unknownTransport }
        #expect {
            _ = try harness.router.produce(transportId: transportId, kind: .video, rtpParameters: Harness.produceParameters, paused: false)
        } throws: { ($0 as? SFUError)?.kind == .unsupportedRtpParameters }
        _ = try harness.router.produce(transportId: transportId, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        #expect {
            _ = try harness.router.produce(transportId: transportId, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        } throws: { ($0 as? SFUError)?.kind == .ssrcInUse }
        var video = Harness.deviceCapabilities
        video.codecs = video.codecs?.filter { $0.kind == .video }
        #expect(!harness.router.canConsume(producerId: harness.router.producers.keys.first!, rtpCapabilities: video))
    }

    @Test func connectTwiceAndBadFingerprintsAreErrors() throws {
        let harness = try Harness()
        let (peer, transportId) = try harness.connectedPeer(peerRole: .server)
        #expect { try harness.router.connectTransport(transportId, dtlsParameters: peer.dtlsParameters, now: harness.now) } throws: {
            ($0 as? SFUError)?.kind == .alreadyConnected
        }
        let info = try harness.router.createWebRtcTransport(now: harness.now)
        let garbage = DtlsParameters(role: .client, fingerprints: [DtlsFingerprint(algorithm: "md5", value: "zz")])
        #expect { try harness.router.connectTransport(info.id, dtlsParameters: garbage, now: harness.now) } throws: {
            ($0 as? SFUError)?.kind == .badDtlsParameters
        }
    }

    @Test func wrongFingerprintFailsTheHandshakeAndClosesTheTransport() throws {
        let harness = try Harness()
        let info = try harness.router.createWebRtcTransport(now: harness.now)
        let peer = try TestPeer(address: TransportAddress(ipv4: 127, 0, 0, 1, port: 50_001), info: info, dtlsRole: .client)
        harness.peers[peer.address] = peer
        harness.send(peer.bindingRequest(), from: peer.address)
        harness.run()
        peer.dtls.start(now: harness.now)
        let other = try DTLSCertificate(commonName: "someone-else")
        let wrong = DtlsParameters(role: .client, fingerprints: [DtlsFingerprint(algorithm: "sha-256", value: other.fingerprint(.sha256).value)])
        try harness.router.connectTransport(info.id, dtlsParameters: wrong, now: harness.now)
        harness.run()
        var reasons: [CloseReason] = []
        while let (_, event) = harness.worker.pollEvent() {
            if case .transportClosed(_, let reason) = event { reasons.append(reason) }
        }
        #expect(reasons.count == 1)
        guard case .dtlsFailed = reasons.first else {
            Issue.record("expected a DTLS failure, got \(reasons)")
            return
        }
        #expect(harness.router.transports[info.id] == nil)
    }

    @Test func restartIceChangesCredentialsAndOldOnesStopWorking() throws {
        let harness = try Harness()
        let (peer, transportId) = try harness.connectedPeer(peerRole: .server)
        let fresh = try harness.router.restartIce(transportId)
        #expect(fresh.usernameFragment != peer.info.iceParameters.usernameFragment)
        let before = peer.stunResponses.count
        // Old credentials from a new address: neither ufrag nor tuple match → unknown username.
        harness.send(peer.bindingRequest(), from: TransportAddress(ipv4: 127, 0, 0, 1, port: 60_000))
        #expect(harness.worker.counters[.stunUnknownUsername] == 1)
        // New credentials work.
        harness.send(peer.bindingRequest(password: fresh.password, username: "\(fresh.usernameFragment):peer"), from: peer.address)
        harness.run()
        #expect(peer.stunResponses.count == before + 1)
        #expect(peer.stunResponses.last?.type == .bindingSuccessResponse)
    }
}
