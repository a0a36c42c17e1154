import DTLS
import NIOCore
import Testing

/// Two endpoints wired in memory (the swift-nio-ssh / pion style): both role assignments, a
/// one-datagram-at-a-time drip feed, a lost flight recovered by retransmission, a wrong fingerprint.
@Suite struct DTLSHandshakeTests {
    static func pair() throws -> (client: DTLSEndpoint, server: DTLSEndpoint, clientCert: DTLSCertificate, serverCert: DTLSCertificate) {
        let clientCert = try DTLSCertificate(), serverCert = try DTLSCertificate()
        let client = DTLSEndpoint(role: .client, certificate: clientCert)
        let server = DTLSEndpoint(role: .server, certificate: serverCert)
        client.setRemoteFingerprint(algorithm: "sha-256", value: serverCert.fingerprint("sha-256")!)
        server.setRemoteFingerprint(algorithm: "sha-512", value: clientCert.fingerprint("sha-512")!)
        return (client, server, clientCert, serverCert)
    }

    /// Moves datagrams between the two until neither has anything to say; `drop` may discard one.
    static func interact(_ a: DTLSEndpoint, _ b: DTLSEndpoint, rounds: Int = 50, drop: (Int) -> Bool = { _ in false }) {
        var index = 0
        for _ in 0..<rounds {
            var moved = false
            if let d = a.pollDatagram() {
                moved = true
                if !drop(index) { d.withUnsafeReadableBytes { b.handleDatagram($0) } }
                index += 1
            }
            if let d = b.pollDatagram() {
                moved = true
                if !drop(index) { d.withUnsafeReadableBytes { a.handleDatagram($0) } }
                index += 1
            }
            if !moved { break }
        }
    }

    static func keys(_ endpoint: DTLSEndpoint) -> SRTPKeyingMaterial? {
        if case .connected(let keys) = endpoint.state { return keys }
        return nil
    }

    @Test func handshakeExportsMatchingSRTPKeys() throws {
        let (client, server, _, _) = try Self.pair()
        client.start()
        Self.interact(client, server)
        let c = try #require(Self.keys(client)), s = try #require(Self.keys(server))
        #expect(c.profile == .aeadAES256GCM && s.profile == c.profile)
        #expect(c.localKeyAndSalt == s.remoteKeyAndSalt && c.remoteKeyAndSalt == s.localKeyAndSalt)
        #expect(c.localKeyAndSalt.count == 44 && c.localKeyAndSalt != c.remoteKeyAndSalt)
    }

    @Test func dripFeedOneDatagramAtATime() throws {
        let (client, server, _, _) = try Self.pair()
        client.start()
        var pending: [(to: DTLSEndpoint, bytes: [UInt8])] = []
        for _ in 0..<200 {
            while let d = client.pollDatagram() { pending.append((server, Array(d.readableBytesView))) }
            while let d = server.pollDatagram() { pending.append((client, Array(d.readableBytesView))) }
            guard !pending.isEmpty else { break }
            let next = pending.removeFirst()
            next.bytes.withUnsafeBytes { next.to.handleDatagram($0) }
        }
        #expect(Self.keys(client) != nil && Self.keys(server) != nil)
    }

    @Test func lostFlightIsRetransmitted() async throws {
        let (client, server, _, _) = try Self.pair()
        client.start()
        // The ClientHello is lost.
        _ = client.pollDatagram()
        #expect(client.pollTimeoutMs() != nil)
        for _ in 0..<40 where Self.keys(client) == nil {
            try await Task.sleep(for: .milliseconds(100))
            if client.pollTimeoutMs() == 0 { client.handleTimeout() }
            Self.interact(client, server)
        }
        #expect(Self.keys(client) != nil && Self.keys(server) != nil)
    }

    @Test func wrongFingerprintFails() throws {
        let clientCert = try DTLSCertificate(), serverCert = try DTLSCertificate(), other = try DTLSCertificate()
        let client = DTLSEndpoint(role: .client, certificate: clientCert)
        let server = DTLSEndpoint(role: .server, certificate: serverCert)
        client.setRemoteFingerprint(algorithm: "sha-256", value: other.fingerprint("sha-256")!)
        server.setRemoteFingerprint(algorithm: "sha-256", value: clientCert.fingerprint("sha-256")!)
        client.start()
        Self.interact(client, server)
        if case .failed = client.state {} else { Issue.record("client accepted a certificate with the wrong fingerprint: \(client.state)") }
    }

    @Test func garbageIsIgnored() throws {
        let (client, server, _, _) = try Self.pair()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let junk = (0..<Int.random(in: 1..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            junk.withUnsafeBytes { server.handleDatagram($0) }
        }
        _ = client
    }

    @Test func fingerprintFormat() throws {
        let cert = try DTLSCertificate()
        let fp = try #require(cert.fingerprint("sha-256"))
        #expect(fp.count == 32 * 3 - 1 && fp.split(separator: ":").count == 32 && fp == fp.uppercased())
        #expect(cert.fingerprint("sha-512")?.split(separator: ":").count == 64)
        #expect(cert.fingerprint("md5") == nil)
    }
}
