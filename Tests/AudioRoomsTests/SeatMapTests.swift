import Testing

@testable import AudioRooms

@Suite struct SeatMapTests {
    @Test func takeFollowsTheReferenceOrderOfChecks() {
        var map = SeatMap(seatCount: 15)
        #expect(map.take(15, by: 1) == .failure(.invalidSeatIndex))
        #expect(map.take(-1, by: 1) == .failure(.invalidSeatIndex))
        _ = map.lock(3)
        #expect(map.take(3, by: 1) == .failure(.locked))
        #expect(map.take(0, by: 1) == .success(.init(seatIndex: 0, muted: false, vacated: nil)))
        #expect(map.take(0, by: 2) == .failure(.taken))
        // Even the occupant cannot take their own seat again.
        #expect(map.take(0, by: 1) == .failure(.taken))
    }

    @Test func movingReportsTheVacatedSeatAndKeepsTheMute() {
        var map = SeatMap(seatCount: 15)
        _ = map.take(2, by: 7)
        _ = map.setMuted(7, true)
        #expect(map.take(5, by: 7) == .success(.init(seatIndex: 5, muted: true, vacated: .init(seatIndex: 2, userId: 7))))
        #expect(map.seatIndex(of: 7) == 5)
        #expect(map.seats[2] == nil)
        #expect(map.isMuted(7))
    }

    @Test func assignEvictsAndMoves() {
        var map = SeatMap(seatCount: 15)
        _ = map.take(1, by: 10)
        _ = map.take(4, by: 11)
        let result = map.assign(1, to: 11)
        #expect(
            result == .success(.init(seatIndex: 1, muted: false, evicted: .init(seatIndex: 1, userId: 10), vacated: .init(seatIndex: 4, userId: 11))))
        #expect(map.seatIndex(of: 10) == nil)
        #expect(map.occupied.map(\.seatIndex) == [1])
        _ = map.lock(6)
        #expect(map.assign(6, to: 12) == .failure(.locked))
        #expect(map.assign(99, to: 12) == .failure(.invalidSeatIndex))
    }

    @Test func leaveAndMuteErrors() {
        var map = SeatMap(seatCount: 15)
        #expect(map.leave(1) == .failure(.youAreNotSeated))
        #expect(map.setMuted(1, true) == .failure(.userIsNotSeated))
        _ = map.take(9, by: 1)
        #expect(map.setMuted(1, true) == .success(9))
        #expect(map.leave(1) == .success(.init(seatIndex: 9, userId: 1)))
        #expect(map.seats.isEmpty)
        // The moderator's mute follows the user, not the seat (issue 11): only seat:unmute lifts it.
        #expect(map.isMuted(1) && !map.isEmpty)
    }

    @Test func lockKicksTheOccupantAndKeepsInvites() {
        var map = SeatMap(seatCount: 15)
        _ = map.invite(3, target: 8, by: 1, now: 0, ttlMs: 30_000)
        _ = map.take(2, by: 5)
        #expect(map.lock(2) == .success(.init(seatIndex: 2, userId: 5)))
        #expect(map.lock(2) == .failure(.alreadyLocked))
        #expect(map.lock(3) == .success(nil))
        #expect(map.invites[3] != nil)
        #expect((try? map.unlock(2).get()) != nil)
        if case .failure(let error) = map.unlock(2) { #expect(error == .notLocked) } else { Issue.record("unlock twice succeeded") }
    }

    @Test func invitesExpireAndAreAnsweredOnce() {
        var map = SeatMap(seatCount: 15)
        #expect(
            map.invite(4, target: 8, by: 1, now: 1_000, ttlMs: 30_000)
                == .success(.init(seatIndex: 4, targetUserId: 8, invitedBy: 1, createdAtMs: 1_000, expiresAtMs: 31_000)))
        #expect(map.invite(4, target: 9, by: 1, now: 2_000, ttlMs: 30_000) == .failure(.pending))
        _ = map.take(5, by: 3)
        #expect(map.invite(5, target: 9, by: 1, now: 2_000, ttlMs: 30_000) == .failure(.occupied))
        // Someone else cannot answer it; the invitee can, once.
        #expect(map.takeInvite(for: 9, seatIndex: 4, now: 3_000) == .failure(.noPendingInvite))
        #expect(map.takeInvite(for: 8, seatIndex: nil, now: 3_000).map(\.seatIndex) == .success(4))
        #expect(map.takeInvite(for: 8, seatIndex: 4, now: 3_000) == .failure(.noPendingInvite))
        // Expiry.
        _ = map.invite(6, target: 8, by: 1, now: 10_000, ttlMs: 30_000)
        #expect(map.nextDeadlineMs == 40_000)
        #expect(map.expireInvites(now: 39_999).isEmpty)
        #expect(map.expireInvites(now: 40_000).map(\.seatIndex) == [6])
        #expect(map.takeInvite(for: 8, seatIndex: 6, now: 40_001) == .failure(.noPendingInvite))
        // An expired invite no longer blocks a new one.
        _ = map.invite(7, target: 8, by: 1, now: 0, ttlMs: 10)
        #expect(map.invite(7, target: 9, by: 1, now: 20, ttlMs: 10).map(\.targetUserId) == .success(9))
    }

    @Test func retentionKeepsTheSeatUntilTheGraceEnds() {
        var map = SeatMap(seatCount: 15)
        _ = map.take(3, by: 7)
        _ = map.setMuted(7, true)
        #expect(map.retain(7, until: 45_000) == 3)
        #expect(map.take(3, by: 8) == .failure(.taken))
        #expect(map.releaseExpiredRetentions(now: 44_999).isEmpty)
        #expect(map.reclaim(7)! == (3, true))
        #expect(map.reclaim(7) == nil)
        _ = map.retain(7, until: 45_000)
        #expect(map.releaseExpiredRetentions(now: 45_000) == [.init(seatIndex: 3, userId: 7)])
        #expect(map.seatIndex(of: 7) == nil)
    }
}
