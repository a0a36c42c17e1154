import DTLS
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct DTLSEndpointTests {
    static func expectMatchingKeys(_ pair: DTLSPair, profile: DTLSSRTPProfile, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a = DTLSPair.connection(pair.a), let b = DTLSPair.connection(pair.b) else {
            Issue.record("not connected: a \(pair.a.state), b \(pair.b.state)", sourceLocation: sourceLocation)
            return
        }
        #expect(a.profile == profile, sourceLocation: sourceLocation)
        #expect(b.profile == profile, sourceLocation: sourceLocation)
        #expect(a.localKeyingMaterial.count == profile.keyLength + profile.saltLength, sourceLocation: sourceLocation)
        #expect(a.localKeyingMaterial == b.remoteKeyingMaterial, sourceLocation: sourceLocation)
        #expect(a.remoteKeyingMaterial == b.localKeyingMaterial, sourceLocation: sourceLocation)
        #expect(a.localKeyingMaterial != a.remoteKeyingMaterial, sourceLocation: sourceLocation)
        #expect(a.localKeyingMaterial.contains { $0 != 0 }, sourceLocation: sourceLocation)
    }

    @Test(arguments: [DTLSEndpoint.Role.client, .server])
    func fullHandshakeBothRoles(aRole: DTLSEndpoint.Role) throws {
        let pair = try DTLSPair.make(aRole: aRole)
        #expect(pair.a.state == .new)
        pair.start()
        #expect(pair.a.state == .connecting)
        pair.run()
        #expect(pair.bothConnected)
        Self.expectMatchingKeys(pair, profile: .aeadAES256GCM)
        #expect(pair.a.pollEvent().map { if case .connected = $0 { true } else { false } } == true)
        #expect(pair.a.pollEvent() == nil)
        #expect(DTLSPair.connection(pair.a)?.remoteFingerprint == DTLSPair.certificateB.fingerprint(.sha256))
        // The handshake is done: no timer runs any more.
        #expect(pair.a.pollTimeout() == nil)
        #expect(pair.b.pollTimeout() == nil)
    }

    @Test(arguments: [DTLSEndpoint.Role.client, .server])
    func dripFeedHandshake(aRole: DTLSEndpoint.Role) throws {
        let pair = try DTLSPair.make(aRole: aRole)
        pair.start()
        let steps = pair.run(dripFeed: true)
        #expect(pair.bothConnected)
        Self.expectMatchingKeys(pair, profile: .aeadAES256GCM)
        // Each step carried one datagram (OpenSSL packs a flight into as few datagrams as the
        // MTU allows): at least the four flights of a full DTLS 1.2 handshake.
        #expect(steps == pair.sent[.a]!.count + pair.sent[.b]!.count)
        #expect(steps >= 4)
        // Datagram boundaries: each datagram is one or more whole DTLS records within the MTU.
        for datagram in pair.sent[.a]! + pair.sent[.b]! {
            #expect(datagram.readableBytes <= DTLSEndpoint.mtu)
            var view = datagram
            while view.readableBytes > 0 {
                guard let header = view.readBytes(length: 13) else {
                    Issue.record("truncated record header")
                    break
                }
                #expect((20...25).contains(header[0]))
                // DTLS 1.2, or DTLS 1.0 in the ClientHello's record layer (RFC 6347 §4.1).
                #expect(header[1] == 0xFE && (header[2] == 0xFD || header[2] == 0xFF))
                let length = Int(header[11]) << 8 | Int(header[12])
                #expect(view.readBytes(length: length) != nil)
            }
        }
    }

    @Test func negotiatesTheProfileBothOffer() throws {
        let pair = try DTLSPair.make(aRole: .client, aProfiles: [.aes128CMHMACSHA1_80], bProfiles: DTLSSRTPProfile.defaultOffer)
        pair.start()
        pair.run()
        Self.expectMatchingKeys(pair, profile: .aes128CMHMACSHA1_80)

        let gcm128 = try DTLSPair.make(aRole: .server, aProfiles: [.aeadAES128GCM, .aes128CMHMACSHA1_32], bProfiles: [.aeadAES128GCM])
        gcm128.start()
        gcm128.run()
        Self.expectMatchingKeys(gcm128, profile: .aeadAES128GCM)
    }

    @Test func noCommonProfileFails() throws {
        let pair = try DTLSPair.make(aRole: .client, aProfiles: [.aes128CMHMACSHA1_80], bProfiles: [.aeadAES256GCM])
        pair.start()
        pair.run()
        guard case .failed(let error) = pair.a.state else {
            Issue.record("client should fail, is \(pair.a.state)")
            return
        }
        #expect(error.type == .noSRTPProfile)
    }

    @Test func fingerprintArrivingAfterTheHandshakeConnectsThen() throws {
        let pair = try DTLSPair.make(aRole: .server, aKnowsB: [], bKnowsA: [])
        pair.start()
        pair.run()
        #expect(pair.a.state == .connecting)
        #expect(pair.b.state == .connecting)
        #expect(pair.a.pollEvent() == nil)
        // aiortc signals sha-512, Chrome sha-256: verify with whatever the peer named.
        try pair.a.setRemoteFingerprint(algorithm: "sha-512", value: DTLSPair.certificateB.fingerprint(.sha512).value)
        pair.b.setRemoteFingerprint(DTLSPair.certificateA.fingerprint(.sha1))
        #expect(pair.bothConnected)
        Self.expectMatchingKeys(pair, profile: .aeadAES256GCM)
        #expect(DTLSPair.connection(pair.a)?.remoteFingerprint.algorithm == .sha512)
    }

    @Test(arguments: [DTLSEndpoint.Role.client, .server])
    func wrongFingerprintFails(aRole: DTLSEndpoint.Role) throws {
        // A expects some other certificate's fingerprint.
        let stranger = try DTLSCertificate(commonName: "stranger")
        let pair = try DTLSPair.make(aRole: aRole, aKnowsB: [stranger.fingerprint(.sha256)])
        pair.start()
        pair.run()
        guard case .failed(let error) = pair.a.state else {
            Issue.record("A should fail, is \(pair.a.state)")
            return
        }
        #expect(error.type == .fingerprintMismatch)
        #expect(pair.a.pollEvent() == .failed(error))
        // Late verification fails the same way.
        let late = try DTLSPair.make(aRole: aRole, aKnowsB: [])
        late.start()
        late.run()
        late.a.setRemoteFingerprint(stranger.fingerprint(.sha512))
        guard case .failed(let lateError) = late.a.state else {
            Issue.record("A should fail late, is \(late.a.state)")
            return
        }
        #expect(lateError.type == .fingerprintMismatch)
    }

    @Test func malformedFingerprintIsRejected() throws {
        let pair = try DTLSPair.make()
        #expect(throws: DTLSError.self) { try pair.a.setRemoteFingerprint(algorithm: "md5", value: "AB:CD") }
        #expect(throws: DTLSError.self) { try pair.a.setRemoteFingerprint(algorithm: "sha-256", value: "AB:CD") }
    }

    /// Loses the first flight of one side; the sender's retransmission timer recovers it.
    /// OpenSSL runs that timer on its own clock, so the test waits (briefly) in real time.
    @Test(arguments: [DTLSPair.Side.a, .b], [DTLSEndpoint.Role.client, .server])
    func lostFirstFlightIsRetransmitted(loser: DTLSPair.Side, aRole: DTLSEndpoint.Role) throws {
        let pair = try DTLSPair.make(aRole: aRole, initialTimeout: .milliseconds(30))
        // Drop the first flight `loser` sends: the first datagrams it produces before hearing back.
        var droppedIndices: Set<Int> = []
        var loserHeardBack = false
        pair.drop = { side, index in
            guard side == loser, !loserHeardBack else { return false }
            droppedIndices.insert(index)
            return true
        }
        pair.start()
        // Run until nothing moves.
        pair.collect()
        let clientSide: DTLSPair.Side = aRole == .client ? .a : .b
        if loser == clientSide {
            // ClientHello lost: the server has nothing to answer.
            loserHeardBack = true
        } else {
            // Server's flight lost: deliver the ClientHello, collect (drop) the answer.
            pair.run()
            loserHeardBack = true
        }
        #expect(!droppedIndices.isEmpty)
        #expect(!pair.bothConnected)
        for _ in 0..<20 where !pair.bothConnected {
            let deadlines = [pair.a.pollTimeout(), pair.b.pollTimeout()].compactMap { $0 }
            guard let deadline = deadlines.min() else { break }
            let wait = max(deadline - pair.now, .zero) + .milliseconds(5)
            usleep(UInt32(wait.nanoseconds / 1000))
            pair.now = deadline
            pair.a.handleTimeout(now: pair.now)
            pair.b.handleTimeout(now: pair.now)
            pair.run()
        }
        #expect(pair.bothConnected)
        Self.expectMatchingKeys(pair, profile: .aeadAES256GCM)
        #expect(pair.sent[loser]!.count > droppedIndices.count)  // something was sent again
    }

    @Test func garbageIsIgnored() throws {
        let pair = try DTLSPair.make(aRole: .client)
        var generator = SystemRandomNumberGenerator()
        func garbage(_ first: UInt8) -> ByteBuffer {
            var bytes = (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = first
            return ByteBuffer(bytes: bytes)
        }
        // Before start: non-DTLS is dropped; DTLS-looking bytes are held for start.
        pair.b.handleDatagram(garbage(0x80), now: pair.now)
        pair.b.handleDatagram(ByteBuffer(), now: pair.now)
        pair.start()
        for first in [UInt8(0), 1, 3, 64, 127, 128, 191, 200, 255] {
            pair.a.handleDatagram(garbage(first), now: pair.now)
            pair.b.handleDatagram(garbage(first), now: pair.now)
        }
        // Records with a DTLS content type but random contents (bad version / length / epoch)
        // are discarded by the record layer (RFC 6347 §4.1.2.7).
        for _ in 0..<50 {
            var junk = (0..<Int.random(in: 13...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            junk[0] = UInt8.random(in: 20...63, using: &generator)
            junk[1] = 0x01  // not a DTLS version
            pair.b.handleDatagram(ByteBuffer(bytes: junk), now: pair.now)
        }
        pair.run()
        #expect(pair.bothConnected)
        Self.expectMatchingKeys(pair, profile: .aeadAES256GCM)
        #expect(pair.a.droppedDatagrams[.notDTLS] == 9)
        #expect(pair.b.droppedDatagrams[.notDTLS] == 11)
        // And after the handshake.
        for _ in 0..<50 {
            pair.a.handleDatagram(garbage(UInt8.random(in: 0...255, using: &generator)), now: pair.now)
        }
        #expect(DTLSPair.connection(pair.a) != nil)
    }

    @Test func clientHelloBeforeStartIsHeld() throws {
        let pair = try DTLSPair.make(aRole: .client)
        pair.a.start(now: pair.now)
        pair.collect()
        // B (server) receives the ClientHello before transport:connect started it.
        pair.run()
        #expect(pair.b.state == .new)
        #expect(pair.b.pollDatagram() == nil)
        pair.b.start(now: pair.now)
        pair.run()
        #expect(pair.bothConnected)
    }

    @Test(arguments: [DTLSPair.Side.a, .b])
    func closeNotifyClosesThePeer(closer: DTLSPair.Side) throws {
        let pair = try DTLSPair.make(aRole: .client)
        pair.start()
        pair.run()
        #expect(pair.bothConnected)
        _ = pair.a.pollEvent()
        _ = pair.b.pollEvent()
        let other: DTLSPair.Side = closer == .a ? .b : .a
        pair.endpoint(closer).close()
        #expect(pair.endpoint(closer).state == .closed)
        #expect(pair.endpoint(closer).pollEvent() == .closed)
        pair.run()
        #expect(pair.endpoint(other).state == .closed)
        #expect(pair.endpoint(other).pollEvent() == .closed)
        // Datagrams after the end are counted, not processed.
        pair.endpoint(other).handleDatagram(ByteBuffer(bytes: [22, 0xFE, 0xFD]), now: pair.now)
        #expect(pair.endpoint(other).droppedDatagrams[.terminated] == 1)
    }

    @Test func silentPeerExhaustsRetransmissions() throws {
        let client = try DTLSEndpoint(
            role: .client, certificate: DTLSPair.certificateA, remoteFingerprints: [DTLSPair.certificateB.fingerprint(.sha256)],
            initialRetransmitTimeout: .milliseconds(4), maximumRetransmitTimeout: .milliseconds(8))
        var now = NIODeadline.uptimeNanoseconds(0)
        client.start(now: now)
        var sent = 0
        while client.pollDatagram() != nil { sent += 1 }
        for _ in 0..<200 {
            guard case .connecting = client.state, let deadline = client.pollTimeout() else { break }
            usleep(10_000)
            now = max(now, deadline)
            client.handleTimeout(now: now)
            while client.pollDatagram() != nil { sent += 1 }
        }
        guard case .failed(let error) = client.state else {
            Issue.record("expected failure, state \(client.state)")
            return
        }
        #expect(error.type == .retransmissionsExhausted, "\(error)")
        #expect(sent > 5)  // the ClientHello went out several times
    }
}
