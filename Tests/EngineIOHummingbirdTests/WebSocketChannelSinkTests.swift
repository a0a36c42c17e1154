import EngineIO
import EngineIOParser
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import EngineIOHummingbird

/// The sink encodes WebSocket frames itself and writes them from the encoder's context: its bytes
/// must be what NIO's `WebSocketFrameEncoder` makes of the same frame, at every length form.
@Suite struct WebSocketChannelSinkTests {
    /// What NIO's encoder writes for `frame` (header and payload, concatenated).
    static func reference(_ frame: WebSocketFrame) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try channel.writeAndFlush(frame).wait()
        var out: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { out += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        _ = try channel.finish()
        return out
    }

    /// Counts the writes that reach it (it stands where NIO's async-channel handler is).
    final class TailRecorder: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var writes = 0
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            writes += 1
            context.write(data, promise: promise)
        }
    }

    /// What the sink writes for `frame` on a channel whose pipeline has the encoder (and, after
    /// it, a recorder the sink's writes must not pass through).
    static func written(_ frame: EngineIOCodec.Frame, memo: EngineFrameMemo? = nil) throws -> [UInt8] {
        let tail = TailRecorder()
        let channel = EmbeddedChannel(handlers: [WebSocketFrameEncoder(), tail])
        let sink = WebSocketChannelSink(channel: channel)
        sink.write(frame, memo: memo, promise: nil)
        sink.flush()
        #expect(tail.writes == 0)
        var out: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { out += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        _ = try channel.finish()
        return out
    }

    @Test(arguments: [0, 1, 125, 126, 127, 65_535, 65_536, 70_000])
    func framesMatchNIOsEncoder(length: Int) throws {
        let text = String(repeating: "é", count: length / 2) + String(repeating: "a", count: length % 2)
        #expect(try Self.written(.text(text)) == Self.reference(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))))
        let bytes = ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0) })
        #expect(try Self.written(.binary(bytes)) == Self.reference(WebSocketFrame(fin: true, opcode: .binary, data: bytes)))
    }

    @Test func aMemoSharesOneEncodingForTheSameText() throws {
        let memo = EngineFrameMemo()
        var encodings = 0
        let encode: (String) -> ByteBuffer = {
            encodings += 1
            return ByteBuffer(string: $0)
        }
        let first = memo.bytes(for: "4" + "[\"chat\",1]", encode: encode)
        let again = memo.bytes(for: "4" + "[\"chat\",1]", encode: encode)  // another string, same bytes
        #expect(encodings == 1 && first == again)
        _ = memo.bytes(for: "4[\"chat\",2]", encode: encode)
        #expect(encodings == 2)
        // Through the sink: the same bytes as without a memo.
        #expect(try Self.written(.text("4hello"), memo: memo) == Self.written(.text("4hello")))
    }
}
