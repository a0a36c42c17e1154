import Logging
import NIOCore

/// The UDP handler (NIOUDPEchoServer style, style R9): every datagram into the core, one flush
/// per read burst.
final class MediaWorkerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let worker: MediaWorker

    init(worker: MediaWorker) {
        self.worker = worker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        worker.received(unwrapInboundIn(data), now: .now())
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.afterWork()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here for UDP: never fatal.
        worker.logger.debug("media socket error", metadata: ["error": "\(error)"])
    }
}
