import AudioRooms
import Foundation
import Testing

@Suite struct PayloadLimitsTests {
    func join(_ roomId: String) throws -> RoomJoinPayload {
        let payload = try JSONDecoder().decode(RoomJoinPayload.self, from: JSONEncoder().encode(["roomId": roomId]))
        try payload.validate()
        return payload
    }

    func seat(_ roomId: String) throws {
        let data = try JSONSerialization.data(withJSONObject: ["roomId": roomId, "seatIndex": 0])
        try JSONDecoder().decode(SeatIndexPayload.self, from: data).validate()
    }

    @Test func roomIdsAreAtMost128UTF16Units() throws {
        _ = try join(String(repeating: "r", count: 128))
        _ = try join("")  // the reference's join schema takes any string
        #expect(throws: PayloadError.self) { _ = try join(String(repeating: "r", count: 129)) }
        #expect(throws: PayloadError.self) { _ = try join(String(repeating: "\u{1F600}", count: 65)) }
        _ = try join(String(repeating: "\u{1F600}", count: 64))
        try seat(String(repeating: "r", count: 128))
        #expect(throws: PayloadError.self) { try seat(String(repeating: "r", count: 129)) }
        #expect(throws: PayloadError.self) { try seat("") }
    }

    @Test(arguments: ["AAAAAAAAAAAAAAAAAAAA", "abcDEF0123456789-_xy", "Zq3_-9aBcDeFgHiJkLmN"])
    func socketIdShapedRoomIdsAreRefused(id: String) {
        #expect(throws: PayloadError.self) { _ = try join(id) }
        #expect(throws: PayloadError.self) { try seat(id) }
    }

    @Test(arguments: ["AAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA", "abcDEF0123456789+/xy", "42", "room 12345678901234"])
    func otherRoomIdsAreAccepted(id: String) throws {
        _ = try join(id)
    }

    @Test func limitsAreConfigurable() throws {
        let defaults = try Configuration(environment: ["MEDIASOUP_NUM_WORKERS": "4"])
        #expect(defaults.maxRoomsPerWorker == 100 && defaults.maxRooms == 400)
        #expect(defaults.roomEventsPerMinute == 1_200 && defaults.maxRefusedConnects == 5)
        let set = try Configuration(environment: [
            "MAX_ROOMS_PER_WORKER": "3", "MEDIASOUP_NUM_WORKERS": "2",
            "MSAB_ROOM_EVENTS_PER_MINUTE": "7", "MSAB_MAX_REFUSED_CONNECTS": "2",
        ])
        #expect(set.maxRooms == 6 && set.roomEventsPerMinute == 7 && set.maxRefusedConnects == 2)
        #expect(throws: ConfigurationError.self) { _ = try Configuration(environment: ["MSAB_ROOM_EVENTS_PER_MINUTE": "0"]) }
    }
}
