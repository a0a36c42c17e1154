// Test support shared by SFUTests (in memory) and SFUServerTests (over UDP): a WebRTC client
// built from our own protocol cores. Not part of the product.
public import DTLS
import Foundation
public import MediasoupWire
public import NIOCore
public import RTP
import SFU
public import SRTP
public import STUN

/// A WebRTC client made of our own cores: an ICE controlling side (binding requests with
/// USE-CANDIDATE), a DTLSEndpoint in the role it announces, SRTP sessions once keyed.
public final class TestPeer {
    public static let certificate = try! DTLSCertificate(commonName: "test-peer")

    public let address: TransportAddress
    public let info: WebRtcTransportInfo
    public let dtlsRole: DTLSEndpoint.Role
    public let dtls: DTLSEndpoint
    public var srtpInbound: SRTPSession?
    public var srtpOutbound: SRTPSession?
    public var connection: DTLSConnection?
    /// Every datagram the worker sent us, raw.
    public var received: [ByteBuffer] = []
    /// STUN responses received.
    public var stunResponses: [STUNMessage] = []
    /// Decrypted RTP (full packets), in arrival order.
    public var rtp: [[UInt8]] = []
    /// Decrypted RTCP packets.
    public var rtcp: [RTCPPacket] = []
    public var srtpFailures = 0
    /// Outgoing DTLS not yet delivered.
    public var pendingDTLS: [ByteBuffer] = []

    public init(address: TransportAddress, info: WebRtcTransportInfo, dtlsRole: DTLSEndpoint.Role) throws {
        self.address = address
        self.info = info
        self.dtlsRole = dtlsRole
        let fingerprint = info.dtlsParameters.fingerprints.compactMap { DTLSFingerprint(algorithm: $0.algorithm.rawValue, value: $0.value) }
        self.dtls = try DTLSEndpoint(role: dtlsRole, certificate: Self.certificate, remoteFingerprints: fingerprint)
    }

    /// What the client sends in `transport:connect`: its role and (like aiortc) a sha-512 fingerprint.
    public var dtlsParameters: DtlsParameters {
        DtlsParameters(
            role: dtlsRole == .client ? .client : .server,
            fingerprints: [DtlsFingerprint(algorithm: "sha-512", value: Self.certificate.fingerprint(.sha512).value)])
    }

    /// An ICE connectivity check (RFC 8445 §7.2.4) as a controlling full agent sends it.
    public func bindingRequest(useCandidate: Bool = true, password: String? = nil, username: String? = nil) -> ByteBuffer {
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

    public func receive(_ datagram: ByteBuffer, now: NIODeadline) {
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
    public func pump(now: NIODeadline) {
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
    public func opusPacket(
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

    public static func payload(_ sequenceNumber: UInt16) -> [UInt8] {
        (0..<60).map { UInt8(truncatingIfNeeded: Int(sequenceNumber) &* 7 &+ $0) }
    }

    public func rtcpPacket(_ packets: [RTCPPacket]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for packet in packets { buffer.writeRTCPPacket(packet) }
        try! srtpOutbound!.protectRTCP(&buffer)
        return buffer
    }

    public var isConnected: Bool { connection != nil }
}
