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
        let forged = STUNMessage.bindingSuccessResponse(transactionID: request.transactionID, mappedAddress: Self.client, integrityKey: Array("wrong".utf8))
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
}
