import DTLS
import Foundation
import MediasoupWire
import NIOCore
import NIOPosix
import RTP
import SFU
import SRTP
import STUN

/// A WebRTC client made of our own cores: an ICE controlling side (binding requests with
/// USE-CANDIDATE), a DTLSEndpoint in the role it announces, SRTP sessions once keyed.
final class TestPeer {
    static let certificate = try! DTLSCertificate(commonName: "test-peer")

    let address: TransportAddress
    let info: WebRtcTransportInfo
    let dtlsRole: DTLSEndpoint.Role
    let dtls: DTLSEndpoint
    var srtpInbound: SRTPSession?
    var srtpOutbound: SRTPSession?
    var connection: DTLSConnection?
    /// Every datagram the worker sent us, raw.
    var received: [ByteBuffer] = []
    /// STUN responses received.
    var stunResponses: [STUNMessage] = []
    /// Decrypted RTP (full packets), in arrival order.
    var rtp: [[UInt8]] = []
    /// Decrypted RTCP packets.
    var rtcp: [RTCPPacket] = []
    var srtpFailures = 0
    /// Outgoing DTLS not yet delivered.
    var pendingDTLS: [ByteBuffer] = []

    init(address: TransportAddress, info: WebRtcTransportInfo, dtlsRole: DTLSEndpoint.Role) throws {
        self.address = address
        self.info = info
        self.dtlsRole = dtlsRole
        let fingerprint = info.dtlsParameters.fingerprints.compactMap { DTLSFingerprint(algorithm: $0.algorithm.rawValue, value: $0.value) }
        self.dtls = try DTLSEndpoint(role: dtlsRole, certificate: Self.certificate, remoteFingerprints: fingerprint)
    }

    /// What the client sends in `transport:connect`: its role and (like aiortc) a sha-512 fingerprint.
    var dtlsParameters: DtlsParameters {
        DtlsParameters(
            role: dtlsRole == .client ? .client : .server,
            fingerprints: [DtlsFingerprint(algorithm: "sha-512", value: Self.certificate.fingerprint(.sha512).value)])
    }

    /// An ICE connectivity check (RFC 8445 §7.2.4) as a controlling full agent sends it.
    func bindingRequest(useCandidate: Bool = true, password: String? = nil, username: String? = nil) -> ByteBuffer {
        let transactionID = STUNTransactionID(bytes: (0..<12).map { _ in UInt8.random(in: 0...255) })!
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: transactionID)
        builder.addUsername(username ?? "\(info.iceParameters.usernameFragment):peer")
        builder.addPriority(1_853_817_087)
        builder.addICEControlling(0x1234_5678_9ABC_DEF0)
        if useCandidate { builder.addUseCandidate() }
        builder.addMessageIntegrity(key: Array((password ?? info.iceParameters.password).utf8))
        builder.addFingerprint()
        return builder.buffer
    }

    func receive(_ datagram: ByteBuffer, now: NIODeadline) {
        received.append(datagram)
        let kind = datagram.withUnsafeReadableBytes { PacketClassifier.classify($0) }
        switch kind {
        case .stun:
            if let message = try? STUNMessage(datagram: datagram) { stunResponses.append(message) }
        case .dtls:
            dtls.handleDatagram(datagram, now: now)
            pump(now: now)
        case .rtp:
            guard let srtp = srtpInbound else { return }
            var buffer = datagram
            do {
                try srtp.unprotectRTP(&buffer)
                rtp.append(Array(buffer.readableBytesView))
            } catch {
                srtpFailures += 1
            }
        case .rtcp:
            guard let srtp = srtpInbound else { return }
            var buffer = datagram
            do {
                try srtp.unprotectRTCP(&buffer)
                rtcp.append(contentsOf: (try? RTCPCompoundReader.packets(in: buffer)) ?? [])
            } catch {
                srtpFailures += 1
            }
        default:
            break
        }
    }

    /// Moves DTLS output to `pendingDTLS` and keys SRTP when the handshake is done.
    func pump(now: NIODeadline) {
        while let datagram = dtls.pollDatagram() { pendingDTLS.append(datagram) }
        while let event = dtls.pollEvent() {
            if case .connected(let connection) = event {
                self.connection = connection
                let profile = SRTPProfile(rawValue: connection.profile.rawValue)!
                srtpInbound = try! SRTPSession(profile: profile, keyAndSalt: connection.remoteKeyingMaterial, direction: .inbound)
                srtpOutbound = try! SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
            }
        }
    }

    /// An SRTP packet as aiortc sends Opus: PT 96, one-byte extensions mid (id 1) and audio level (id 2).
    func opusPacket(
        sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, level: UInt8 = 30, payloadType: UInt8 = 96, midID: UInt8 = 1,
        levelID: UInt8 = 2, payload: [UInt8]? = nil
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x90))
        buffer.writeInteger(payloadType)
        buffer.writeInteger(sequenceNumber)
        buffer.writeInteger(timestamp)
        buffer.writeInteger(ssrc)
        // RFC 8285 one-byte form: 0xBEDE, length 1 word; mid "0" (L=0 → 1 byte), level (1 byte).
        buffer.writeBytes([0xBE, 0xDE, 0x00, 0x01, midID << 4, UInt8(ascii: "0"), levelID << 4, 0x80 | level])
        buffer.writeBytes(payload ?? Self.payload(sequenceNumber))
        try! srtpOutbound!.protectRTP(&buffer)
        return buffer
    }

    static func payload(_ sequenceNumber: UInt16) -> [UInt8] {
        (0..<60).map { UInt8(truncatingIfNeeded: Int(sequenceNumber) &* 7 &+ $0) }
    }

    func rtcpPacket(_ packets: [RTCPPacket]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for packet in packets { buffer.writeRTCPPacket(packet) }
        try! srtpOutbound!.protectRTCP(&buffer)
        return buffer
    }

    var isConnected: Bool { connection != nil }
}


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
