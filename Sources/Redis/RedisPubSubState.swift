import NIOCore

/// What a subscribed connection receives, classified (sans-I/O; the handler does the I/O).
///
/// In RESP2 a subscribed connection gets arrays, not replies (redis.io Pub/Sub, "Format of pushed
/// messages"; RESP3 sends the same shapes as `>` pushes):
///
///     *3 message    <channel> <payload>
///     *4 pmessage   <pattern> <channel> <payload>
///     *3 smessage   <channel> <payload>
///     *3 subscribe | psubscribe | ssubscribe | unsubscribe | punsubscribe | sunsubscribe  <name> :<count>
///     *2 pong ""            (PING while subscribed; `+PONG` when no subscription is active)
///
/// Replies to PING come back in order, so counting them is enough both for the connect barrier (the
/// first PING goes out after every SUBSCRIBE/PSUBSCRIBE: its pong proves they were all processed)
/// and for the liveness check (a PING still unanswered when the next one is due means a dead link).
struct RedisPubSubState {
    enum Event: Equatable {
        case message(RedisPubSubMessage)
        /// The first pong: every subscription sent before the barrier PING is in place.
        case ready
        /// An error reply (for example `-NOPERM` for a channel the ACL user may not use).
        case serverError(String)
        /// Confirmations, later pongs: nothing to do.
        case none
        /// Not a shape Redis sends on a subscribed connection.
        case unexpected(RESPValue)
    }

    enum PingTickAction: Equatable {
        case sendPing
        case closeDeadConnection
    }

    private(set) var outstandingPings = 0
    private(set) var isReady = false

    /// Call for every PING written.
    mutating func sentPing() {
        outstandingPings += 1
    }

    mutating func receive(_ value: RESPValue) -> Event {
        switch value.withoutAttributes {
        case .array(let elements), .push(let elements):
            return receive(elements)
        case .simpleString(let text) where text.uppercased() == "PONG":
            return pong()
        case .error(let message):
            return .serverError(message)
        default:
            return .unexpected(value)
        }
    }

    /// A right-sized copy of a payload. A decoded bulk string is a slice of the socket's read
    /// buffer and would keep all of it alive; with up to `bufferSize` messages waiting for a slow
    /// consumer, that could be thousands of whole read buffers instead of the payloads themselves.
    private static func own(_ payload: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
        copy.writeImmutableBuffer(payload)
        return copy
    }

    private mutating func receive(_ elements: [RESPValue]) -> Event {
        guard let kind = elements.first?.string?.lowercased() else { return .unexpected(.array(elements)) }
        switch (kind, elements.count) {
        case ("message", 3), ("smessage", 3):
            guard let channel = elements[1].string, let payload = elements[2].bytes else { return .unexpected(.array(elements)) }
            return .message(RedisPubSubMessage(channel: channel, pattern: nil, payload: Self.own(payload)))
        case ("pmessage", 4):
            guard let pattern = elements[1].string, let channel = elements[2].string, let payload = elements[3].bytes else {
                return .unexpected(.array(elements))
            }
            return .message(RedisPubSubMessage(channel: channel, pattern: pattern, payload: Self.own(payload)))
        case ("pong", _):
            return pong()
        case ("subscribe", 3), ("psubscribe", 3), ("ssubscribe", 3), ("unsubscribe", 3), ("punsubscribe", 3), ("sunsubscribe", 3):
            return .none
        default:
            return .unexpected(.array(elements))
        }
    }

    private mutating func pong() -> Event {
        outstandingPings = max(0, outstandingPings - 1)
        if isReady { return .none }
        isReady = true
        return .ready
    }

    /// Called every ping interval.
    mutating func pingTick() -> PingTickAction {
        if outstandingPings > 0 { return .closeDeadConnection }
        outstandingPings += 1
        return .sendPing
    }
}
