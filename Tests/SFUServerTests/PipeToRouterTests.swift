import DTLS
import MediasoupWire
import NIOCore
import NIOPosix
import SFU
import SFUTestSupport
import Testing

@testable import SFUServer

/// `MediaRouter.pipeToRouter` over real UDP between two workers of one server: the pipe pair,
/// the SRTP-protected stream, and pause/resume/close of the origin reaching the copy.
@Suite(.timeLimit(.minutes(1))) struct PipeToRouterTests {
    @Test func aProducerPipedToAnotherWorkerIsHeardThereAndFollowsItsOrigin() async throws {
        let port = Int.random(in: 41_000...48_000)
        let server = MediaServer(configuration: .init(listenIP: "127.0.0.1", minPort: port, numWorkers: 2))
        let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            try await server.waitUntilReady()
            let origin = try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs, workerIndex: 0)
            let copyRouter = try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs, workerIndex: 1)
            #expect(origin.workerIndex == 0 && copyRouter.workerIndex == 1)

            let sendInfo = try await origin.createWebRtcTransport()
            let receiveInfo = try await copyRouter.createWebRtcTransport()
            let sender = try await UDPPeer.make(group: clients, info: sendInfo, dtlsRole: .server)
            let receiver = try await UDPPeer.make(group: clients, info: receiveInfo, dtlsRole: .client)
            try await sender.start()
            try await origin.connectTransport(sendInfo.id, dtlsParameters: sender.peer.dtlsParameters)
            try await copyRouter.connectTransport(receiveInfo.id, dtlsParameters: receiver.peer.dtlsParameters)
            try await receiver.start()
            try await sender.waitFor("sender DTLS") { $0.isConnected }
            try await receiver.waitFor("receiver DTLS") { $0.isConnected }
            let producerId = try await origin.produce(
                transportId: sendInfo.id, kind: .audio, rtpParameters: MediaServerTests.produceParameters, paused: false)

            // Twice, concurrently: one pipe pair, one copy.
            async let first: Void = origin.pipeToRouter(producerId: producerId, router: copyRouter)
            async let second: Void = origin.pipeToRouter(producerId: producerId, router: copyRouter)
            _ = try await (first, second)
            let consumer = try await copyRouter.consume(
                transportId: receiveInfo.id, producerId: producerId, rtpCapabilities: MediaServerTests.deviceCapabilities, paused: false)

            func send(_ range: ClosedRange<UInt16>) async throws {
                for seq in range {
                    try await sender.send { $0.opusPacket(sequenceNumber: seq, timestamp: UInt32(seq) &* 960, ssrc: MediaServerTests.producerSSRC) }
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            try await send(1...30)
            try await receiver.waitFor("30 piped packets") { $0.rtp.count >= 30 }
            let copyStats = await copyRouter.stats()
            #expect(copyStats.pipeTransports.count == 1)
            #expect(copyStats.pipeTransports.first?.srtpProfile == "AEAD_AES_256_GCM")
            #expect(copyStats.pipeTransports.first?.producerIds == [producerId])
            #expect(await origin.stats().pipeTransports.first?.consumerIds.count == 1)

            // Pause and resume of the origin reach the copy's consumers.
            try await origin.pauseProducer(producerId)
            #expect(await copyRouter.isProducerPaused(producerId) == true)
            #expect(await copyRouter.stats().consumers.first?.producerPaused == true)
            try await origin.resumeProducer(producerId)
            #expect(await copyRouter.isProducerPaused(producerId) == false)
            try await send(31...40)
            try await receiver.waitFor("40 piped packets") { $0.rtp.count >= 40 }

            // Closing the origin closes the copy, whose consumer reports its closure.
            await origin.closeProducer(producerId)
            #expect(await copyRouter.isProducerPaused(producerId) == nil)
            var events = copyRouter.events.makeAsyncIterator()
            var closedConsumer: String?
            while closedConsumer == nil, let event = await events.next() {
                if case .consumerClosed(let id, _) = event { closedConsumer = id }
            }
            #expect(closedConsumer == consumer.id)

            // Closing a router closes the other end of its pipe pair.
            await origin.close()
            #expect(await copyRouter.stats().pipeTransports.isEmpty)
            let counters = await server.counters()
            #expect(counters[.pipeSRTPUnprotectFailed] == 0 && counters[.pipeUnknownSSRC] == 0)
            await sender.close()
            await receiver.close()
            await copyRouter.close()
            #expect(server.routerCount == 0)
            group.cancelAll()
        }
        try? await clients.shutdownGracefully()
    }

    @Test func pipeAddressIsWhereOtherWorkersSeeUsFrom() {
        #expect(MediaServer.Configuration(listenIP: "0.0.0.0").pipeIP == "127.0.0.1")
        #expect(MediaServer.Configuration(listenIP: "::").pipeIP == "::1")
        #expect(MediaServer.Configuration(listenIP: "10.1.2.3", announcedIP: "203.0.113.7").pipeIP == "10.1.2.3")
    }
}
