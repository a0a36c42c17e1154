import MessagePack
import SocketIOParser

/// The broadcast flags that travel between nodes (socket.io-adapter `BroadcastFlags`): absent
/// ones are nil, so a message re-encodes as it came. `local` is never published (a local
/// broadcast stays on its node); `broadcast`, `binary` and the PHP emitters' `json` are legacy
/// and ignored when read.
public struct RedisBroadcastFlags: Sendable, Hashable {
    /// Clients that cannot take the packet right now may miss it.
    public var volatile: Bool?
    /// Whether to compress (permessage-deflate) the packet.
    public var compress: Bool?
    /// With acknowledgements: how long the requester waits for them, in milliseconds.
    public var timeout: Int?

    public init(volatile: Bool? = nil, compress: Bool? = nil, timeout: Int? = nil) {
        self.volatile = volatile
        self.compress = compress
        self.timeout = timeout
    }

    /// `{volatile, compress, timeout}` with the absent ones left out (`{}` is 0x80).
    var messagePack: MessagePackValue {
        var map = MessagePackMap()
        if let volatile { map.append("volatile", .bool(volatile)) }
        if let compress { map.append("compress", .bool(compress)) }
        if let timeout { map.append("timeout", .int(Int64(timeout))) }
        return .map(map)
    }
}
