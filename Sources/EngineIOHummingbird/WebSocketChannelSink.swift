import EngineIO
import EngineIOParser
import NIOCore
import NIOWebSocket

/// Writes Engine.IO frames as WebSocket frames straight into an upgraded channel.
///
/// After hummingbird-websocket's upgrade the pipeline ends with NIO's async-channel handler,
/// whose outbound side passes writes through, then the WebSocket frame encoder: a server frame
/// is unmasked, one frame per message (Engine.IO never fragments).
struct WebSocketChannelSink: EngineFrameSink {
    let channel: any Channel

    var eventLoop: any EventLoop { channel.eventLoop }

    func write(_ frame: EngineIOCodec.Frame, promise: EventLoopPromise<Void>?) {
        let webSocketFrame: WebSocketFrame
        switch frame {
        case .text(let text):
            webSocketFrame = WebSocketFrame(fin: true, opcode: .text, data: channel.allocator.buffer(string: text))
        case .binary(let bytes):
            webSocketFrame = WebSocketFrame(fin: true, opcode: .binary, data: bytes)
        }
        channel.write(webSocketFrame, promise: promise)
    }

    func flush() { channel.flush() }
}
