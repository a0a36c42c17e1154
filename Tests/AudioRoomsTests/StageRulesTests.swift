import Foundation
import Logging
import MediasoupWire
import SFU
import SFUServer
import Synchronization
import Testing

@testable import AudioRooms

@Suite struct StageRulesTests {
    let seatedOnly = StagePolicy(seatedSpeakersOnly: true)

    @Test func audibleOnlyWhenSeatedUnmutedAndNotSelfMuted() {
        var seats = SeatMap(seatCount: 4)
        #expect(!seatedOnly.isAudible(userId: 1, selfMuted: false, seats: seats))
        #expect(StagePolicy(seatedSpeakersOnly: false).isAudible(userId: 1, selfMuted: false, seats: seats))
        _ = seats.take(0, by: 1)
        #expect(seatedOnly.isAudible(userId: 1, selfMuted: false, seats: seats))
        #expect(!seatedOnly.isAudible(userId: 1, selfMuted: true, seats: seats))
        _ = seats.setMuted(1, true)
        #expect(!seatedOnly.isAudible(userId: 1, selfMuted: false, seats: seats))
        // The mute follows the user: leaving the seat does not lift it, even with the switch off.
        _ = seats.leave(1)
        #expect(!StagePolicy(seatedSpeakersOnly: false).isAudible(userId: 1, selfMuted: false, seats: seats))
    }

    @Test func changesAreOnlyTheDifferences() {
        var seats = SeatMap(seatCount: 4)
        _ = seats.take(0, by: 1)
        let speakers = [
            StagePolicy.Speaker(producerId: "b", userId: 2, selfMuted: false),
            StagePolicy.Speaker(producerId: "a", userId: 1, selfMuted: false),
        ]
        #expect(seatedOnly.changes(for: speakers, seats: seats, applied: ["a": true, "b": true]) == [.init(producerId: "a", paused: false)])
        #expect(seatedOnly.changes(for: speakers, seats: seats, applied: ["a": false, "b": true]).isEmpty)
        #expect(seatedOnly.changes(for: speakers, seats: seats, applied: [:]) == [.init(producerId: "b", paused: true)])
    }

    @Test func moderatorMuteSurvivesLeaveRetakeAssignAndIsBounded() {
        var seats = SeatMap(seatCount: 4)
        _ = seats.take(0, by: 7)
        _ = seats.setMuted(7, true)
        _ = seats.leave(7)
        #expect(seats.isMuted(7))
        #expect(seats.take(2, by: 7) == .success(.init(seatIndex: 2, muted: true, vacated: nil)))
        _ = seats.leave(7)
        #expect(seats.assign(1, to: 7) == .success(.init(seatIndex: 1, muted: true, evicted: nil, vacated: nil)))
        _ = seats.setMuted(7, false)
        _ = seats.leave(7)
        #expect(seats.take(3, by: 7) == .success(.init(seatIndex: 3, muted: false, vacated: nil)))

        var many = SeatMap(seatCount: 1)
        for user in 0...SeatMap.maxRememberedMutes {
            if user > 0 { _ = many.leave(user - 1) }
            _ = many.take(0, by: user)
            _ = many.setMuted(user, true)
        }
        #expect(many.mutedUsers.count == SeatMap.maxRememberedMutes)
        #expect(many.isMuted(SeatMap.maxRememberedMutes))  // the seated one is never forgotten
    }

    static func room(seatedOnly: Bool = true) async throws -> (Room, RecordingRouter) {
        var configuration = Configuration()
        configuration.seatedSpeakersOnly = seatedOnly
        return try await RoomFixture.room(configuration: configuration)
    }

    @Test func everyPathKeepsAMutedOrUnseatedUserSilent() async throws {
        let (room, router) = try await Self.room()
        let owner = RoomFixture.user(1)
        let speaker = RoomFixture.user(2)
        _ = await room.join(socket: "o", user: owner)
        _ = await room.join(socket: "s", user: speaker)

        let first = try await RoomFixture.produce(room, socket: "s")
        #expect(router.isPaused(first) == true)  // accepted, not forwarded: no seat
        #expect(await room.takeSeat(socket: "s", user: speaker, seatIndex: 0) == .ok)
        #expect(router.isPaused(first) == false)
        #expect(await room.setSeatMuted(socket: "o", user: owner, target: 2, muted: true) == .ok)
        #expect(router.isPaused(first) == true)
        _ = await room.setSelfMuted(socket: "s", producerId: first, false)
        #expect(router.isPaused(first) == true)
        #expect(await room.leaveSeat(socket: "s", user: speaker) == .ok)
        _ = await room.setSelfMuted(socket: "s", producerId: first, false)
        #expect(await room.takeSeat(socket: "s", user: speaker, seatIndex: 3) == .ok)
        #expect(router.isPaused(first) == true)
        let second = try await RoomFixture.produce(room, socket: "s")
        #expect(router.isPaused(second) == true)
        #expect(await room.setSeatMuted(socket: "o", user: owner, target: 2, muted: false) == .ok)
        #expect(router.isPaused(second) == false)

        // seat:remove and seat:lock silence at once.
        #expect(await room.removeFromSeat(socket: "o", user: owner, target: 2) == .ok)
        #expect(router.isPaused(second) == true)
        #expect(await room.takeSeat(socket: "s", user: speaker, seatIndex: 1) == .ok)
        #expect(router.isPaused(second) == false)
        #expect(await room.lockSeat(socket: "o", user: owner, seatIndex: 1) == .ok)
        #expect(router.isPaused(second) == true)
        // Self-mute still works for a seated speaker.
        #expect(await room.unlockSeat(socket: "o", user: owner, seatIndex: 1) == .ok)
        #expect(await room.takeSeat(socket: "s", user: speaker, seatIndex: 1) == .ok)
        _ = await room.setSelfMuted(socket: "s", producerId: second, true)
        #expect(router.isPaused(second) == true)
        _ = await room.setSelfMuted(socket: "s", producerId: second, false)
        #expect(router.isPaused(second) == false)
    }

    @Test func mutedUserReconnectingWithinRetentionStaysSilent() async throws {
        let (room, router) = try await Self.room()
        let owner = RoomFixture.user(1)
        let speaker = RoomFixture.user(2)
        _ = await room.join(socket: "o", user: owner)
        _ = await room.join(socket: "s", user: speaker)
        #expect(await room.takeSeat(socket: "s", user: speaker, seatIndex: 0) == .ok)
        #expect(await room.setSeatMuted(socket: "o", user: owner, target: 2, muted: true) == .ok)
        await room.leave(socket: "s", retainSeat: true)
        _ = await room.join(socket: "s2", user: speaker)
        let producer = try await RoomFixture.produce(room, socket: "s2")
        _ = await room.setSelfMuted(socket: "s2", producerId: producer, false)
        #expect(router.isPaused(producer) == true)
    }

    @Test func theSwitchLetsUnseatedProducersBeHeard() async throws {
        let (room, router) = try await Self.room(seatedOnly: false)
        _ = await room.join(socket: "s", user: RoomFixture.user(2))
        let producer = try await RoomFixture.produce(room, socket: "s")
        #expect(router.isPaused(producer) == false)
    }
}
