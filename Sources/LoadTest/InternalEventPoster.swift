import NIOCore
import NIOPosix

/// `POST /internal/events` (design.md §3, contract §7.2's message over HTTP) for the broadcast
/// test: one HTTP/1.1 request per connection (`Connection: close`), the status code back. The
/// answer is read up to ``maximumResponseBytes`` — the test's own server, but still bounded.
enum InternalEventPoster {
    static let maximumResponseBytes = 16 * 1024

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Posts `body` (JSON) and returns the HTTP status.
    static func post(host: String, port: Int, internalKey: String, body: String, on loop: any EventLoop) async throws -> Int {
        let request =
            "POST /internal/events HTTP/1.1\r\nHost: \(host):\(port)\r\nX-Internal-Key: \(internalKey)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let promise = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise)) }
            }
            .connect(host: host, port: port).get()
        channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        let response = try await promise.futureResult.get()
        // "HTTP/1.1 202 Accepted": the three digits after the first space.
        guard let space = response.firstIndex(of: UInt8(ascii: " ")), response.count >= space + 4,
            let status = Int(String(decoding: response[(space + 1)..<(space + 4)], as: UTF8.self))
        else { throw Failure(description: "malformed HTTP response") }
        return status
    }

    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let promise: EventLoopPromise<[UInt8]>
        private var bytes: [UInt8] = []

        init(promise: EventLoopPromise<[UInt8]>) {
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            guard bytes.count + buffer.readableBytes <= InternalEventPoster.maximumResponseBytes else {
                promise.fail(Failure(description: "response larger than \(InternalEventPoster.maximumResponseBytes) bytes"))
                context.close(promise: nil)
                return
            }
            bytes += buffer.readableBytesView
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.succeed(bytes)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}
