import DTLS
import Foundation
import MediasoupWire
import NIOCore
import RTP
import SFUTestSupport
import SRTP
import STUN
import TestSupport
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

/// A worker with one router and an in-memory network between it and its test peers.
final class Harness {
    let sink = MemorySink()
    let worker: SFUWorker
    let router: Router
    var now = NIODeadline.uptimeNanoseconds(10_000_000_000)
    var peers: [TransportAddress: TestPeer] = [:]
    private var nextPort: UInt16
    /// The worker's own address (its one UDP port).
    let address: TransportAddress
    /// Other workers reachable from this one (pipe transports): datagrams to their address are
    /// handed to them as coming from ours.
    var links: [TransportAddress: Harness] = [:]
    /// Datagrams the worker sent to addresses no peer has.
    var unroutable = 0
    /// Return true to lose a datagram on its way to a peer (destination, datagram).
    var lose: (TransportAddress, ByteBuffer) -> Bool = { _, _ in false }

    static let workerCertificate = try! DTLSCertificate(commonName: "sfu-worker")

    /// `seed`: the worker's random numbers (ids, SSRCs, ICE credentials, keys) come from a
    /// ``SeededGenerator`` (TestSupport) instead of the system CSPRNG, so they repeat from run to run.
    init(port: UInt16 = 40_000, seed: UInt64? = nil) throws {
        nextPort = port
        address = TransportAddress(ipv4: 127, 0, 0, 1, port: port)
        worker = SFUWorker(
            certificate: Self.workerCertificate, sink: sink, settings: .init(announcedAddress: "127.0.0.1", port: Int(port)),
            random: seed.map { SeededGenerator(seed: $0) } ?? SystemRandomNumberGenerator())
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
                if let peer = peers[destination] {
                    peer.receive(datagram, now: now)
                } else if let other = links[destination] {
                    other.send(datagram, from: address)
                } else {
                    unroutable += 1
                }
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
