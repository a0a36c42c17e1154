import DTLS
import Foundation
import MediasoupWire
import NIOCore
import NIOPosix
import RTP
import SFU
import SFUTestSupport
import SRTP
import STUN

/// A ``TestPeer`` on a real UDP socket bound to 127.0.0.1, talking to a media worker's port.
/// The peer logic is confined to the socket's event loop; tests reach it with ``onLoop(_:)``.
final class UDPPeer: @unchecked Sendable {
    let channel: any Channel
    let peer: TestPeer
    let server: SocketAddress

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        var peer: TestPeer?
        var server: SocketAddress?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let peer, let server else { return }
            peer.receive(unwrapInboundIn(data).data, now: .now())
            for datagram in peer.pendingDTLS {
                context.write(NIOAny(AddressedEnvelope(remoteAddress: server, data: datagram)), promise: nil)
            }
            peer.pendingDTLS = []
            context.flush()
        }
    }

    /// Binds a socket and creates the peer for `info` (the server's transport parameters).
    static func make(group: any EventLoopGroup, info: WebRtcTransportInfo, dtlsRole: DTLSEndpoint.Role) async throws -> UDPPeer {
        let handler = Handler()
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let candidate = info.iceCandidates[0]
        let server = try SocketAddress(ipAddress: candidate.address, port: Int(candidate.port))
        let local = TransportAddress(channel.localAddress!)!
        let peer = try TestPeer(address: local, info: info, dtlsRole: dtlsRole)
        try await channel.eventLoop.submit {
            handler.peer = peer
            handler.server = server
        }.get()
        return UDPPeer(channel: channel, peer: peer, server: server)
    }

    private init(channel: any Channel, peer: TestPeer, server: SocketAddress) {
        self.channel = channel
        self.peer = peer
        self.server = server
    }

    /// Runs `body` with the peer on its loop.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (TestPeer) throws -> T) async throws -> T {
        try await channel.eventLoop.submit { try body(self.peer) }.get()
    }

    /// Sends raw bytes to the worker.
    func send(_ datagram: ByteBuffer) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: datagram))
    }

    /// Builds a datagram on the loop (SRTP state lives there) and sends it.
    func send(_ make: @escaping @Sendable (TestPeer) -> ByteBuffer) async throws {
        try await channel.eventLoop.flatSubmit {
            let datagram = make(self.peer)
            return self.channel.writeAndFlush(AddressedEnvelope(remoteAddress: self.server, data: datagram))
        }.get()
    }

    /// ICE check, then the DTLS handshake once `connect` (run by the caller) has told the server
    /// our role; waits until SRTP is keyed.
    func start() async throws {
        try await send { $0.bindingRequest() }
        try await waitFor("STUN response") { !$0.stunResponses.isEmpty }
        try await channel.eventLoop.flatSubmit {
            self.peer.dtls.start(now: .now())
            self.peer.pump(now: .now())
            let pending = self.peer.pendingDTLS
            self.peer.pendingDTLS = []
            for datagram in pending {
                self.channel.write(AddressedEnvelope(remoteAddress: self.server, data: datagram), promise: nil)
            }
            self.channel.flush()
            return self.channel.eventLoop.makeSucceededVoidFuture()
        }.get()
    }

    /// Polls `condition` on the loop every 10 ms until it holds or `timeout` passes.
    func waitFor(_ what: String, timeout: Duration = .seconds(5), _ condition: @escaping @Sendable (TestPeer) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await onLoop(condition) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TimeoutError(what: what)
    }

    func close() async {
        try? await channel.close()
    }
}

// Confined to its socket's event loop (reached only through `UDPPeer.onLoop`/`send`).
extension TestPeer: @unchecked Sendable {}

struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}
