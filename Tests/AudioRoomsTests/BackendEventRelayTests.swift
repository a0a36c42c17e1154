import AudioRooms
import Foundation
import Testing

/// The relay's id checks never trap on a number no Int holds.
@Suite struct BackendEventRelayTests {
    @Test(arguments: ["1e300", "-1e19", "1.5e308", "9223372036854775808", "-0.5", "12.5"])
    func idsNoIntHoldsAreRefused(id: String) {
        for key in ["user_id", "room_id"] {
            // The other id is an explicit null (a missing one is refused too).
            let other = key == "user_id" ? "room_id" : "user_id"
            let body = Data(#"{"event":"x","\#(other)":null,"\#(key)":\#(id)}"#.utf8)
            switch BackendEventRelay.parse(body) {
            case .success: Issue.record("accepted \(key) \(id)")
            case .failure(let rejection): #expect(rejection == (key == "user_id" ? .badUserId : .badRoomId))
            }
        }
    }

    @Test func integralIdsAreAccepted() throws {
        let message = try BackendEventRelay.parse(Data(#"{"event":"x","user_id":42.0,"room_id":7}"#.utf8)).get()
        #expect(message.userId == 42 && message.roomId == 7)
    }
}
