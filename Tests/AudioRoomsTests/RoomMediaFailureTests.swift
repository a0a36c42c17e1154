import Foundation
import Logging
import MediasoupWire
import SFU
import SFUServer
import Synchronization
import Testing

@testable import AudioRooms

/// The media error strings that only a failing SFU produces ("Server error", "Consume failed",
/// "Resume failed", "Restart ICE failed", and "Internal error" when a room cannot be opened),
/// driven through the Room with a router that fails on demand.
final class FailingRouter: RoomRouter, @unchecked Sendable {
    let id = "router"
    let rtpCapabilities = try! ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
    let mediaEvents: AsyncStream<MediaRouterEvent> = AsyncStream { $0.finish() }
    struct Boom: Error {}
    let failing = Mutex<Set<String>>([])
    let transports = Mutex(0)

    func fail(_ operation: String) { failing.withLock { _ = $0.insert(operation) } }
    func check(_ operation: String) throws { if failing.withLock({ $0.contains(operation) }) { throw Boom() } }

    func createTransport() async throws -> WebRtcTransportInfo {
        try check("createTransport")
        let n = transports.withLock {
            $0 += 1
            return $0
        }
        return WebRtcTransportInfo(
            id: "00000000-0000-4000-8000-00000000000\(n)", iceParameters: IceParameters(usernameFragment: "u", password: "p"),
            iceCandidates: [], dtlsParameters: DtlsParameters(role: .auto, fingerprints: []))
    }
    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws { try check("connect") }
    func restartIce(_ transportId: String) async throws -> IceParameters {
        try check("restartIce")
        return IceParameters(usernameFragment: "v", password: "q")
    }
    func closeTransport(_ transportId: String) async {}
    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        try check("produce")
        return "10000000-0000-4000-8000-000000000000"
    }
    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws {}
    func closeProducer(_ producerId: String) async {}
    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool { true }
    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerInfo {
        try check("consume")
        return ConsumerInfo(
            id: "20000000-0000-4000-8000-000000000000", producerId: producerId, kind: .audio,
            rtpParameters: RtpParameters(codecs: []))
    }
    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws { try check("resume") }
    func closeConsumer(_ consumerId: String) async {}
    func close() async {}
}

struct FailingPlane: MediaPlane {
    let router: FailingRouter
    let failRouterCreation: Bool
    func makeRouter() async throws -> any RoomRouter {
        if failRouterCreation { throw FailingRouter.Boom() }
        return router
    }
}

/// Records what the room sends.
final class RecordingOutbox: Outbox, @unchecked Sendable {
    let sent = Mutex<[(String, EmitTarget)]>([])
    func send(_ event: String, _ payload: any Encodable & Sendable, to target: EmitTarget) { sent.withLock { $0.append((event, target)) } }
    func join(socket: String, room: String) {}
    func leave(socket: String, room: String) {}
}

struct NullBackend: RoomBackend {
    func role(of user: AuthenticatedUser, in roomId: String) async throws -> RoomRole { .member }
    func isManager(_ user: AuthenticatedUser, in roomId: String) async -> Bool { false }
    func postRoomStatus(roomId: String, isLive: Bool, participantCount: Int, endedAt: Date?) async {}
    func settleGifts(_ batch: [GiftTransaction]) async throws -> [GiftFailure] { [] }
}

@Suite struct RoomMediaFailureTests {
    static func services() -> RoomServices {
        let backend = NullBackend()
        return RoomServices(
            outbox: RecordingOutbox(), backend: backend, directory: SessionDirectory(), statusPoster: StatusPoster(backend: backend),
            giftQueue: nil, rateLimiter: RateLimiter(), configuration: Configuration(), logger: Logger(label: "test"), now: { 0 })
    }

    static func error(_ reply: any Encodable & Sendable) -> String? { (reply as? ErrorAck)?.error }

    @Test func failuresOfTheSFUBecomeTheReferenceStrings() async throws {
        let router = FailingRouter()
        let registry = RoomRegistry(media: FailingPlane(router: router, failRouterCreation: false), services: Self.services())
        let room = try await registry.openRoom("42")
        let user = AuthenticatedUser(profile: UserProfile(id: 7), signedRoomRoles: nil, token: "t")
        _ = await room.join(socket: "s1", user: user)

        router.fail("createTransport")
        #expect(Self.error(await room.createTransport(socket: "s1")) == "Server error")
        router.failing.withLock { $0.removeAll() }
        let transport = try #require(await room.createTransport(socket: "s1") as? WebRtcTransportInfo)

        router.fail("restartIce")
        #expect(Self.error(await room.restartIce(socket: "s1", transportId: transport.id)) == "Restart ICE failed")

        let produce = AudioProducePayload(
            roomId: "42", transportId: transport.id, kind: .audio,
            rtpParameters: RtpParameters(codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2)]))
        let producer = try #require(await room.produce(socket: "s1", produce) as? IdAck)
        let caps = RtpCapabilities(codecs: ORTC.msabMediaCodecs)
        router.fail("consume")
        let consume = AudioConsumePayload(roomId: "42", transportId: transport.id, producerId: producer.id, rtpCapabilities: caps)
        #expect(Self.error(await room.consume(socket: "s1", consume)) == "Consume failed")
        router.failing.withLock { $0.removeAll() }
        let consumer = try #require(await room.consume(socket: "s1", consume) as? ConsumerInfo)
        router.fail("resume")
        #expect(Self.error(await room.resumeConsumer(socket: "s1", consumerId: consumer.id)) == "Resume failed")
        // Another socket never touches s1's consumer, transport or producer.
        _ = await room.join(socket: "s2", user: AuthenticatedUser(profile: UserProfile(id: 8), signedRoomRoles: nil, token: "u"))
        #expect(Self.error(await room.resumeConsumer(socket: "s2", consumerId: consumer.id)) == "Consumer not found")
        #expect(Self.error(await room.setSelfMuted(socket: "s2", producerId: producer.id, true)) == "Not your producer")
    }

    @Test func aRoomThatCannotBeOpenedIsAnInternalError() async {
        let registry = RoomRegistry(media: FailingPlane(router: FailingRouter(), failRouterCreation: true), services: Self.services())
        await #expect(throws: FailingRouter.Boom.self) { _ = try await registry.openRoom("42") }
        // EventHandlers answers room:join with {error: "Internal error"} when openRoom throws.
        #expect(await registry.count == 0)
    }
}
