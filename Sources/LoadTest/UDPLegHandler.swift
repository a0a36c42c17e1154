import NIOCore
import NIOPosix

/// The I/O shell of a ``MediaLeg``: hands each received datagram to the participant, on the
/// event loop (NIOUDPEchoServer style, no allocation beyond NIO's own).
final class UDPLegHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private weak var participant: (any LoadParticipant)?

    init(participant: any LoadParticipant) {
        self.participant = participant
    }

    /// Binds a participant's media socket on `host`, its datagrams going to `participant`.
    static func bind(host: String, on loop: any EventLoop, participant: any LoadParticipant & Sendable) -> EventLoopFuture<any Channel> {
        DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPLegHandler(participant: participant))
                }
            }
            .bind(host: host, port: 0)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        participant?.mediaDatagram(envelope.data, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here; ICE/DTLS timers decide what they mean.
    }
}
