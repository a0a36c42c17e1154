import MediasoupWire
import SFU
import SFUServer
import Synchronization
import Testing

@testable import AudioRooms

/// The SFU's consume refusals reach the client as their documented strings (issue 11 point 1):
/// the per-transport limit as "Consumer limit reached", a second consume of one producer on one
/// transport as "Cannot consume".
final class RefusingRouter: RoomRouter, @unchecked Sendable {
    let base = FailingRouter()
    let refusal = Mutex<RoomMediaError?>(nil)
    var id: String { base.id }
    var rtpCapabilities: RtpCapabilities { base.rtpCapabilities }
    var mediaEvents: AsyncStream<MediaRouterEvent> { base.mediaEvents }
    func createTransport() async throws -> WebRtcTransportInfo { try await base.createTransport() }
    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws {}
    func restartIce(_ transportId: String) async throws -> IceParameters { try await base.restartIce(transportId) }
    func closeTransport(_ transportId: String) async {}
    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String {
        try await base.produce(transportId: transportId, kind: kind, rtpParameters: rtpParameters, paused: paused)
    }
    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws {}
    func closeProducer(_ producerId: String) async {}
    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool { true }
    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerInfo {
        if let refusal = refusal.withLock({ $0 }) { throw refusal }
        return try await base.consume(transportId: transportId, producerId: producerId, rtpCapabilities: rtpCapabilities)
    }
    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws {}
    func closeConsumer(_ consumerId: String) async {}
    func close() async {}
}

@Suite struct RoomConsumeLimitTests {
    @Test func consumeRefusalsHaveTheirOwnStrings() async throws {
        let router = RefusingRouter()
        let registry = RoomRegistry(media: OneRouterPlane(router: router), services: RoomMediaFailureTests.services())
        let room = try await registry.openRoom("42")
        _ = await room.join(socket: "s1", user: AuthenticatedUser(profile: UserProfile(id: 7), signedRoomRoles: nil, token: "t"))
        let transport = try #require(await room.createTransport(socket: "s1") as? WebRtcTransportInfo)
        let produce = AudioProducePayload(
            roomId: "42", transportId: transport.id, kind: .audio,
            rtpParameters: RtpParameters(codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2)]))
        let producer = try #require(await room.produce(socket: "s1", produce) as? IdAck)
        let consume = AudioConsumePayload(
            roomId: "42", transportId: transport.id, producerId: producer.id, rtpCapabilities: RtpCapabilities(codecs: ORTC.msabMediaCodecs))
        router.refusal.withLock { $0 = .consumerLimitReached }
        #expect(RoomMediaFailureTests.error(await room.consume(socket: "s1", consume)) == "Consumer limit reached")
        router.refusal.withLock { $0 = .alreadyConsuming }
        #expect(RoomMediaFailureTests.error(await room.consume(socket: "s1", consume)) == "Cannot consume")
        router.refusal.withLock { $0 = nil }
        #expect(await room.consume(socket: "s1", consume) is ConsumerInfo)
    }
}

@Suite struct ConsumerLimitConfigurationTests {
    @Test func maxConsumersPerTransportIsConfigurable() throws {
        #expect(try Configuration(environment: [:]).maxConsumersPerTransport == 32)
        #expect(try Configuration(environment: ["MSAB_MAX_CONSUMERS_PER_TRANSPORT": "64"]).maxConsumersPerTransport == 64)
        #expect(throws: ConfigurationError.self) { try Configuration(environment: ["MSAB_MAX_CONSUMERS_PER_TRANSPORT": "0"]) }
    }
}
