public import MessagePack
public import SocketIOParser

/// Bounds on what one Redis message may make msab build. Every node receives every broadcast of
/// the cluster, and any client of the Redis server can publish, so each message is hostile input.
///
/// `maximumMessageBytes` is checked again by every `decode`, but the caller should enforce it
/// first, when it reads the RESP bulk string, so an oversized message is never buffered whole.
public struct RedisAdapterLimits: Sendable, Hashable {
    /// The largest payload accepted (1 MiB: a Socket.IO packet is at most Engine.IO's
    /// maxPayload, 1 MB by default, plus a few hundred bytes of envelope).
    public var maximumMessageBytes: Int
    /// The most entries of one list: `rooms`, `except`, a response's `rooms` or `sockets`.
    public var maximumListLength: Int
    /// The longest room name or socket id, in UTF-8 bytes.
    public var maximumRoomLength: Int
    public var messagePack: MessagePackLimits
    public var json: JSONParseLimits

    public init(
        maximumMessageBytes: Int = 1 << 20, maximumListLength: Int = 100_000, maximumRoomLength: Int = 4096,
        messagePack: MessagePackLimits = .default, json: JSONParseLimits = .wire
    ) {
        self.maximumMessageBytes = maximumMessageBytes
        self.maximumListLength = maximumListLength
        self.maximumRoomLength = maximumRoomLength
        self.messagePack = messagePack
        self.json = json
    }

    public static let `default` = RedisAdapterLimits()
}
