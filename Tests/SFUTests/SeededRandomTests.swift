import MediasoupWire
import NIOCore
import Testing

@testable import SFU

/// The worker draws every id, SSRC and ICE credential from the generator it was given, so a
/// seeded worker repeats a session exactly (and the system CSPRNG is only the default).
@Suite struct SeededRandomTests {
    /// What a session made of random draws looks like from outside.
    struct Draws: Equatable {
        var routerId: String
        var transportIds: [String]
        var iceCredentials: [String]
        var producerId: String
        var consumerId: String
        var consumerSSRC: UInt32?
        var restartedCredentials: String
    }

    func session(seed: UInt64) throws -> Draws {
        let harness = try Harness(seed: seed)
        let first = try harness.router.createWebRtcTransport(now: harness.now)
        let second = try harness.router.createWebRtcTransport(now: harness.now)
        let producerId = try harness.router.produce(
            transportId: first.id, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        let consumer = try harness.router.consume(
            transportId: second.id, producerId: producerId, rtpCapabilities: Harness.deviceCapabilities, paused: true, now: harness.now)
        let restarted = try harness.router.restartIce(first.id)
        return Draws(
            routerId: harness.router.id, transportIds: [first.id, second.id],
            iceCredentials: [first, second].map { "\($0.iceParameters.usernameFragment):\($0.iceParameters.password)" },
            producerId: producerId, consumerId: consumer.id, consumerSSRC: consumer.rtpParameters.encodings?.first?.ssrc,
            restartedCredentials: "\(restarted.usernameFragment):\(restarted.password)")
    }

    @Test func theSameSeedDrawsTheSameSession() throws {
        let one = try session(seed: 42)
        let two = try session(seed: 42)
        #expect(one == two)
        // Ids keep mediasoup's format: lower-case version-4 UUIDs.
        #expect(one.routerId.count == 36 && one.routerId == one.routerId.lowercased())
        #expect(Array(one.routerId)[14] == "4")
        #expect(Set(one.transportIds + [one.producerId, one.consumerId, one.routerId]).count == 5)
        #expect(one.iceCredentials[0] != one.iceCredentials[1])
        #expect(one.restartedCredentials != one.iceCredentials[0])
    }

    @Test func anotherSeedDrawsAnotherSession() throws {
        let one = try session(seed: 42)
        let other = try session(seed: 43)
        #expect(one.routerId != other.routerId)
        #expect(one.iceCredentials != other.iceCredentials)
        #expect(one.consumerSSRC != other.consumerSSRC)
    }
}
