// Payloads of contract §3.19–3.22.

public struct ChatMessagePayload: ValidatedPayload {
    public var roomId: String
    public var content: String
    public var type: String?
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        // Zod measures JavaScript string length: UTF-16 code units.
        let length = content.utf16.count
        guard length >= 1 else { throw PayloadError(path: "content", "String must contain at least 1 character(s)") }
        guard length <= 500 else { throw PayloadError(path: "content", "String must contain at most 500 character(s)") }
    }
}

public struct GiftSendPayload: ValidatedPayload {
    public var roomId: String
    public var giftId: Int
    public var recipientId: Int
    public var quantity: Int?
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.positive(giftId, "giftId")
        try Check.positive(recipientId, "recipientId")
        if let quantity { try Check.positive(quantity, "quantity") }
    }
}

public struct GiftPreparePayload: ValidatedPayload {
    public var roomId: String
    public var giftId: Int
    public var recipientId: Int
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.positive(giftId, "giftId")
        try Check.positive(recipientId, "recipientId")
    }
}

public struct UserGetRoomPayload: ValidatedPayload {
    /// Any number (the reference's schema is `z.number()`).
    public var userId: Double
}
