import MediasoupWire
import SocketIOParser
import Synchronization

// Server → client payloads (contract §4 plus design.md §2 additions). Field names are the wire's.

public struct RoomJoinAck: JSONValueConvertible, Sendable {
    public var rtpCapabilities: RtpCapabilities
    public var participants: [PublicProfile]
    public var seats: [SeatState]
    public var lockedSeats: [Int]
    public var existingProducers: [ProducerRef]

    /// The synthesized `encode(to:)`'s object, built directly: every join answers one, with a
    /// profile per participant and the router's capabilities (the same for every room).
    public var jsonValue: JSONValue {
        .object(
            JSONObject([
                ("rtpCapabilities", Self.json(of: rtpCapabilities)),
                ("participants", .array(participants.map(\.jsonValue))),
                ("seats", (try? JSONValue(encoding: seats)) ?? .array([])),
                ("lockedSeats", .array(lockedSeats.map { .number(Double($0)) })),
                ("existingProducers", (try? JSONValue(encoding: existingProducers)) ?? .array([])),
            ]))
    }

    /// The last capabilities encoded and their JSON (22 µs to encode; every router has the same).
    private static let lastCapabilities = Mutex<(RtpCapabilities, JSONValue)?>(nil)

    private static func json(of capabilities: RtpCapabilities) -> JSONValue {
        if let (last, json) = lastCapabilities.withLock({ $0 }), last == capabilities { return json }
        let json = (try? JSONValue(encoding: capabilities)) ?? .null
        lastCapabilities.withLock { $0 = (capabilities, json) }
        return json
    }
}

public struct SeatState: Encodable, Sendable {
    public var seatIndex: Int
    public var user: PublicProfile
    public var isMuted: Bool
}

public struct ProducerRef: Encodable, Sendable, Equatable {
    public var producerId: String
    public var userId: Int
}

public struct ErrorAck: Encodable, Sendable, Equatable {
    public var error: String
    public init(_ error: String) { self.error = error }
}

public struct SuccessAck: Encodable, Sendable, Equatable {
    public var success = true
    public init() {}
}

public struct SeatAck: Encodable, Sendable, Equatable {
    public var success: Bool
    public var error: String?
    public static let ok = SeatAck(success: true, error: nil)
    public static func failed(_ error: String) -> SeatAck { SeatAck(success: false, error: error) }
}

public struct IdAck: Encodable, Sendable { public var id: String }

public struct IceParametersAck: Encodable, Sendable { public var iceParameters: IceParameters }

public struct UserJoinedEvent: Encodable, Sendable {
    public var userId: Int
    public var user: PublicProfile
}

public struct UserIdEvent: Encodable, Sendable { public var userId: Int }

public struct RoomClosedEvent: Encodable, Sendable {
    public var roomId: String
    public var reason: String
    public var timestamp: Int64
}

public struct NewProducerEvent: Encodable, Sendable {
    public var producerId: String
    public var userId: Int
    public var kind = "audio"
}

public struct ProducerClosedEvent: Encodable, Sendable, Equatable {
    public var producerId: String
    public var userId: Int
}

public struct SpeakerActiveEvent: Encodable, Sendable {
    public var userId: Int
    /// dBov of the dominant speaker (0 loudest … -127); the reference always sent 0.
    public var volume: Int
    public var timestamp: Int64
    /// Users currently above the level threshold, loudest first.
    public var activeSpeakers: [Int]
}

public struct SeatUpdatedEvent: Encodable, Sendable {
    public var seatIndex: Int
    public var user: PublicProfile
    public var isMuted: Bool
}

public struct SeatClearedEvent: Encodable, Sendable, Equatable {
    public var seatIndex: Int
    /// Who left the seat (an addition, as in the reference's later versions).
    public var userId: Int?
    /// Why, when it was not the occupant's own choice: `removed`, `locked`, `expired`.
    public var reason: String?
}

public struct SeatLockedEvent: Encodable, Sendable {
    public var seatIndex: Int
    public var isLocked: Bool
}

public struct SeatUserMutedEvent: Encodable, Sendable {
    public var userId: Int
    public var isMuted: Bool
    public var selfMuted: Bool?
}

public struct InvitePendingEvent: Encodable, Sendable {
    public var seatIndex: Int
    public var isPending: Bool
    public var invitedUserId: Int?
}

public struct InviteReceivedEvent: Encodable, Sendable {
    public struct Inviter: Encodable, Sendable {
        public var id: Int
        public var name: String?
    }
    public var seatIndex: Int
    public var invitedBy: Inviter
    public var expiresAt: Int64
    public var targetUserId: Int
    /// Which room the invite is for (an addition: the invitee may be elsewhere).
    public var roomId: String
}

public struct ChatMessageEvent: Encodable, Sendable {
    public var id: String
    public var userId: Int
    /// Always present (null when the profile has none), as the reference sends them.
    @ExplicitNull public var userName: String?
    @ExplicitNull public var avatar: String?
    public var content: String
    public var type: String
    public var timestamp: Int64
}

public struct ErrorEvent: Encodable, Sendable {
    public var message: String
    public var errors: ZodFormat?
}

public struct GiftReceivedEvent: Encodable, Sendable {
    public var senderId: Int
    /// Always present (null when unknown).
    @ExplicitNull public var senderName: String?
    @ExplicitNull public var senderAvatar: String?
    public var roomId: String
    public var giftId: Int
    public var recipientId: Int
    public var quantity: Int
}

public struct GiftPrepareEvent: Encodable, Sendable {
    public var giftId: Int
    public var recipientId: Int
}

public struct GiftErrorEvent: Encodable, Sendable, Equatable {
    public var transactionId: String
    public var code: GiftErrorCode
    public var reason: String
}

/// `gift:error.code`: Laravel's number, or `"PROCESSING_FAILED"`.
public enum GiftErrorCode: Encodable, Sendable, Equatable {
    case number(Int)
    case text(String)
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let n): try container.encode(n)
        case .text(let s): try container.encode(s)
        }
    }
}

public struct UserRoomAck: Encodable, Sendable {
    /// Explicit null when the user is in no room, as the reference sends.
    @ExplicitNull public var roomId: String?
    public var error: String?
}
