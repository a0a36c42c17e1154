import ICELite
import LoadTest
import NIOCore
import STUN
import Testing

@Suite("ICEControllingAgent (RFC 8445 §7.2, §8.1.1; RFC 7675)")
struct ICEControllingAgentTests {
    static let serverUfrag = "msabUfrag1234567"
    static let serverPassword = "Rq7x2bKp9LmN4vS8tW1yZ3aC"
    static let client = TransportAddress(ipv4: 127, 0, 0, 1, port: 50_000)
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func makeAgent() -> ICEControllingAgent {
        ICEControllingAgent(
            credentials: .init(localUsernameFragment: "lt1", remoteUsernameFragment: serverUfrag, remotePassword: serverPassword),
            tieBreaker: 0x0102_0304_0506_0708)
    }

    @Test("the check carries USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT")
    func requestShape() throws {
        var agent = Self.makeAgent()
        var generator = SystemRandomNumberGenerator()
        let request = try STUNMessage(datagram: agent.start(now: Self.t0, using: &generator))
        #expect(request.type == .bindingRequest)
        #expect(request.username == "\(Self.serverUfrag):lt1")
        #expect(request.priority != nil)
        #expect(request.iceControlling == 0x0102_0304_0506_0708)
        #expect(request.useCandidate)
        #expect(request.checkMessageIntegrity(key: Array(Self.serverPassword.utf8)) == .valid)
        #expect(request.checkFingerprint() == .valid)
        #expect(agent.state == .checking)
        #expect(agent.nextTimeout == Self.t0 + .milliseconds(100))
    }

    @Test("against msab's ICE-lite server, in memory: nominated and connected on the first check")
    func interopWithICELiteServer() throws {
        var server = try ICELiteServer(usernameFragment: Self.serverUfrag, password: Self.serverPassword)
        var agent = Self.makeAgent()
        var generator = SystemRandomNumberGenerator()
        let request = agent.start(now: Self.t0, using: &generator)
        guard case .respondAndSelect(let response, let to, let state) = server.receivedDatagram(request, from: Self.client, now: Self.t0) else {
            Issue.record("the server did not select the tuple")
            return
        }
        #expect(to == Self.client)
        #expect(state == .completed)  // USE-CANDIDATE nominated it
        #expect(agent.receive(try STUNMessage(datagram: response), now: Self.t0) == .connected)
        #expect(agent.state == .connected)
        // Consent: a new request after the interval, which the server answers too.
        #expect(agent.handleTimeout(now: Self.t0 + .seconds(1), using: &generator) == nil)
        let consent = try #require(agent.handleTimeout(now: Self.t0 + .seconds(5), using: &generator))
        guard case .respond(let again, _) = server.receivedDatagram(consent, from: Self.client, now: Self.t0 + .seconds(5)) else {
            Issue.record("the server did not answer the consent check")
            return
        }
        #expect(agent.receive(try STUNMessage(datagram: again), now: Self.t0 + .seconds(5)) == .ignored)
        #expect(agent.unansweredConsentRequests == 0)
    }

    @Test("a response that does not prove the password, or answers another transaction, is ignored")
    func forgedResponses() throws {
        var agent = Self.makeAgent()
        var generator = SystemRandomNumberGenerator()
        let request = try STUNMessage(datagram: agent.start(now: Self.t0, using: &generator))
        let forged = STUNMessage.bindingSuccessResponse(
            transactionID: request.transactionID, mappedAddress: Self.client, integrityKey: Array("wrong".utf8))
        #expect(agent.receive(try STUNMessage(datagram: forged), now: Self.t0) == .ignored)
        let other = STUNMessage.bindingSuccessResponse(
            transactionID: STUNTransactionID(using: &generator), mappedAddress: Self.client, integrityKey: Array(Self.serverPassword.utf8))
        #expect(agent.receive(try STUNMessage(datagram: other), now: Self.t0) == .ignored)
        #expect(agent.state == .checking)
    }

    @Test("RTO doubles up to the cap, then the check fails after maximumAttempts")
    func retransmissionsAndFailure() {
        var agent = Self.makeAgent()
        var generator = SystemRandomNumberGenerator()
        var now = Self.t0
        _ = agent.start(now: now, using: &generator)
        var gaps: [TimeAmount] = []
        while case .checking = agent.state, let next = agent.nextTimeout {
            gaps.append(next - now)
            now = next
            _ = agent.handleTimeout(now: now, using: &generator)
        }
        #expect(gaps.prefix(5) == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(800)])
        #expect(gaps.count == agent.configuration.maximumAttempts)
        #expect(agent.state == .failed("no answer to 10 Binding requests"))
    }

    static let localPassword = "c0ffee00c0ffee00c0ffee00"
    static let server = TransportAddress(ipv4: 10, 231, 7, 2, port: 44_543)

    /// A check shaped as libnice (Janus, lite mode) sends it: USERNAME "ourUfrag:theirUfrag",
    /// PRIORITY, ICE-CONTROLLED, MESSAGE-INTEGRITY keyed with our password, FINGERPRINT.
    static func serverCheck(username: String = "lt1:\(serverUfrag)", key: String = localPassword, controlling: Bool = false) -> STUNMessage {
        var generator = SystemRandomNumberGenerator()
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: STUNTransactionID(using: &generator))
        builder.addUsername(username)
        builder.addPriority(0x6e20_00ff)
        if controlling { builder.addICEControlling(7) } else { builder.addICEControlled(7) }
        builder.addMessageIntegrity(key: Array(key.utf8))
        builder.addFingerprint()
        // Parsed from the wire bytes, as MediaLeg sees it.
        return try! STUNMessage(datagram: builder.buffer)
    }

    static func agentWithLocalPassword() -> ICEControllingAgent {
        ICEControllingAgent(
            credentials: .init(
                localUsernameFragment: "lt1", remoteUsernameFragment: serverUfrag, remotePassword: serverPassword, localPassword: localPassword),
            tieBreaker: 0x0102_0304_0506_0708)
    }

    @Test("the server's own check (libnice in lite mode) is answered: success, XOR-MAPPED-ADDRESS = its source, keyed with our password")
    func answersServerCheck() throws {
        let agent = Self.agentWithLocalPassword()
        let request = Self.serverCheck()
        guard case .respond(let bytes) = agent.answer(request, from: Self.server) else {
            Issue.record("a valid check was not answered")
            return
        }
        let response = try STUNMessage(datagram: bytes)
        #expect(response.type == .bindingSuccessResponse)
        #expect(response.transactionID == request.transactionID)
        #expect(response.xorMappedAddress == Self.server)
        #expect(response.checkMessageIntegrity(key: Array(Self.localPassword.utf8)) == .valid)
        #expect(response.checkFingerprint() == .valid)
        #expect(agent.state == .new)  // answering changes nothing of our own check
    }

    @Test("a check with the wrong USERNAME or key, or with no local password to check it, is dropped by name")
    func dropsBadChecks() {
        let agent = Self.agentWithLocalPassword()
        #expect(agent.answer(Self.serverCheck(username: "\(Self.serverUfrag):lt1"), from: Self.server) == .drop(.wrongUsername))
        #expect(agent.answer(Self.serverCheck(key: "not-our-password-at-all"), from: Self.server) == .drop(.badMessageIntegrity))
        #expect(Self.makeAgent().answer(Self.serverCheck(), from: Self.server) == .drop(.noLocalPassword))
    }

    @Test("a check claiming ICE-CONTROLLING gets 487 Role Conflict (an ICE-lite peer is always controlled)")
    func roleConflict() throws {
        let agent = Self.agentWithLocalPassword()
        guard case .respond(let bytes) = agent.answer(Self.serverCheck(controlling: true), from: Self.server) else {
            Issue.record("no answer")
            return
        }
        let response = try STUNMessage(datagram: bytes)
        #expect(response.type == .bindingErrorResponse)
        #expect(response.errorCode?.code == 487)
    }
}
