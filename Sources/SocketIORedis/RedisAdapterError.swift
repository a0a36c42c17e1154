public import MessagePack
public import SocketIOParser

/// Why a Redis adapter message was not accepted, and which field (`"opts.rooms[2]"`; empty for
/// the whole message). A peer's bad message is dropped, never a crash.
public struct RedisAdapterError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case messageTooLarge(bytes: Int, limit: Int)
        case messagePack(MessagePackDecodingError)
        case json(JSONParseError)
        case missingField
        /// The field holds another type than `expected` ("string", "array", …).
        case wrongType(expected: String)
        /// A list longer than `RedisAdapterLimits.maximumListLength`.
        case tooManyEntries(limit: Int)
        /// A room name or socket id longer than `RedisAdapterLimits.maximumRoomLength`.
        case stringTooLong(limit: Int)
        /// A packet type outside Socket.IO's 0...6.
        case unsupportedPacketType(Int)
        /// A map key that is not a string, number, boolean or nil (JavaScript objects have
        /// string keys; notepack turns scalars into strings, anything else is unusable).
        case unsupportedMapKey
    }

    public var reason: Reason
    public var field: String

    public init(_ reason: Reason, field: String = "") {
        self.reason = reason
        self.field = field
    }

    public var description: String {
        field.isEmpty ? "Redis adapter message: \(reason)" : "Redis adapter message, field \(field): \(reason)"
    }
}
