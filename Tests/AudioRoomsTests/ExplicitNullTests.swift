import Foundation
import Testing

@testable import AudioRooms

/// Keys the reference always sends stay in the JSON as `null` (synthesized `Encodable` would drop
/// them), and ordinary optionals are still left out when nil.
@Suite struct ExplicitNullTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func userRoomAckSendsANullRoomAndLeavesOutANilError() throws {
        #expect(try Self.json(UserRoomAck(roomId: nil, error: nil)) == #"{"roomId":null}"#)
        #expect(try Self.json(UserRoomAck(roomId: "r1", error: "x")) == #"{"error":"x","roomId":"r1"}"#)
    }

    @Test func chatAndGiftEventsKeepTheirNullProfileFields() throws {
        let chat = ChatMessageEvent(id: "m", userId: 1, userName: nil, avatar: nil, content: "hi", type: "text", timestamp: 5)
        #expect(try Self.json(chat) == #"{"avatar":null,"content":"hi","id":"m","timestamp":5,"type":"text","userId":1,"userName":null}"#)
        let gift = GiftReceivedEvent(senderId: 1, senderName: "S", senderAvatar: nil, roomId: "r", giftId: 7, recipientId: 2, quantity: 3)
        #expect(try Self.json(gift) == #"{"giftId":7,"quantity":3,"recipientId":2,"roomId":"r","senderAvatar":null,"senderId":1,"senderName":"S"}"#)
    }
}
