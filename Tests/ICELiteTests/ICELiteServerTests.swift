import ICELite
import NIOCore
import STUN
import TestSupport
import Testing

@Suite("ICELiteServer (RFC 8445 §2.5, §7.3; RFC 7675)")
struct ICELiteServerTests {
    static let ufrag = "msabUfrag1234567"
    static let password = "Rq7x2bKp9LmN4vS8tW1yZ3aC"
    static let peer = TransportAddress(ipv4: 127, 0, 0, 1, port: 50_000)
    static let peer2 = TransportAddress(ipv4: 192, 168, 1, 20, port: 50_002)
    static let peer6 = TransportAddress(ipv6High: 0xFE80_0000_0000_0000, low: 0x1, port: 50_004)

    static func makeServer(_ configuration: ICELiteServer.Configuration = .init()) throws -> ICELiteServer {
        try ICELiteServer(usernameFragment: ufrag, password: password, configuration: configuration)
    }

    /// Checks a success response: same transaction, XOR-MAPPED-ADDRESS = source, integrity with
    /// the local password, fingerprint.
    static func expectSuccess(_ action: ICELiteServer.ReceivedBindingAction, to source: TransportAddress, transactionID: STUNTransactionID) throws {
        let buffer = try #require(action.response)
        let message = try STUNMessage(datagram: buffer)
        #expect(message.type == .bindingSuccessResponse)
        #expect(message.transactionID == transactionID)
        #expect(message.xorMappedAddress == source)
        #expect(message.checkMessageIntegrity(key: Array(password.utf8)) == .valid)
        #expect(message.checkFingerprint() == .valid)
    }

    static func expectError(_ action: ICELiteServer.ReceivedBindingAction, code: Int, reason: ICEDropReason, authenticated: Bool) throws {
        guard case .reject(let buffer, _, let actual) = action else {
            Issue.record("expected a \(code) rejection, got \(action)")
            return
        }
        #expect(actual == reason)
        let message = try STUNMessage(datagram: buffer)
        #expect(message.type == .bindingErrorResponse)
        #expect(message.errorCode?.code == code)
        #expect(message.checkMessageIntegrity(key: Array(password.utf8)) == (authenticated ? .valid : .absent))
        #expect(message.checkFingerprint() == .valid)
    }

    // MARK: - Real aioice requests

    /// Binding requests encoded by aioice 0.13.0 (the ICE agent inside aiortc/pymediasoup), with
    /// `stun.Message(BINDING, REQUEST, transaction_id=…)`, USERNAME "msabUfrag1234567:aioi",
    /// PRIORITY 1853824767, ICE-CONTROLLING 0x1122334455667788, then `add_message_integrity(pwd)`
    /// and `add_fingerprint()`; transaction ids 01…0c, 0d…18, 19…24.
    static let aioiceNominating = bytes(
        "000100542112a4420102030405060708090a0b0c000600156d7361625566726167313233343536373a61696f69000000002400046e7f1eff802a000811223344556677880025000000080014c49c1c2bb78fcb22bc682813401de6a5f49dfcb18028000402a2e266"
    )
    static let aioicePlain = bytes(
        "000100502112a4420d0e0f101112131415161718000600156d7361625566726167313233343536373a61696f69000000002400046e7f1eff802a00081122334455667788000800142baed1a9bf3d491fd00a10d5a9ce56163379ef8d80280004d90769a8"
    )
    /// The same with ICE-CONTROLLED instead of ICE-CONTROLLING (aioice as the controlled side).
    static let aioiceControlled = bytes(
        "000100502112a442191a1b1c1d1e1f2021222324000600156d7361625566726167313233343536373a61696f69000000002400046e7f1eff80290008112233445566778800080014dfb9bfa0b35a9071c109ce51e154ba33c23cebd2802800041242dbc8"
    )

    @Test("aioice: a plain check connects, a nominating check completes")
    func aioiceChecks() throws {
        var server = try Self.makeServer()
        let plain = server.receivedDatagram(ByteBuffer(bytes: Self.aioicePlain), from: Self.peer, now: at(0))
        guard case .respondAndSelect(_, let to, let state) = plain else {
            Issue.record("\(plain)")
            return
        }
        #expect(to == Self.peer)
        #expect(state == .connected)
        try Self.expectSuccess(plain, to: Self.peer, transactionID: STUNTransactionID(bytes: Array(13...24))!)

        let nominating = server.receivedDatagram(ByteBuffer(bytes: Self.aioiceNominating), from: Self.peer, now: at(1))
        #expect(nominating.isRespondAndSelect(to: Self.peer, state: .completed))
        try Self.expectSuccess(nominating, to: Self.peer, transactionID: STUNTransactionID(bytes: Array(1...12))!)
        #expect(server.state == .completed)
        #expect(server.selectedTuple == Self.peer)

        // Repeating the nomination changes nothing: a plain respond.
        let again = server.receivedDatagram(ByteBuffer(bytes: Self.aioiceNominating), from: Self.peer, now: at(2))
        guard case .respond(_, let againTo) = again else {
            Issue.record("\(again)")
            return
        }
        #expect(againTo == Self.peer)
    }

    @Test("aioice claiming the controlled role gets 487 Role Conflict")
    func aioiceControlled() throws {
        var server = try Self.makeServer()
        let action = server.receivedDatagram(ByteBuffer(bytes: Self.aioiceControlled), from: Self.peer, now: at(0))
        try Self.expectError(action, code: 487, reason: .roleConflict, authenticated: true)
        #expect(server.state == .new)
        #expect(server.selectedTuple == nil)
    }

    @Test("a Chrome-shaped nomination (GOOG-NETWORK-INFO, IPv6 tuple) completes at once")
    func chromeShaped() throws {
        var server = try Self.makeServer()
        var spec = RequestSpec(username: "\(Self.ufrag):Ch4x")
        spec.useCandidate = true
        spec.extra = [(STUNAttributeType(rawValue: 0xC057), [0x00, 0x01, 0x03, 0xE7])]
        let action = server.receivedDatagram(spec.build(), from: Self.peer6, now: at(0))
        #expect(action.isRespondAndSelect(to: Self.peer6, state: .completed))
        try Self.expectSuccess(action, to: Self.peer6, transactionID: spec.transactionID)
    }

    // MARK: - Real Chromium requests

    /// Captured from headless Chromium 156 (`--allow-loopback-in-peer-connection`): an
    /// `RTCPeerConnection` with a send-only audio transceiver was given an answer with `a=ice-lite`,
    /// ice-ufrag "msabUfrag1234567", ice-pwd "Rq7x2bKp9LmN4vS8tW1yZ3aC" and one host candidate
    /// 127.0.0.1; a Python (aioice.stun) responder answered each check with a valid success
    /// response. Chrome's ufrag was "lvMf", its source port 40430. The first check is plain
    /// (USERNAME, GOOG-NETWORK-INFO 0xC057, ICE-CONTROLLING, PRIORITY, MI, FINGERPRINT); after the
    /// first success Chrome nominates (the same plus USE-CANDIDATE).
    static let chromePlain = bytes(
        "000100582112a442324b6e736561676a7136424e000600156d7361625566726167313233343536373a6c764d66000000c0570004000003e7802a0008a28437b467f0cd41002400046e001eff0008001441d594a9c2e2128f8a7047e0ec40c943a378b92f80280004598a43f4"
    )
    static let chromeNominating = bytes(
        "0001005c2112a44255696e45305a6333536b5548000600156d7361625566726167313233343536373a6c764d66000000c0570004000003e7802a0008a28437b467f0cd4100250000002400046e001eff0008001496023be28bcaa79ac32dd26a793096914c7028b980280004e553cc04"
    )

    @Test("Chromium: its plain check connects, its nomination completes, responses verify with our password")
    func chromiumChecks() throws {
        var server = try Self.makeServer()
        let chrome = TransportAddress(ipv4: 127, 0, 0, 1, port: 40430)
        let plainMessage = try STUNMessage(datagram: ByteBuffer(bytes: Self.chromePlain))
        #expect(plainMessage.username == "msabUfrag1234567:lvMf")
        #expect(plainMessage.attribute(STUNAttributeType(rawValue: 0xC057)) != nil)
        #expect(ICELiteServer.localUsernameFragment(in: plainMessage) == "msabUfrag1234567")

        let first = server.receivedDatagram(ByteBuffer(bytes: Self.chromePlain), from: chrome, now: at(0))
        #expect(first.isRespondAndSelect(to: chrome, state: .connected))
        try Self.expectSuccess(first, to: chrome, transactionID: plainMessage.transactionID)

        let nominating = try STUNMessage(datagram: ByteBuffer(bytes: Self.chromeNominating))
        #expect(nominating.useCandidate)
        let second = server.receivedDatagram(ByteBuffer(bytes: Self.chromeNominating), from: chrome, now: at(0.05))
        #expect(second.isRespondAndSelect(to: chrome, state: .completed))
        try Self.expectSuccess(second, to: chrome, transactionID: nominating.transactionID)

        // With Chrome's ufrag known from signalling, the same bytes still pass; a different one fails.
        var strict = try Self.makeServer()
        strict.remoteUsernameFragment = "lvMf"
        #expect(
            strict.receivedDatagram(ByteBuffer(bytes: Self.chromePlain), from: chrome, now: at(0)).isRespondAndSelect(to: chrome, state: .connected)
        )
        var wrong = try Self.makeServer()
        wrong.remoteUsernameFragment = "abcd"
        #expect(wrong.receivedDatagram(ByteBuffer(bytes: Self.chromePlain), from: chrome, now: at(0)).dropReason == .badUsername)
    }

    // MARK: - Every error path

    @Test(
        "requests that fail a rule are rejected with the right code",
        arguments: [
            ("no USERNAME", RequestSpec(username: nil), 400, ICEDropReason.missingCredentials, false),
            ("no MESSAGE-INTEGRITY", RequestSpec(password: nil), 400, .missingCredentials, false),
            ("wrong local ufrag", RequestSpec(username: "someoneElse123:peer"), 401, .badUsername, false),
            ("USERNAME without colon", RequestSpec(username: "msabUfrag1234567"), 401, .badUsername, false),
            ("empty remote ufrag", RequestSpec(username: "msabUfrag1234567:"), 401, .badUsername, false),
            ("wrong password", RequestSpec(password: "Rq7x2bKp9LmN4vS8tW1yZ3aX"), 401, .badIntegrity, false),
            ("no PRIORITY", RequestSpec(priority: nil), 400, .missingPriority, true),
            ("ICE-CONTROLLED", RequestSpec(controlling: nil, controlled: 7), 487, .roleConflict, true),
            (
                "unknown comprehension-required attribute", RequestSpec(extra: [(STUNAttributeType(rawValue: 0x7F01), [1, 2, 3, 4])]), 420,
                .unknownAttributes, false
            ),
        ]
    )
    func rejections(_ sample: (String, RequestSpec, Int, ICEDropReason, Bool)) throws {
        var server = try Self.makeServer()
        let action = server.receivedDatagram(sample.1.build(), from: Self.peer, now: at(0))
        try Self.expectError(action, code: sample.2, reason: sample.3, authenticated: sample.4)
        #expect(server.state == .new, "\(sample.0)")
        #expect(server.selectedTuple == nil)
    }

    @Test("420 lists the unknown attributes")
    func unknownAttributeList() throws {
        var server = try Self.makeServer()
        let spec = RequestSpec(extra: [(STUNAttributeType(rawValue: 0x7F01), [1, 2, 3, 4])])
        let response = try #require(server.receivedDatagram(spec.build(), from: Self.peer, now: at(0)).response)
        #expect(try STUNMessage(datagram: response).attribute(.unknownAttributes)?.value.readableBytesView.elementsEqual([0x7F, 0x01]) == true)
    }

    @Test("silently dropped: garbage, bad fingerprint, indications, responses, other methods")
    func drops() throws {
        var server = try Self.makeServer()
        #expect(server.receivedDatagram(ByteBuffer(bytes: [0, 1, 0, 0]), from: Self.peer, now: at(0)) == .drop(.malformed))

        var spoiled = Array(RequestSpec().build().readableBytesView)
        spoiled[spoiled.count - 1] ^= 0xFF
        #expect(server.receivedDatagram(ByteBuffer(bytes: spoiled), from: Self.peer, now: at(0)) == .drop(.badFingerprint))

        #expect(server.receivedDatagram(RequestSpec(type: .bindingIndication).build(), from: Self.peer, now: at(0)) == .drop(.notARequest))
        #expect(server.receivedDatagram(RequestSpec(type: .bindingSuccessResponse).build(), from: Self.peer, now: at(0)) == .drop(.notARequest))
        let allocate = STUNMessageType(method: 0x003, messageClass: .request)
        #expect(server.receivedDatagram(RequestSpec(type: allocate).build(), from: Self.peer, now: at(0)) == .drop(.notBindingMethod))
        #expect(server.state == .new)
    }

    @Test("FINGERPRINT is optional; a request without it is accepted")
    func noFingerprint() throws {
        var server = try Self.makeServer()
        let action = server.receivedDatagram(RequestSpec(fingerprint: false).build(), from: Self.peer, now: at(0))
        #expect(action.isRespondAndSelect(to: Self.peer, state: .connected))
    }

    @Test("a known remote ufrag must match")
    func remoteUfrag() throws {
        var server = try Self.makeServer()
        server.remoteUsernameFragment = "peer"
        #expect(server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0)).isRespondAndSelect(to: Self.peer, state: .connected))
        let other = server.receivedDatagram(RequestSpec(username: "\(Self.ufrag):intruder").build(), from: Self.peer2, now: at(0))
        try Self.expectError(other, code: 401, reason: .badUsername, authenticated: false)
    }

    // MARK: - Selection

    @Test("first valid tuple is selected; a nomination moves the selection; later plain checks do not")
    func selection() throws {
        var server = try Self.makeServer()
        #expect(server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0)).isRespondAndSelect(to: Self.peer, state: .connected))
        // Another tuple, not nominated: answered, not selected.
        guard case .respond(_, let to) = server.receivedDatagram(RequestSpec().build(), from: Self.peer2, now: at(1)) else {
            Issue.record("expected plain respond")
            return
        }
        #expect(to == Self.peer2)
        #expect(server.selectedTuple == Self.peer)
        // Nominated on the second tuple: selection moves, completed.
        var nominate = RequestSpec()
        nominate.useCandidate = true
        #expect(server.receivedDatagram(nominate.build(), from: Self.peer2, now: at(2)).isRespondAndSelect(to: Self.peer2, state: .completed))
        #expect(server.selectedTuple == Self.peer2)
        // A plain check on the first tuple keeps the nominated one.
        #expect(server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(3)) != .drop(.closed))
        #expect(server.selectedTuple == Self.peer2)
        #expect(server.state == .completed)
        #expect(Set(server.knownTuples) == [Self.peer, Self.peer2])
    }

    @Test("tracked tuples are bounded; the selected tuple is never evicted")
    func boundedTuples() throws {
        var server = try Self.makeServer(.init(maxTuples: 4))
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0))
        for port in UInt16(1)...10 {
            _ = server.receivedDatagram(RequestSpec().build(), from: TransportAddress(ipv4: 10, 0, 0, 1, port: port), now: at(Double(port)))
        }
        #expect(server.knownTuples.count == 4)
        #expect(server.knownTuples.contains(Self.peer))
        #expect(server.knownTuples.contains(TransportAddress(ipv4: 10, 0, 0, 1, port: 10)))
        #expect(server.selectedTuple == Self.peer)
    }

    // MARK: - Consent and closing

    @Test("consent: disconnected after 30 s without a check on the selected tuple, closed 30 s later")
    func consentTimeout() throws {
        var server = try Self.makeServer()
        #expect(server.nextTimeout == nil)
        var nominate = RequestSpec()
        nominate.useCandidate = true
        _ = server.receivedDatagram(nominate.build(), from: Self.peer, now: at(0))
        #expect(server.nextTimeout == at(30))
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(10))  // consent refresh
        #expect(server.nextTimeout == at(40))
        // Checks on another tuple do not refresh the selected tuple's consent.
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer2, now: at(35))
        #expect(server.nextTimeout == at(40))

        #expect(server.timerFired(now: at(39.9)) == nil)
        #expect(server.timerFired(now: at(40)) == .disconnected)
        #expect(server.state == .disconnected)
        #expect(server.nextTimeout == at(70))
        #expect(server.timerFired(now: at(50)) == nil)

        // A valid check revives it; the selected tuple was nominated, so completed again.
        #expect(server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(60)).isRespondAndSelect(to: Self.peer, state: .completed))
        #expect(server.nextTimeout == at(90))

        #expect(server.timerFired(now: at(90)) == .disconnected)
        #expect(server.timerFired(now: at(120)) == .closed)
        #expect(server.nextTimeout == nil)
        #expect(server.selectedTuple == nil)
        #expect(server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(121)) == .drop(.closed))
        #expect(server.timerFired(now: at(500)) == nil)
    }

    @Test("a late timer goes straight to closed; a configured grace period is honoured")
    func lateTimerAndGrace() throws {
        var server = try Self.makeServer(.init(consentTimeout: .seconds(5), closeGracePeriod: .seconds(2)))
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0))
        #expect(server.nextTimeout == at(5))
        #expect(server.timerFired(now: at(7)) == .closed)

        var other = try Self.makeServer(.init(consentTimeout: .seconds(5), closeGracePeriod: .seconds(2)))
        _ = other.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0))
        #expect(other.timerFired(now: at(6.9)) == .disconnected)
        #expect(other.nextTimeout == at(7))
    }

    @Test("while disconnected, only a nominating check from a new tuple takes over the selection")
    func failoverWhileDisconnected() throws {
        var server = try Self.makeServer()
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0))
        #expect(server.timerFired(now: at(30)) == .disconnected)
        // A plain check from elsewhere (perhaps a spoofed source) is answered, moves nothing, revives nothing.
        guard case .respond(_, let to) = server.receivedDatagram(RequestSpec().build(), from: Self.peer2, now: at(31)) else {
            Issue.record("expected plain respond")
            return
        }
        #expect(to == Self.peer2)
        #expect(server.selectedTuple == Self.peer)
        #expect(server.state == .disconnected)
        var nominate = RequestSpec()
        nominate.useCandidate = true
        #expect(server.receivedDatagram(nominate.build(), from: Self.peer2, now: at(32)).isRespondAndSelect(to: Self.peer2, state: .completed))
        #expect(server.selectedTuple == Self.peer2)
    }

    @Test("close() is final")
    func close() throws {
        var server = try Self.makeServer()
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0))
        server.close()
        #expect(server.state == .closed)
        #expect(server.nextTimeout == nil)
        #expect(server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(1)) == .drop(.closed))
    }

    // MARK: - Restart and credentials

    @Test("ICE restart: old credentials are refused, new ones accepted, state kept")
    func restart() throws {
        var server = try Self.makeServer()
        _ = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(0))
        let newPassword = "NewPassw0rdNewPassw0rd++"
        try server.restart(usernameFragment: "newUfrag", password: newPassword)
        #expect(server.usernameFragment == "newUfrag")
        #expect(server.state == .connected)

        let old = server.receivedDatagram(RequestSpec().build(), from: Self.peer, now: at(1))
        #expect(old.dropReason == .badUsername)
        let oldUfragNewPassword = server.receivedDatagram(RequestSpec(password: newPassword).build(), from: Self.peer, now: at(1))
        #expect(oldUfragNewPassword.dropReason == .badUsername)
        let newUfragOldPassword = server.receivedDatagram(RequestSpec(username: "newUfrag:peer").build(), from: Self.peer, now: at(1))
        #expect(newUfragOldPassword.dropReason == .badIntegrity)

        var fresh = RequestSpec(username: "newUfrag:peer2", password: newPassword)
        fresh.useCandidate = true
        let action = server.receivedDatagram(fresh.build(), from: Self.peer, now: at(2))
        #expect(action.isRespondAndSelect(to: Self.peer, state: .completed))
        let response = try STUNMessage(datagram: try #require(action.response))
        #expect(response.checkMessageIntegrity(key: Array(newPassword.utf8)) == .valid)

        #expect(throws: ICELiteError.self) { try server.restart(usernameFragment: "abc", password: newPassword) }
        #expect(server.usernameFragment == "newUfrag")
    }

    @Test("credentials: generated ones are valid ice-chars, invalid ones are refused")
    func credentials() throws {
        var generator = SeededGenerator(seed: 42)
        let server = ICELiteServer(generator: &generator)
        #expect(server.usernameFragment.count == 16)
        #expect(server.password.count == 32)
        #expect(ICELiteServer.isValidICEString(server.usernameFragment, minimumLength: 4))
        #expect(ICELiteServer.isValidICEString(server.password, minimumLength: 22))
        var same = SeededGenerator(seed: 42)
        #expect(ICELiteServer(generator: &same).password == server.password)
        var other = SeededGenerator(seed: 43)
        #expect(ICELiteServer(generator: &other).password != server.password)

        #expect(throws: ICELiteError.self) { try ICELiteServer(usernameFragment: "abc", password: Self.password) }
        #expect(throws: ICELiteError.self) { try ICELiteServer(usernameFragment: "ab:cd", password: Self.password) }
        #expect(throws: ICELiteError.self) { try ICELiteServer(usernameFragment: Self.ufrag, password: "short") }
        #expect(throws: ICELiteError.self) { try ICELiteServer(usernameFragment: Self.ufrag, password: "Rq7x2bKp9LmN4vS8tW1yZ3a!") }
        #expect(throws: Never.self) { try ICELiteServer(usernameFragment: "a+/9", password: "0123456789012345678901") }
    }

    @Test("localUsernameFragment finds the transport's ufrag in USERNAME")
    func demuxHelper() throws {
        let message = try STUNMessage(datagram: ByteBuffer(bytes: Self.aioicePlain))
        #expect(ICELiteServer.localUsernameFragment(in: message) == "msabUfrag1234567")
        let bad = try STUNMessage(datagram: RequestSpec(username: ":x").build())
        #expect(ICELiteServer.localUsernameFragment(in: bad) == nil)
        let none = try STUNMessage(datagram: RequestSpec(username: nil).build())
        #expect(ICELiteServer.localUsernameFragment(in: none) == nil)
    }
}

extension ICELiteServer.ReceivedBindingAction {
    func isRespondAndSelect(to address: TransportAddress, state: ICELiteServer.State) -> Bool {
        if case .respondAndSelect(_, let to, let actual) = self { return to == address && actual == state }
        return false
    }
}
