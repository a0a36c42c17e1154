import NIOCore

/// One message from a subscribed channel (`message`, `smessage`) or pattern (`pmessage`).
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel it was published to.
    public var channel: String
    /// The pattern that matched, for `pmessage`; nil for a plain channel subscription.
    public var pattern: String?
    /// The published bytes, unchanged.
    public var payload: ByteBuffer

    public init(channel: String, pattern: String? = nil, payload: ByteBuffer) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }
}
