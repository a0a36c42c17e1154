import DTLS
import Foundation
import MediasoupWire
import NIOCore
import NIOPosix
import RTP
import SFU
import SFUTestSupport
import STUN
import ServiceLifecycle
import Testing

@testable import SFUServer

/// The media server over real UDP on 127.0.0.1: test clients made of our own cores on their own
/// sockets, two transports demultiplexed on one worker port, garbage that must only be counted.
@Suite(.timeLimit(.minutes(1))) struct MediaServerTests {
    static let producerSSRC: UInt32 = 2_659_474_323

    static var produceParameters: RtpParameters { fixture(RtpParameters.self, "produce_event", "rtpParameters") }
    static var deviceCapabilities: RtpCapabilities { fixture(RtpCapabilities.self, "device_recvRtpCapabilities") }

    static func fixture<T: Decodable>(_ type: T.Type, _ path: String...) -> T {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MediasoupWireTests/Fixtures/produce-tone.json")
        var value: Any = try! JSONSerialization.jsonObject(with: Data(contentsOf: url))
        for key in path { value = (value as! [String: Any])[key]! }
        return try! JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: value))
    }

    /// Runs a one-worker server on a free-ish port for the duration of `body`.
    static func withServer(_ body: (MediaServer, any EventLoopGroup) async throws -> Void) async throws {
        let port = Int.random(in: 41_000...48_000)
        let server = MediaServer(configuration: .init(listenIP: "127.0.0.1", minPort: port, numWorkers: 1))
        let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var failure: (any Error)?
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                try await server.waitUntilReady()
                try await body(server, clients)
            } catch {
                failure = error
            }
            group.cancelAll()
        }
        try? await clients.shutdownGracefully()
        if let failure { throw failure }
    }

    /// A sender (producing) and a receiver (consuming, resumed), both connected.
    struct Call {
        let router: MediaRouter
        let sender: UDPPeer
        let receiver: UDPPeer
        let producerId: String
        let consumer: ConsumerInfo

        static func make(server: MediaServer, group: any EventLoopGroup) async throws -> Call {
            let router = try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs)
            let sendInfo = try await router.createWebRtcTransport()
            let receiveInfo = try await router.createWebRtcTransport()
            #expect(sendInfo.iceCandidates.first?.port == UInt16(server.ports[0]))
            #expect(receiveInfo.iceCandidates.first?.port == UInt16(server.ports[0]))  // one port for both
            let sender = try await UDPPeer.make(group: group, info: sendInfo, dtlsRole: .server)
            let receiver = try await UDPPeer.make(group: group, info: receiveInfo, dtlsRole: .client)
            try await sender.start()
            try await router.connectTransport(sendInfo.id, dtlsParameters: sender.peer.dtlsParameters)
            try await router.connectTransport(receiveInfo.id, dtlsParameters: receiver.peer.dtlsParameters)
            try await receiver.start()
            try await sender.waitFor("sender DTLS") { $0.isConnected }
            try await receiver.waitFor("receiver DTLS") { $0.isConnected }
            let producerId = try await router.produce(transportId: sendInfo.id, kind: .audio, rtpParameters: produceParameters, paused: false)
            let consumer = try await router.consume(
                transportId: receiveInfo.id, producerId: producerId, rtpCapabilities: deviceCapabilities, paused: true)
            try await router.resumeConsumer(consumer.id)
            return Call(router: router, sender: sender, receiver: receiver, producerId: producerId, consumer: consumer)
        }

        func sendAudio(_ range: ClosedRange<UInt16>) async throws {
            for seq in range {
                try await sender.send { $0.opusPacket(sequenceNumber: seq, timestamp: UInt32(seq) &* 960, ssrc: producerSSRC) }
                try await Task.sleep(for: .milliseconds(2))
            }
        }

        func close() async {
            await sender.close()
            await receiver.close()
            await router.close()
        }
    }

    @Test func twoTransportsOnOnePortForwardAudio() async throws {
        try await Self.withServer { server, group in
            let call = try await Call.make(server: server, group: group)
            try await call.sendAudio(1...50)
            try await call.receiver.waitFor("50 packets") { $0.rtp.count >= 50 }
            let consumerSSRC = try #require(call.consumer.rtpParameters.encodings?.first?.ssrc)
            let received = try await call.receiver.onLoop { peer in
                peer.rtp.map { bytes -> (UInt32, UInt16) in
                    (
                        UInt32(bytes[8]) << 24 | UInt32(bytes[9]) << 16 | UInt32(bytes[10]) << 8 | UInt32(bytes[11]),
                        UInt16(bytes[2]) << 8 | UInt16(bytes[3])
                    )
                }
            }
            #expect(received.allSatisfy { $0.0 == consumerSSRC })
            for index in 1..<received.count { #expect(received[index].1 == received[index - 1].1 &+ 1) }
            let stats = await call.router.stats()
            #expect(stats.producers.first?.packets == 50)
            #expect(stats.consumers.first?.packets == 50)
            #expect(stats.transports.count == 2)
            await call.close()
            #expect(server.routerCount == 0)
        }
    }

    @Test func garbageIsCountedAndDoesNotDisturbAFlowingStream() async throws {
        try await Self.withServer { server, group in
            let call = try await Call.make(server: server, group: group)
            let before = await server.counters()
            // A stranger on its own socket.
            let strangerInfo = try await call.router.createWebRtcTransport()
            let stranger = try await UDPPeer.make(group: group, info: strangerInfo, dtlsRole: .client)
            var generator = SystemRandomNumberGenerator()
            for round in 0..<20 {
                try await call.sendAudio(UInt16(round * 5 + 1)...UInt16(round * 5 + 5))
                // Random bytes of random lengths (0-byte datagrams included).
                let random = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                try await stranger.send(ByteBuffer(bytes: random))
                // Truncated STUN: a valid request cut short.
                try await stranger.send { peer in
                    var request = peer.bindingRequest()
                    return request.readSlice(length: Int.random(in: 1..<request.readableBytes))!
                }
                // Bad MESSAGE-INTEGRITY (right username, wrong password) → 401 + counted.
                try await stranger.send { $0.bindingRequest(password: "wrong-password-wrong-password-xx") }
                // DTLS and RTP/RTCP garbage from a tuple that never passed ICE.
                try await stranger.send(ByteBuffer(bytes: [22, 254, 253] + [UInt8](repeating: 0xAB, count: 40)))
                try await stranger.send(ByteBuffer(bytes: [0x80, 96, 0, 1] + [UInt8](repeating: 0, count: 40)))
                try await stranger.send(ByteBuffer(bytes: [0x80, 200, 0, 1] + [UInt8](repeating: 0, count: 20)))
                // From the sender's own (valid) tuple: SRTP with a broken tag, DTLS garbage, short RTP.
                try await call.sender.send { peer in
                    var packet = peer.opusPacket(sequenceNumber: UInt16(round), timestamp: 1, ssrc: Self.producerSSRC &+ 1)
                    let last = packet.writerIndex - 1
                    packet.setInteger(packet.getInteger(at: last, as: UInt8.self)! ^ 0xFF, at: last)
                    return packet
                }
                try await call.sender.send(ByteBuffer(bytes: [23, 254, 253] + [UInt8](repeating: 0x11, count: 30)))
                try await call.sender.send(ByteBuffer(bytes: [0x80, 96, 0]))
            }
            try await call.receiver.waitFor("all 100 packets") { $0.rtp.count >= 100 }
            try await Task.sleep(for: .milliseconds(100))
            let after = await server.counters()
            func delta(_ reason: DropReason) -> UInt64 { after[reason] - before[reason] }
            #expect(delta(.stunRejected) == 20)
            #expect(delta(.unknownTuple) >= 60)  // DTLS, RTP and RTCP garbage from the stranger
            #expect(delta(.srtpUnprotectFailed) == 20)
            #expect(delta(.stunMalformed) >= 1)
            #expect(delta(.unclassifiable) >= 20)
            // The stranger's wrong password got a 401, the stream got every packet, in order.
            let strangerResponses = try await stranger.onLoop { $0.stunResponses.map { $0.type } }
            #expect(strangerResponses.allSatisfy { $0 == .bindingErrorResponse })
            let received = try await call.receiver.onLoop { $0.rtp.count }
            #expect(received == 100)
            #expect(try await call.receiver.onLoop { $0.srtpFailures } == 0)
            await stranger.close()
            await call.close()
        }
    }

    @Test func routersGoToTheLeastLoadedWorkerAndEventsFlow() async throws {
        let port = Int.random(in: 41_000...48_000)
        let server = MediaServer(configuration: .init(listenIP: "127.0.0.1", minPort: port, numWorkers: 2))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let first = try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs)
            let second = try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs)
            #expect(first.worker.index != second.worker.index)
            let a = try await first.createWebRtcTransport()
            let b = try await second.createWebRtcTransport()
            #expect(a.iceCandidates[0].port != b.iceCandidates[0].port)
            #expect(a.iceCandidates[0].address == "127.0.0.1")
            #expect(a.dtlsParameters.fingerprints.map(\.algorithm.rawValue) == ["sha-256"])
            #expect(server.routerCount == 2)
            await first.close()
            #expect(server.routerCount == 1)
            // The closed router's stream has finished.
            var iterator = first.events.makeAsyncIterator()
            #expect(await iterator.next() == nil)
            await #expect(throws: SFUError.self) { _ = try await first.createWebRtcTransport() }
            await second.close()
            group.cancelAll()
        }
    }

    @Test func announcedAddressDefaults() {
        #expect(MediaServer.Configuration(listenIP: "0.0.0.0").effectiveAnnouncedIP == "127.0.0.1")
        #expect(MediaServer.Configuration(listenIP: "10.1.2.3").effectiveAnnouncedIP == "10.1.2.3")
        #expect(MediaServer.Configuration(listenIP: "0.0.0.0", announcedIP: "203.0.113.7").effectiveAnnouncedIP == "203.0.113.7")
    }
}
