import Testing

@testable import AudioRooms

/// The seat keys of contract §6.2 both ways: what msab writes reads back to the same map, what a
/// reference node wrote reads too, and what does not fit a room is skipped, not trusted.
@Suite struct SeatRecordsTests {
    struct Reply: RESPLike { var string: String? }

    static func replies(_ strings: [String]) -> [Reply] { strings.map { Reply(string: $0) } }

    static func decode(_ encoded: SeatRecords.Encoded, seatCount: Int = 15) throws -> SeatMap {
        try SeatRecords.decode(
            seatCount: seatCount,
            seats: replies(encoded.seats.flatMap { [$0.field, $0.json] }),
            locked: replies(encoded.locked), muted: replies(encoded.muted),
            invites: replies(encoded.invites.map(\.json)))
    }

    @Test func aMapRoundTrips() throws {
        var map = SeatMap(seatCount: 15)
        _ = map.take(0, by: 7)
        _ = map.take(3, by: 8)
        _ = map.setMuted(8, true)
        _ = map.lock(14)
        _ = map.invite(5, target: 9, by: 7, now: 1_000, ttlMs: 30_000)
        _ = map.retain(7, until: 50_000)
        let encoded = SeatRecords.encode(map, now: 2_000)
        #expect(encoded.seats.map(\.field) == ["0", "3"])
        #expect(encoded.seats[1].json == #"{"userId":"8","muted":true}"#)
        #expect(encoded.seats[0].json == #"{"userId":"7","muted":false,"retainedUntil":50000}"#)
        #expect(encoded.invites.map(\.ttlMs) == [31_000 - 2_000 + SeatRecords.inviteGraceMs])
        #expect(try Self.decode(encoded) == map)
    }

    @Test func whatAReferenceNodeWroteReads() throws {
        let map = try SeatRecords.decode(
            seatCount: 15,
            seats: Self.replies(["2", #"{"userId":"42","muted":false}"#, "4", #"{"userId":43,"muted":true}"#]),
            locked: Self.replies(["1"]), muted: [],
            invites: Self.replies([#"{"targetUserId":"44","invitedBy":"42","seatIndex":6,"createdAt":1000}"#]))
        #expect(map.seatIndex(of: 42) == 2 && map.seatIndex(of: 43) == 4)
        #expect(map.seats[4]?.muted == true)
        #expect(map.locked == [1])
        #expect(map.invites[6]?.expiresAtMs == 31_000)
    }

    @Test func recordsThatDoNotFitAreSkipped() throws {
        let map = try SeatRecords.decode(
            seatCount: 15,
            seats: Self.replies([
                "15", #"{"userId":"1","muted":false}"#,  // outside the room
                "-1", #"{"userId":"2","muted":false}"#,
                "x", #"{"userId":"3","muted":false}"#,
                "0", #"{"userId":"1e300","muted":false}"#,  // not an id
                "1", "not json",
                "2", #"{"userId":"5","muted":false}"#,
                "3", #"{"userId":"5","muted":false}"#,  // the same user twice: the lower seat stays
                "dangling",
            ]),
            locked: Self.replies(["99", "abc", "7"]), muted: Self.replies(["x", "12"]),
            invites: Self.replies(["{}", #"{"seatIndex":40,"targetUserId":"1","createdAt":1}"#]))
        #expect(map.occupied.map(\.seatIndex) == [2])
        #expect(map.locked == [7])
        #expect(map.mutedUsers == [12])
        #expect(map.invites.isEmpty)
    }
}
