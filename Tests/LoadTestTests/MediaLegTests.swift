import DTLS
import ICELite
import NIOCore
import SRTP
import STUN
import Testing

@testable import LoadTest

/// The load test's client leg against msab's own server cores, wired in memory (no sockets):
/// ICE-lite responder + DTLS server endpoint + SRTP, as the SFU runs them.
@Suite("MediaLeg: controlling ICE → DTLS client → SRTP, against ICELiteServer and a DTLS server in memory")
struct MediaLegTests {
    static let ufrag = "srvUfrag12345678"
    static let password = "srvPassword1234567890abc"
    static let clientAddress = TransportAddress(ipv4: 127, 0, 0, 1, port: 50_000)

    @Test("DTLS waits for transport:connect; then every packet's SRTP tag is checked")
    func endToEnd() throws {
        var generator = SystemRandomNumberGenerator()
        let now = NIODeadline.now()
        let serverCertificate = try DTLSCertificate(commonName: "server")
        let clientCertificate = try DTLSCertificate(commonName: "client")
        var ice = try ICELiteServer(usernameFragment: Self.ufrag, password: Self.password)
        let server = try DTLSEndpoint(role: .server, certificate: serverCertificate, remoteFingerprints: [clientCertificate.fingerprint(.sha256)])
        server.start(now: now)
        let leg = MediaLeg(
            ice: ICEControllingAgent(
                credentials: .init(localUsernameFragment: "c1", remoteUsernameFragment: Self.ufrag, remotePassword: Self.password),
                tieBreaker: 1),
            dtls: try DTLSEndpoint(role: .client, certificate: clientCertificate, remoteFingerprints: [serverCertificate.fingerprint(.sha256)]),
            remote: try SocketAddress(ipAddress: "127.0.0.1", port: 40_000))

        var events: [MediaLeg.Event] = []
        /// Runs the wire until nothing moves: client datagrams to the server cores, answers back.
        func pump() {
            for _ in 0..<20 {
                let outgoing = leg.takePending()
                var answers: [ByteBuffer] = []
                for datagram in outgoing {
                    switch datagram.readableBytesView.first ?? 0 {
                    case 0...3:
                        switch ice.receivedDatagram(datagram, from: Self.clientAddress, now: now) {
                        case .respond(let response, _), .respondAndSelect(let response, _, _): answers.append(response)
                        case .reject, .drop: break
                        }
                    default:
                        server.handleDatagram(datagram, now: now)
                        while let reply = server.pollDatagram() { answers.append(reply) }
                    }
                }
                for answer in answers { events += leg.receive(answer, from: leg.remote, now: now) }
                if outgoing.isEmpty && answers.isEmpty { return }
            }
        }

        leg.start(now: now, using: &generator)
        pump()
        #expect(events.contains { if case .iceConnected = $0 { true } else { false } })
        #expect(leg.dtls.state == .new)  // no ClientHello before the server knows its role
        events += leg.signallingConnected(now: now)
        pump()
        #expect(events.contains { if case .dtlsConnected = $0 { true } else { false } })
        guard case .connected(let connection) = server.state, let profile = SRTPProfile(rawValue: connection.profile.rawValue) else {
            Issue.record("server DTLS not connected: \(server.state)")
            return
        }

        // The SFU's side protects; the leg verifies and reports the RTP header.
        let protect = try SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
        var packetizer = OpusPacketizer(ssrc: 0x1234_5678, sequenceNumber: 7, timestamp: 960)
        var packet = packetizer.next(reservingCapacity: profile.rtpOverhead)
        try protect.protectRTP(&packet)
        let received = leg.receive(packet, from: leg.remote, now: now)
        guard case .rtp(let sequence, let timestamp, let ssrc)? = received.first else {
            Issue.record("no RTP event: \(received)")
            return
        }
        #expect(sequence == 7 && timestamp == 960 && ssrc == 0x1234_5678)

        // One flipped bit in the payload: the tag no longer verifies, nothing is reported.
        var tampered = packetizer.next(reservingCapacity: profile.rtpOverhead)
        try protect.protectRTP(&tampered)
        let index = tampered.readerIndex + 20
        tampered.setInteger(tampered.getInteger(at: index, as: UInt8.self)! ^ 1, at: index)
        #expect(leg.receive(tampered, from: leg.remote, now: now).isEmpty)
        #expect(leg.drops.srtpAuthentication == 1)

        // A replayed packet is refused by the replay window.
        #expect(leg.receive(packet, from: leg.remote, now: now).isEmpty)
    }
}
