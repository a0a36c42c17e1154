import MessagePack
public import NIOCore
public import SocketIOParser

/// A broadcast between nodes: the MessagePack array `[uid, packet, opts]` published on
/// `socket.io#/#` or `socket.io#/#<room>#` (../shared/redis-adapter.md §A.2, §A.4).
///
/// `packet` is the Socket.IO packet before socket.io-parser encodes it (`{type: 2, data:
/// [event, ...args], nsp: "/"}`), binary arguments inline as MessagePack bin.
public struct RedisBroadcast: Sendable, Hashable {
    /// The publishing node's adapter uid (`"emitter"` for the Redis emitters): a node drops
    /// its own broadcasts, which Redis echoes back to it.
    public var uid: String
    public var packet: SocketIOPacket
    public var options: RedisBroadcastOptions

    public init(uid: String, packet: SocketIOPacket, options: RedisBroadcastOptions) {
        self.uid = uid
        self.packet = packet
        self.options = options
    }

    /// The key order of `opts`. Decoders do not care; it only matters for byte-exact output.
    public enum Layout: Sendable, Hashable {
        /// `{rooms, except, flags}`, as `@socket.io/redis-adapter` publishes.
        case adapter
        /// `{rooms, flags, except}`, as `@socket.io/redis-emitter` publishes.
        case emitter
    }

    /// The channel to publish on: the room's channel for exactly one room, else the base channel.
    public func channel(in channels: RedisAdapterChannels) -> String {
        channels.broadcastChannel(rooms: options.rooms)
    }

    /// The bytes a Node node publishes for the same broadcast: packet keys `type, data, nsp`
    /// (then `id` when set), as socket.io builds the object and the adapter appends `nsp`.
    /// BINARY_EVENT/BINARY_ACK are written as 2/3: binary is inline here.
    public func encoded(layout: Layout = .adapter) -> ByteBuffer {
        let message: MessagePackValue = [.string(uid), Self.messagePack(packet), options.messagePack(layout: layout)]
        return message.encoded()
    }

    /// Reads a broadcast leniently, as Node's `onmessage` does and as the emitters in the wild
    /// write it: `except` and `rooms` may be missing, `flags` may be `[]`, unknown flags are
    /// ignored, rooms may be numbers, packet type 5 is EVENT, `nsp` defaults to "/", and
    /// elements after the third are ignored. Anything else out of shape is a typed error.
    public static func decode(_ payload: ByteBuffer, limits: RedisAdapterLimits = .default) throws(RedisAdapterError) -> RedisBroadcast {
        let reader = RedisWireReader(limits: limits)
        guard case .array(let elements) = try reader.parseMessagePack(payload) else {
            throw RedisAdapterError(.wrongType(expected: "array"))
        }
        guard elements.count >= 3 else { throw RedisAdapterError(.missingField, field: ["uid", "packet", "opts"][elements.count]) }
        return RedisBroadcast(
            uid: try reader.string(elements[0], "uid"),
            packet: try reader.packet(elements[1], "packet"),
            options: try reader.options(elements[2], "opts", withFlags: true)
        )
    }

    static func messagePack(_ packet: SocketIOPacket) -> MessagePackValue {
        var map = MessagePackMap()
        map.append("type", .int(Int64(packet.type.withInlineBinary.rawValue)))
        if let data = packet.data { map.append("data", MessagePackValue(data)) }
        map.append("nsp", .string(packet.namespace))
        if let id = packet.id { map.append("id", .int(Int64(id))) }
        return .map(map)
    }
}
