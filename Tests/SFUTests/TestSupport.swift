import DTLS
import Foundation
import MediasoupWire
import NIOCore
import RTP
import SRTP
import STUN
import Testing

@testable import SFU

/// Collects what the worker sends, per destination (the in-memory "socket").
final class MemorySink: DatagramSink {
    var sent: [(destination: TransportAddress, datagram: ByteBuffer)] = []

    func send(to destination: TransportAddress, capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        var buffer = ByteBuffer()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
            write(UnsafeMutableRawBufferPointer(rebasing: raw[0..<capacity]))
        }
        guard buffer.readableBytes > 0 else { return }
        sent.append((destination, buffer))
    }

    func take() -> [(destination: TransportAddress, datagram: ByteBuffer)] {
        defer { sent = [] }
        return sent
    }
}

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

/// A worker with one router and an in-memory network between it and its test peers.
final class Harness {
    let sink = MemorySink()
    let worker: SFUWorker
    let router: Router
    var now = NIODeadline.uptimeNanoseconds(10_000_000_000)
    var peers: [TransportAddress: TestPeer] = [:]
    private var nextPort: UInt16 = 40_000
    /// Datagrams the worker sent to addresses no peer has.
    var unroutable = 0
    /// Return true to lose a datagram on its way to a peer (destination, datagram).
    var lose: (TransportAddress, ByteBuffer) -> Bool = { _, _ in false }

    static let workerCertificate = try! DTLSCertificate(commonName: "sfu-worker")

    init() throws {
        worker = SFUWorker(
            certificate: Self.workerCertificate, sink: sink, settings: .init(announcedAddress: "127.0.0.1", port: 40_000))
        router = try Router.make(mediaCodecs: ORTC.msabMediaCodecs, worker: worker)
    }

    func advance(_ amount: TimeAmount) {
        now = now + amount
    }

    /// Sends one datagram from `source` to the worker.
    func send(_ datagram: ByteBuffer, from source: TransportAddress) {
        var copy = datagram
        worker.handleDatagram(&copy, from: source, now: now)
    }

    /// Delivers in both directions until nothing moves.
    func run(maxRounds: Int = 100) {
        for _ in 0..<maxRounds {
            var moved = false
            for (destination, datagram) in sink.take() {
                moved = true
                if lose(destination, datagram) { continue }
                if let peer = peers[destination] { peer.receive(datagram, now: now) } else { unroutable += 1 }
            }
            for peer in peers.values {
                peer.pump(now: now)
                let pending = peer.pendingDTLS
                peer.pendingDTLS = []
                for datagram in pending {
                    moved = true
                    send(datagram, from: peer.address)
                }
            }
            if !moved { return }
        }
    }

    /// A new transport with a connected peer. `peerRole` is the client's DTLS role: `.server`
    /// for a send transport (pymediasoup), `.client` for a receive transport.
    func connectedPeer(peerRole: DTLSEndpoint.Role) throws -> (peer: TestPeer, transportId: String) {
        let info = try router.createWebRtcTransport(now: now)
        nextPort += 1
        let peer = try TestPeer(address: TransportAddress(ipv4: 127, 0, 0, 1, port: nextPort), info: info, dtlsRole: peerRole)
        peers[peer.address] = peer
        send(peer.bindingRequest(), from: peer.address)
        run()
        peer.dtls.start(now: now)
        try router.connectTransport(info.id, dtlsParameters: peer.dtlsParameters, now: now)
        run()
        return (peer, info.id)
    }

    /// The pymediasoup capture this suite replays.
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MediasoupWireTests/Fixtures/produce-tone.json")
        let data = try! Data(contentsOf: url)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func fixtureValue<T: Decodable>(_ type: T.Type, _ path: String...) -> T {
        var value: Any = fixture
        for key in path { value = (value as! [String: Any])[key]! }
        let data = try! JSONSerialization.data(withJSONObject: value)
        return try! JSONDecoder().decode(T.self, from: data)
    }

    /// The producer's rtpParameters pymediasoup sent (PT 96, mid id 1, level id 2, ssrc 2659474323).
    static var produceParameters: RtpParameters { fixtureValue(RtpParameters.self, "produce_event", "rtpParameters") }
    /// What a pymediasoup device sends with `audio:consume`.
    static var deviceCapabilities: RtpCapabilities { fixtureValue(RtpCapabilities.self, "device_recvRtpCapabilities") }
}

/// A decoded view of a received RTP packet's fields, for assertions.
struct ReceivedRTP {
    var payloadType: UInt8
    var sequenceNumber: UInt16
    var timestamp: UInt32
    var ssrc: UInt32
    var payload: [UInt8]
    var extensions: [UInt8: [UInt8]]

    init?(_ bytes: [UInt8]) {
        var copy = bytes
        guard
            let value: ReceivedRTP = copy.withUnsafeMutableBytes({ raw in
                guard let view = RTPPacketView(raw) else { return nil }
                var extensions: [UInt8: [UInt8]] = [:]
                var iterator = view.extensionElements
                while let element = iterator.next() { extensions[element.id] = Array(raw[element.dataRange]) }
                return ReceivedRTP(
                    payloadType: view.payloadType, sequenceNumber: view.sequenceNumber, timestamp: view.timestamp, ssrc: view.ssrc,
                    payload: Array(raw[view.payloadRange]), extensions: extensions)
            })
        else { return nil }
        self = value
    }

    private init(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, payload: [UInt8], extensions: [UInt8: [UInt8]]) {
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
        self.extensions = extensions
    }
}
