import Foundation
import Logging
import MediasoupWire
import SFU
import Synchronization
import Testing

@testable import AudioRooms

/// A router that remembers each producer's paused state, as the SFU would apply it, and records
/// the pipes a room asks it to make to other nodes (issue 13 item 3). Shared by the tests that
/// drive a Room end to end without an SFU (StageRulesTests, RoomPipesTests).
final class RecordingRouter: RoomRouter, @unchecked Sendable {
    let id = "router"
    let rtpCapabilities = try! ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
    let mediaEvents: AsyncStream<MediaRouterEvent> = AsyncStream { $0.finish() }
    let paused = Mutex<[String: Bool]>([:])
    let exported = Mutex<[String]>([])
    let closedExports = Mutex<[String]>([])
    let counter = Mutex(0)

    func next() -> Int {
        counter.withLock {
            $0 += 1
            return $0
        }
    }
    func isPaused(_ producer: String) -> Bool? { paused.withLock { $0[producer] } }

    func createTransport() async throws -> WebRtcTransportInfo {
        WebRtcTransportInfo(
            id: "00000000-0000-4000-8000-\(String(format: "%012d", next()))", iceParameters: IceParameters(usernameFragment: "u", password: "p"),
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
        ConsumerInfo(
            id: "20000000-0000-4000-8000-\(String(format: "%012d", next()))", producerId: producerId, kind: .audio,
            rtpParameters: RtpParameters(codecs: []))
    }
    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws {}
    func closeConsumer(_ consumerId: String) async {}
    func close() async {}

    func exportProducer(_ producerId: String, to remote: PipeEnd) async throws -> (
        pipeId: String, end: PipeEnd, kind: MediaKind,
        rtpParameters: RtpParameters, paused: Bool
    ) {
        guard let isPaused = paused.withLock({ $0[producerId] }) else { throw PipesUnsupported() }
        let pipeId = "pipe-\(next())"
        exported.withLock { $0.append(pipeId) }
        return (pipeId, PipeEnd(ip: "127.0.0.1", port: 4000, srtpParameters: nil), .audio, RtpParameters(codecs: []), isPaused)
    }
    func closeExport(pipeId: String) async { closedExports.withLock { $0.append(pipeId) } }
}

/// A media plane whose every room gets the one router the test holds.
struct OneRouterPlane: MediaPlane {
    let router: any RoomRouter
    func makeRouter() async throws -> any RoomRouter { router }
}

/// Everyone is the owner (the moderator actions are what is under test, not roles).
struct OwnerBackend: RoomBackend {
    func role(of user: AuthenticatedUser, in roomId: String) async throws -> RoomRole { .owner }
    func isManager(_ user: AuthenticatedUser, in roomId: String) async -> Bool { true }
    func postRoomStatus(roomId: String, isLive: Bool, participantCount: Int, endedAt: Date?) async {}
    func settleGifts(_ batch: [GiftTransaction]) async throws -> [GiftFailure] { [] }
}

enum RoomFixture {
    /// Room "42" on a ``RecordingRouter``, everyone its owner, on node `node`.
    static func room(configuration: Configuration = Configuration(), node: String = "") async throws -> (Room, RecordingRouter) {
        let backend = OwnerBackend()
        let services = RoomServices(
            outbox: RecordingOutbox(), backend: backend, directory: SessionDirectory(), statusPoster: StatusPoster(backend: backend),
            giftQueue: nil, rateLimiter: RateLimiter(), configuration: configuration, logger: Logger(label: "test"),
            node: node, now: { 0 })
        let router = RecordingRouter()
        let room = try await RoomRegistry(media: OneRouterPlane(router: router), services: services).openRoom("42")
        return (room, router)
    }

    static func user(_ id: Int) -> AuthenticatedUser { AuthenticatedUser(profile: UserProfile(id: id), signedRoomRoles: nil, token: "t\(id)") }

    /// `socket` (already joined) creates a transport and produces Opus on it; returns the producer id.
    static func produce(_ room: Room, socket: String) async throws -> String {
        let transport = try #require(await room.createTransport(socket: socket) as? WebRtcTransportInfo)
        let payload = AudioProducePayload(
            roomId: "42", transportId: transport.id, kind: .audio,
            rtpParameters: RtpParameters(codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2)]))
        return try #require(await room.produce(socket: socket, payload) as? IdAck).id
    }
}
