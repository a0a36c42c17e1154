import DTLS
import MediasoupWire
import NIOCore
import NIOPosix
import RTP
import SFU
import SRTP
import STUN

/// A minimal WebRTC client for the SFU benchmarks, built from our own cores: ICE controlling side
/// (one binding request with USE-CANDIDATE), DTLS in the announced role, SRTP once keyed. On a
/// real UDP socket bound to 127.0.0.1; all state is confined to the socket's event loop.
final class SFUBenchPeer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    static let certificate = try! DTLSCertificate(commonName: "bench-peer")

    let info: WebRtcTransportInfo
    let role: DTLSEndpoint.Role
    private let dtls: DTLSEndpoint
    private let server: SocketAddress
    private(set) var channel: (any Channel)?
    private var srtpInbound: SRTPSession?
    private(set) var srtpOutbound: SRTPSession?
    /// RTP datagrams received (counted, not decrypted, unless `verify` is set).
    private(set) var rtpReceived = 0
    /// With `verify`, every packet is decrypted and failures counted.
    var verify = false
    private(set) var verifyFailures = 0
    private(set) var stunAnswered = false

    var isConnected: Bool { srtpOutbound != nil }

    init(info: WebRtcTransportInfo, role: DTLSEndpoint.Role) throws {
        self.info = info
        self.role = role
        let fingerprints = info.dtlsParameters.fingerprints.compactMap { DTLSFingerprint(algorithm: $0.algorithm.rawValue, value: $0.value) }
        self.dtls = try DTLSEndpoint(role: role, certificate: Self.certificate, remoteFingerprints: fingerprints)
        self.server = try SocketAddress(ipAddress: info.iceCandidates[0].address, port: Int(info.iceCandidates[0].port))
    }

    /// What `transport:connect` carries for this client.
    var dtlsParameters: DtlsParameters {
        DtlsParameters(
            role: role == .client ? .client : .server,
            fingerprints: [DtlsFingerprint(algorithm: "sha-256", value: Self.certificate.fingerprint(.sha256).value)])
    }

    /// Binds the socket.
    func bind(group: any EventLoopGroup) async throws {
        channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_rcvbuf), value: 256 * 1024)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(self) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Sends the ICE check and starts DTLS (on the peer's loop).
    func start() async throws {
        guard let channel else { return }
        try await channel.eventLoop.submit {
            var transactionID = [UInt8](repeating: 0, count: 12)
            for index in transactionID.indices { transactionID[index] = UInt8.random(in: 0...255) }
            var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: STUNTransactionID(bytes: transactionID)!)
            builder.addUsername("\(self.info.iceParameters.usernameFragment):bench")
            builder.addPriority(1_853_817_087)
            builder.addICEControlling(UInt64.random(in: 1...UInt64.max))
            builder.addUseCandidate()
            builder.addMessageIntegrity(key: Array(self.info.iceParameters.password.utf8))
            builder.addFingerprint()
            channel.write(AddressedEnvelope(remoteAddress: self.server, data: builder.buffer), promise: nil)
            self.dtls.start(now: .now())
            self.flushDTLS()
        }.get()
    }

    /// Sends one SRTP-protected Opus packet shaped like aiortc's (PT 96, mid id 1, level id 2).
    func sendOpus(sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32) {
        guard let channel, let srtp = srtpOutbound else { return }
        var buffer = channel.allocator.buffer(capacity: 128)
        buffer.writeBytes([0x90, 96])
        buffer.writeInteger(sequenceNumber)
        buffer.writeInteger(timestamp)
        buffer.writeInteger(ssrc)
        buffer.writeBytes([0xBE, 0xDE, 0x00, 0x01, 0x10, UInt8(ascii: "0"), 0x20, 0x80 | 30])
        buffer.writeRepeatingByte(0x5A, count: 80)  // a typical 32 kbit/s Opus frame
        guard (try? srtp.protectRTP(&buffer)) != nil else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: buffer), promise: nil)
    }

    func close() async {
        try? await channel?.close()
    }

    // MARK: - ChannelInboundHandler

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var datagram = unwrapInboundIn(data).data
        guard let first = datagram.getInteger(at: datagram.readerIndex, as: UInt8.self) else { return }
        switch first {
        case 0...3:
            stunAnswered = true
        case 20...63:
            dtls.handleDatagram(datagram, now: .now())
            flushDTLS()
            while let event = dtls.pollEvent() {
                guard case .connected(let connection) = event, let profile = SRTPProfile(rawValue: connection.profile.rawValue) else { continue }
                srtpInbound = try? SRTPSession(profile: profile, keyAndSalt: connection.remoteKeyingMaterial, direction: .inbound)
                srtpOutbound = try? SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
            }
        case 128...191:
            let second = datagram.getInteger(at: datagram.readerIndex + 1, as: UInt8.self) ?? 0
            guard !(192...223).contains(second) else { return }  // RTCP (SR/SDES): not counted
            rtpReceived += 1
            if verify, let srtp = srtpInbound {
                if (try? srtp.unprotectRTP(&datagram)) == nil { verifyFailures += 1 }
            }
        default:
            break
        }
    }

    private func flushDTLS() {
        guard let channel else { return }
        while let datagram = dtls.pollDatagram() {
            channel.write(AddressedEnvelope(remoteAddress: server, data: datagram), promise: nil)
        }
        channel.flush()
    }
}
