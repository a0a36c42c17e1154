import NIOCore

/// The I/O shell of a load-test client's signalling connection: raw TCP bytes in, to its
/// ``SignallingPeer`` (which runs ``WebSocketClientCodec`` and ``SocketIOClientStateMachine``).
final class WebSocketConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private weak var participant: (any SignallingPeer)?

    init(participant: any SignallingPeer) {
        self.participant = participant
    }

    func channelActive(context: ChannelHandlerContext) {
        participant?.signallingActive()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        participant?.signallingBytes(&buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        participant?.signallingFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        participant?.signallingClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        participant?.fail("signalling connection: \(error)")
        context.close(promise: nil)
    }
}
