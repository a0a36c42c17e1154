import DTLS
import MediasoupWire
import NIOCore
import SFUTestSupport
import STUN
import Testing

@testable import SFU

/// ICE-TCP (RFC 6544) in the sans-I/O core: a TCP connection is a tuple of its own, demultiplexed
/// like a UDP source.
@Suite struct ICETCPTests {
    @Test func candidatesOfferPassiveTCPBelowEveryUDPCandidate() {
        let candidates = Router.hostCandidates(addresses: ["192.0.2.2", "127.0.0.1"], port: 40_000, tcp: true)
        #expect(candidates.map(\.protocol) == [.udp, .udp, .tcp, .tcp])
        #expect(candidates.map(\.tcpType) == [nil, nil, .passive, .passive])
        #expect(candidates.map(\.foundation) == ["udpcandidate", "udpcandidate1", "tcpcandidate", "tcpcandidate1"])
        #expect(candidates.allSatisfy { $0.port == 40_000 })
        let lowestUDP = candidates.filter { $0.protocol == .udp }.map(\.priority).min()!
        #expect(candidates.filter { $0.protocol == .tcp }.allSatisfy { $0.priority < lowestUDP })
        #expect(Router.hostCandidates(addresses: ["127.0.0.1"], port: 40_000).count == 1)
    }

    @Test func tcpAndUDPTuplesOfOneAddressAreDifferent() {
        let udp = TransportAddress(ipv4: 10, 0, 0, 1, port: 5_000)
        let tcp = udp.with(tcp: true)
        #expect(udp != tcp)
        #expect(tcp.with(tcp: false) == udp)
        #expect(Set([udp, tcp]).count == 2)
        #expect("\(tcp)" == "10.0.0.1:5000/tcp")
    }

    @Test func aTCPTupleConnectsDTLSAndAUDPDatagramFromTheSamePortIsNotItsTuple() throws {
        let harness = try Harness()
        let info = try harness.router.createWebRtcTransport(now: harness.now)
        let tcp = TransportAddress(ipv4: 127, 0, 0, 1, port: 50_000).with(tcp: true)
        let peer = try TestPeer(address: tcp, info: info, dtlsRole: .client)
        harness.peers[peer.address] = peer
        // The binding request arrives framed, one byte per read, through the framer.
        var framer = RFC4571Framer()
        var stream = ByteBuffer()
        let framed = peer.bindingRequest().withUnsafeReadableBytes { RFC4571Framer.frame($0, into: &stream) }
        #expect(framed)
        for byte in stream.readableBytesView {
            var read = ByteBuffer(bytes: [byte])
            framer.append(&read)
            while var frame = try framer.nextFrame() {
                harness.worker.handleTCPFrame(&frame, from: tcp.with(tcp: false), now: harness.now)
            }
        }
        #expect(harness.worker.hasPassedICECheck(tcp))
        #expect(!harness.worker.hasPassedICECheck(tcp.with(tcp: false)))
        harness.run()
        #expect(peer.stunResponses.count == 1)
        peer.dtls.start(now: harness.now)
        try harness.router.connectTransport(info.id, dtlsParameters: peer.dtlsParameters, now: harness.now)
        harness.run()
        #expect(peer.isConnected)
        #expect(try harness.router.transport(info.id).state == .connected)
        #expect(try harness.router.transport(info.id).stats.remoteAddress == "127.0.0.1:50000/tcp")

        // DTLS from the UDP port with the same number is another tuple: dropped.
        let before = harness.worker.counters[.unknownTuple]
        harness.send(ByteBuffer(bytes: [22, 0xFE, 0xFD] + Array(repeating: 0, count: 20)), from: tcp.with(tcp: false))
        #expect(harness.worker.counters[.unknownTuple] == before + 1)

        // The connection closes: its tuple leaves the demux.
        #expect(harness.worker.tcpConnectionOpened(from: tcp))
        harness.worker.tcpConnectionClosed(from: tcp)
        #expect(!harness.worker.hasPassedICECheck(tcp))
    }

    @Test func connectionsAreBoundedPerWorkerAndPerAddress() throws {
        var limits = ICETCPAdmission.Limits()
        limits.maxConnections = 3
        limits.maxConnectionsPerAddress = 2
        var admission = ICETCPAdmission(limits: limits)
        let a1 = TransportAddress(ipv4: 10, 0, 0, 1, port: 1).with(tcp: true)
        let a2 = TransportAddress(ipv4: 10, 0, 0, 1, port: 2).with(tcp: true)
        let a3 = TransportAddress(ipv4: 10, 0, 0, 1, port: 3).with(tcp: true)
        let b1 = TransportAddress(ipv4: 10, 0, 0, 2, port: 1).with(tcp: true)
        let c1 = TransportAddress(ipv4: 10, 0, 0, 3, port: 1).with(tcp: true)
        let results = [a1, a2, a3, b1, c1].map { admission.admit($0) }
        #expect(results == [true, true, false, true, false])  // a3: per address, c1: per worker
        admission.release(a1)
        let again = admission.admit(a3)
        #expect(again)
        #expect(admission.connectionCount == 3)
        admission.release(c1)  // never admitted from there: no effect on others
        #expect(admission.connectionCount == 3)

        let harness = try Harness()
        harness.worker.settings.tcpLimits = limits
        for port in 1...2 {
            #expect(harness.worker.tcpConnectionOpened(from: TransportAddress(ipv4: 10, 0, 0, 9, port: UInt16(port)).with(tcp: true)))
        }
        #expect(!harness.worker.tcpConnectionOpened(from: TransportAddress(ipv4: 10, 0, 0, 9, port: 3).with(tcp: true)))
        #expect(harness.worker.counters[.tcpConnectionLimit] == 1)
    }
}
