import EngineIO
import EngineIOParser
import NIOCore
import NIOWebSocket

/// Writes Engine.IO frames as WebSocket frames straight into an upgraded channel.
///
/// After hummingbird-websocket's upgrade the pipeline is `[TLS] → WebSocketFrameEncoder →
/// frame decoder → NIO's async-channel handler`. Server frames are unmasked and Engine.IO never
/// fragments, so a frame is its RFC 6455 §5.2 header plus the payload: the sink encodes it itself
/// and writes the bytes from the encoder's context, past the async-channel handler and the
/// encoder (two pipeline hops and a `WebSocketFrame` per frame saved), and a broadcast's text
/// frame is encoded once per event loop (``EngineFrameMemo``). Should the encoder not be in the
/// pipeline, frames go through the whole pipeline as `WebSocketFrame`s instead.
///
/// hummingbird-websocket's own writes (the close handshake) take the full pipeline on the same
/// event loop, so they stay in order with these.
final class WebSocketChannelSink: EngineFrameSink, @unchecked Sendable {
    // @unchecked: `context`, `allocator` and `lookedUp` are only touched on `eventLoop` (every
    // EngineFrameSink call happens there); the rest is immutable. A class, not a struct of
    // loop-bound boxes: the queue copies its `any EngineFrameSink` per drain, and a struct of
    // three references cost three retains per copy and a box check per access, per recipient
    // of every broadcast.
    let channel: any Channel
    let eventLoop: any EventLoop
    /// The encoder's context, looked up on the loop at the first write.
    private var encoderContext: ChannelHandlerContext?
    private var allocator = ByteBufferAllocator()
    private var lookedUp = false

    init(channel: any Channel) {
        self.channel = channel
        eventLoop = channel.eventLoop
    }

    private var context: ChannelHandlerContext? {
        if !lookedUp {
            lookedUp = true
            allocator = channel.allocator
            encoderContext = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        }
        return encoderContext
    }

    func write(_ frame: EngineIOCodec.Frame, memo: EngineFrameMemo?, promise: EventLoopPromise<Void>?) {
        guard let context else {
            switch frame {
            case .text(let text):
                channel.write(WebSocketFrame(fin: true, opcode: .text, data: channel.allocator.buffer(string: text)), promise: promise)
            case .binary(let bytes):
                channel.write(WebSocketFrame(fin: true, opcode: .binary, data: bytes), promise: promise)
            }
            return
        }
        switch frame {
        case .text(let text):
            let allocator = self.allocator
            let bytes = memo?.bytes(for: text) { Self.textFrame($0, allocator: allocator) } ?? Self.textFrame(text, allocator: allocator)
            context.write(NIOAny(bytes), promise: promise)
        case .binary(let payload):
            var header = allocator.buffer(capacity: 10)
            Self.writeHeader(opcode: 0x2, length: payload.readableBytes, into: &header)
            context.write(NIOAny(header), promise: nil)
            context.write(NIOAny(payload), promise: promise)
        }
    }

    func prefetch() {
        if let encoderContext { enginePrefetch(encoderContext, lines: 2) }
        enginePrefetch(channel, lines: 8)
    }

    func flush() {
        if let context { context.flush() } else { channel.flush() }
    }

    /// A complete unmasked text frame.
    static func textFrame(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = allocator.buffer(capacity: length + 10)
        writeHeader(opcode: 0x1, length: length, into: &buffer)
        buffer.writeString(text)
        return buffer
    }

    /// RFC 6455 §5.2: FIN set, no RSV bits, the opcode; no mask; the 7-bit, 16-bit or 64-bit length.
    static func writeHeader(opcode: UInt8, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode)
        if length < 126 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(truncatingIfNeeded: length))
        }
    }
}
