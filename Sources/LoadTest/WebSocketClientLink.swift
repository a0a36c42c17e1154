import NIOCore

/// The WebSocket half of a load-test client's signalling connection (RFC 6455, client side),
/// whatever it carries: Socket.IO to msab (``VirtualParticipant``, ``SignallingLink``) or the
/// Janus API (``JanusParticipant``). It holds the TCP channel, the codec with its inbound buffer,
/// writes masked frames, answers pings, and flushes once per read batch (what was written since
/// the last flush). Confined to the owner's event loop.
///
/// A class, unlike the codec it drives: closing or flushing the channel can call back into the
/// owner synchronously (channelInactive, errorCaught → `fail` → ``close()``), and that nested call
/// must not overlap a mutating access to a struct field of the owner (an exclusivity trap).
final class WebSocketClientLink {
    private(set) var channel: (any Channel)?
    private var codec: WebSocketClientCodec
    private let key: String
    private var inbound = ByteBuffer()
    private var wrote = false

    init(using generator: inout some RandomNumberGenerator) {
        key = WebSocketClientCodec.makeKey(using: &generator)
        codec = WebSocketClientCodec(key: key)
    }

    /// The TCP connection is up.
    func attach(_ channel: any Channel) {
        self.channel = channel
    }

    /// Sends the upgrade request, flushed (nothing else can be written before it).
    func requestUpgrade(host: String, port: Int, path: String, subprotocol: String? = nil) {
        let request = WebSocketClientCodec.handshakeRequest(host: "\(host):\(port)", path: path, key: key, subprotocol: subprotocol)
        channel?.writeAndFlush(ByteBuffer(string: request), promise: nil)
    }

    /// Bytes from the server: the codec's events, or why the stream is unusable ("WebSocket: …",
    /// then no events). A ping is answered here (written, flushed with the batch) and still returned.
    func receive(_ buffer: inout ByteBuffer) -> (events: [WebSocketClientCodec.Event], failure: String?) {
        inbound.writeBuffer(&buffer)
        let events: [WebSocketClientCodec.Event]
        do {
            events = try codec.feed(&inbound)
        } catch {
            return ([], "WebSocket: \(error)")
        }
        inbound.discardReadBytes()
        for case .ping(let payload) in events { write(.pong, Array(payload.readableBytesView)) }
        return (events, nil)
    }

    /// Writes one frame (not flushed; see ``flush()``). Nothing happens before ``attach(_:)``.
    func write(_ opcode: WebSocketClientCodec.Opcode, _ payload: [UInt8], promise: EventLoopPromise<Void>? = nil) {
        guard let channel else { return }
        channel.write(Self.maskedFrame(opcode, payload, allocator: channel.allocator), promise: promise)
        wrote = true
    }

    /// Flushes what was written since the last flush.
    func flush() {
        guard wrote else { return }
        wrote = false
        channel?.flush()
    }

    func close() {
        channel?.close(promise: nil)
        channel = nil
    }

    /// One client frame (RFC 6455 §5.3: a client masks every frame, with a fresh random key).
    static func maskedFrame(_ opcode: WebSocketClientCodec.Opcode, _ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: payload.count + 14)
        let mask = UInt32.random(in: 0...UInt32.max)
        WebSocketClientCodec.writeFrame(
            opcode, payload: payload,
            mask: (UInt8(mask >> 24), UInt8(truncatingIfNeeded: mask >> 16), UInt8(truncatingIfNeeded: mask >> 8), UInt8(truncatingIfNeeded: mask)),
            into: &frame)
        return frame
    }
}
