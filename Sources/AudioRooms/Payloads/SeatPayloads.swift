// Payloads of contract §3.9–3.18 (seat index: integer 0…14 by schema; user ids positive integers).

public struct SeatIndexPayload: ValidatedPayload {
    public var roomId: String
    public var seatIndex: Int
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.seatIndex(seatIndex)
    }
}

public struct RoomOnlyPayload: ValidatedPayload {
    public var roomId: String
    public func validate() throws(PayloadError) { try Check.roomId(roomId) }
}

public struct SeatUserPayload: ValidatedPayload {
    public var roomId: String
    public var userId: Int
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.positive(userId, "userId")
    }
}

public struct SeatUserIndexPayload: ValidatedPayload {
    public var roomId: String
    public var userId: Int
    public var seatIndex: Int
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.positive(userId, "userId")
        try Check.seatIndex(seatIndex)
    }
}

public struct InviteAnswerPayload: ValidatedPayload {
    public var roomId: String
    public var seatIndex: Int?
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        if let seatIndex { try Check.seatIndex(seatIndex) }
    }
}
