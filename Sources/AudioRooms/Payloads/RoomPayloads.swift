import MediasoupWire

// Client → server payloads of contract §3.1–3.7 and the design.md §2 additions. Unknown keys are
// ignored (Zod strips them); missing or mistyped keys and broken constraints are "Invalid payload".

public struct RoomJoinPayload: ValidatedPayload {
    /// Any string, even empty (as the reference's schema), up to 128 characters and not shaped like
    /// a socket id. `ownerId` is ignored: roles never come from the client (design.md §2 fix 2).
    public var roomId: String
    public func validate() throws(PayloadError) { try Check.joinableRoomId(roomId) }
}

public struct RoomLeavePayload: ValidatedPayload {
    public var roomId: String
    public func validate() throws(PayloadError) { try Check.roomId(roomId) }
}

public struct TransportCreatePayload: ValidatedPayload {
    public enum Kind: String, Decodable, Sendable { case producer, consumer }
    public var type: Kind
    public var roomId: String
    public func validate() throws(PayloadError) { try Check.roomId(roomId) }
}

public struct TransportConnectPayload: ValidatedPayload {
    public var roomId: String
    public var transportId: String
    public var dtlsParameters: DtlsParameters
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.uuid(transportId, "transportId")
        guard !dtlsParameters.fingerprints.isEmpty else { throw PayloadError(path: "dtlsParameters", "fingerprints required") }
    }
}

public struct TransportRestartIcePayload: ValidatedPayload {
    public var roomId: String
    public var transportId: String
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.uuid(transportId, "transportId")
    }
}

public struct AudioProducePayload: ValidatedPayload {
    public enum Kind: String, Decodable, Sendable { case audio }
    public var roomId: String
    public var transportId: String
    public var kind: Kind
    public var rtpParameters: RtpParameters
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.uuid(transportId, "transportId")
    }
}

public struct AudioConsumePayload: ValidatedPayload {
    public var roomId: String
    public var transportId: String
    public var producerId: String
    public var rtpCapabilities: RtpCapabilities
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.uuid(transportId, "transportId")
        try Check.uuid(producerId, "producerId")
    }
}

/// `consumer:resume` and `consumer:pause`: `{roomId, consumerId}`.
public struct ConsumerResumePayload: ValidatedPayload {
    public var roomId: String
    public var consumerId: String
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.uuid(consumerId, "consumerId")
    }
}

public struct SelfMutePayload: ValidatedPayload {
    public var roomId: String
    public var producerId: String
    public func validate() throws(PayloadError) {
        try Check.roomId(roomId)
        try Check.uuid(producerId, "producerId")
    }
}
