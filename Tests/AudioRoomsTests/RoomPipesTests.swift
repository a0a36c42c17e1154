@testable import AudioRooms
import Foundation
import Logging
import MediasoupWire
import SFU
import SFUServer
import Synchronization
import Testing

/// A router that records the pipes a room asks it to make to other nodes (issue 13 item 3).
final class PipeRecordingRouter: RoomRouter, @unchecked Sendable {
    let id = "router"
    let rtpCapabilities = try! ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
    let mediaEvents: AsyncStream<MediaRouterEvent> = AsyncStream { $0.finish() }
    let paused = Mutex<[String: Bool]>([:])
    let exported = Mutex<[String]>([])
    let closedExports = Mutex<[String]>([])
    let counter = Mutex(0)

    func next() -> Int { counter.withLock { $0 += 1; return $0 } }

    func createTransport() async throws -> WebRtcTransportInfo {
        WebRtcTransportInfo(id: "00000000-0000-4000-8000-\(String(format: "%012d", next()))", iceParameters: IceParameters(usernameFragment: "u", password: "p"),
                             iceCandidates: [], dtlsParameters: DtlsParameters(role: .auto, fingerprints: []))
    }
    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws {}
    func restartIce(_ transportId: String) async throws -> IceParameters { IceParameters(usernameFragment: "v", password: "q") }
    func closeTransport(_ transportId: String) async {}
    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        let id = "10000000-0000-4000-8000-\(String(format: "%012d", next()))"
        self.paused.withLock { $0[id] = paused }
        return id
    }
    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws { self.paused.withLock { $0[producerId] = paused } }
    func closeProducer(_ producerId: String) async { paused.withLock { $0[producerId] = nil } }
    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool { true }
    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerInfo {
        ConsumerInfo(id: "20000000-0000-4000-8000-\(String(format: "%012d", next()))", producerId: producerId, kind: .audio, rtpParameters: RtpParameters(codecs: []))
    }
    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws {}
    func closeConsumer(_ consumerId: String) async {}
    func close() async {}

    func exportProducer(_ producerId: String, to remote: PipeEnd) async throws -> (pipeId: String, end: PipeEnd, kind: MediaKind,
                                                                                  rtpParameters: RtpParameters, paused: Bool) {
        guard let isPaused = paused.withLock({ $0[producerId] }) else { throw PipesUnsupported() }
        let pipeId = "pipe-\(next())"
        exported.withLock { $0.append(pipeId) }
        return (pipeId, PipeEnd(ip: "127.0.0.1", port: 4000, srtpParameters: nil), .audio, RtpParameters(codecs: []), isPaused)
    }
    func closeExport(pipeId: String) async { closedExports.withLock { $0.append(pipeId) } }
}

struct PipePlane: MediaPlane {
    let router: PipeRecordingRouter
    func makeRouter() async throws -> any RoomRouter { router }
}

/// The origin's side of cross-node pipes: who may ask for a pipe and close it, and what closes
/// one. (Both sides end to end, with real nodes, are in Tests/python/test_cluster_media.py.)
@Suite struct RoomPipesTests {
    static func room() async throws -> (Room, PipeRecordingRouter) {
        let backend = OwnerBackend()
        let services = RoomServices(outbox: RecordingOutbox(), backend: backend, directory: SessionDirectory(), statusPoster: StatusPoster(backend: backend),
                                    giftQueue: nil, rateLimiter: RateLimiter(), configuration: Configuration(), logger: Logger(label: "test"),
                                    node: "nodeA", now: { 0 })
        let router = PipeRecordingRouter()
        let room = try await RoomRegistry(media: PipePlane(router: router), services: services).openRoom("42")
        return (room, router)
    }

    static func request(_ producerId: String, from node: String = "nodeB", id: UInt64 = 1) -> PipeMessage {
        .request(PipeRequest(id: id, from: node, room: "42", producerId: producerId, end: PipeEnd(ip: "127.0.0.1", port: 5000, srtpParameters: nil)))
    }

    static func produce(_ room: Room, socket: String) async throws -> String {
        let transport = try #require(await room.createTransport(socket: socket) as? WebRtcTransportInfo)
        let payload = AudioProducePayload(roomId: "42", transportId: transport.id, kind: .audio,
                                          rtpParameters: RtpParameters(codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2)]))
        return try #require(await room.produce(socket: socket, payload) as? IdAck).id
    }

    @Test func onlyAProducerOfThisNodeIsPiped() async throws {
        let (room, router) = try await Self.room()
        let answer = await room.handlePipeMessage(Self.request("10000000-0000-4000-8000-000000000099", id: 5))
        #expect(answer == .failed(id: 5, from: "nodeA", error: "unknown producer"))
        #expect(router.exported.withLock { $0 }.isEmpty)
    }

    @Test func aPipeAnswersWithTheStageStateAndClosesOnlyForItsNode() async throws {
        let (room, router) = try await Self.room()
        _ = await room.join(socket: "s", user: StageRulesTests.user(2))
        let producer = try await Self.produce(room, socket: "s")
        guard case .reply(let reply)? = await room.handlePipeMessage(Self.request(producer, id: 7)) else {
            Issue.record("no reply")
            return
        }
        #expect(reply.id == 7 && reply.from == "nodeA" && reply.paused)  // unseated: paused by the stage rules
        #expect(await room.pipePeers() == ["nodeB"])

        // Another node cannot close nodeB's pipe; nodeB can.
        #expect(await room.handlePipeMessage(.unpipe(from: "mallory", room: "42", producerId: producer)) == nil)
        #expect(router.closedExports.withLock { $0 }.isEmpty)
        _ = await room.handlePipeMessage(.unpipe(from: "nodeB", room: "42", producerId: producer))
        #expect(router.closedExports.withLock { $0 } == ["pipe-3"])
        #expect(await room.pipePeers().isEmpty)

        // Asked again: a new pipe; asked once more by the same node: the previous one closes.
        _ = await room.handlePipeMessage(Self.request(producer, id: 8))
        _ = await room.handlePipeMessage(Self.request(producer, id: 9))
        #expect(router.exported.withLock { $0 } == ["pipe-3", "pipe-4", "pipe-5"])
        #expect(router.closedExports.withLock { $0 } == ["pipe-3", "pipe-4"])

        // Notices about producers this node does not import are ignored.
        #expect(await room.handlePipeMessage(.producerClosed(from: "nodeB", room: "42", producerId: producer)) == nil)
        #expect(await room.handlePipeMessage(.producerPaused(from: "nodeB", room: "42", producerId: producer, paused: false)) == nil)
        #expect(router.paused.withLock { $0[producer] } == true)

        // The speaker leaves: the pipe closes with the producer.
        await room.leave(socket: "s", retainSeat: false)
        #expect(router.closedExports.withLock { $0 } == ["pipe-3", "pipe-4", "pipe-5"])
        #expect(await room.pipePeers().isEmpty)
    }

    @Test func aDeadNodesPipesClose() async throws {
        let (room, router) = try await Self.room()
        _ = await room.join(socket: "s", user: StageRulesTests.user(2))
        let producer = try await Self.produce(room, socket: "s")
        _ = await room.handlePipeMessage(Self.request(producer, from: "nodeB", id: 1))
        _ = await room.handlePipeMessage(Self.request(producer, from: "nodeC", id: 2))
        #expect(await room.pipePeers() == ["nodeB", "nodeC"])
        await room.nodesGone(["nodeC"])
        #expect(await room.pipePeers() == ["nodeB"])
        #expect(router.closedExports.withLock { $0 } == ["pipe-4"])
    }
}
