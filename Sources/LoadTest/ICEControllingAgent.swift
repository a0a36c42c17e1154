public import NIOCore
public import STUN

/// The controlling side of ICE (RFC 8445) against an ICE-lite server, sans-I/O. A server that is
/// ICE-lite has host candidates only and never checks, so the full agent here has one pair to
/// check: it sends Binding requests with USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE
/// (aggressive nomination, §8.1.1), MESSAGE-INTEGRITY and FINGERPRINT, retransmits them (§14.3,
/// RFC 5389 §7.2.1: RTO doubling), and once a valid response arrives keeps consent alive with a
/// request every ``Configuration/consentInterval`` (RFC 7675).
///
/// It also answers the server's own Binding requests (``answer(_:from:)``, RFC 8445 §7.3), as a
/// full agent must: an ICE-lite server never needs to, but libnice in lite mode (Janus) still
/// sends a triggered check back on the pair our USE-CANDIDATE named and puts the pair to use only
/// once that check is answered ("pair … is FROZEN, will be nominated on response receipt").
/// msab's ICE-lite never checks, so against msab there is nothing to answer and no local
/// password to answer with.
///
/// ```
///   new ──start──▶ checking ──valid success response──▶ connected
///                     │
///                     └── maxAttempts unanswered / error response ──▶ failed
/// ```
public struct ICEControllingAgent: Sendable {
    /// Both sides' ICE credentials.
    public struct Credentials: Sendable, Hashable {
        public var localUsernameFragment: String
        public var remoteUsernameFragment: String
        public var remotePassword: String
        /// Our ICE password as our SDP announced it (the key of the server's checks); nil when the
        /// server got none (msab's signalling carries no client ICE parameters) and never checks.
        public var localPassword: String?

        public init(localUsernameFragment: String, remoteUsernameFragment: String, remotePassword: String, localPassword: String? = nil) {
            self.localUsernameFragment = localUsernameFragment
            self.remoteUsernameFragment = remoteUsernameFragment
            self.remotePassword = remotePassword
            self.localPassword = localPassword
        }
    }

    /// Timers.
    public struct Configuration: Sendable, Hashable {
        /// First retransmission timeout; doubles up to ``maximumRetransmitTimeout``.
        public var initialRetransmitTimeout: TimeAmount = .milliseconds(100)
        public var maximumRetransmitTimeout: TimeAmount = .milliseconds(800)
        /// Requests sent before the check fails.
        public var maximumAttempts = 10
        /// Consent freshness (RFC 7675 §5.1 says about every 5 s).
        public var consentInterval: TimeAmount = .seconds(5)

        public init() {}
    }

    /// Where the agent is.
    public enum State: Sendable, Hashable {
        case new
        case checking
        case connected
        case failed(String)
    }

    /// What a received STUN message meant.
    public enum ReceiveResult: Sendable, Hashable {
        /// The first valid response: the pair is selected and nominated.
        case connected
        /// A response to a consent request, or anything that changes nothing.
        case ignored
        /// An error response or the like; the agent has failed.
        case failed(String)
    }

    /// What to do with a Binding request from the server.
    public enum RequestResult: Sendable, Hashable {
        /// Send this response back to where the request came from.
        case respond(ByteBuffer)
        /// Not answered, and why.
        case drop(RequestDropReason)
    }

    /// Why a server's Binding request went unanswered.
    public enum RequestDropReason: Sendable, Hashable {
        /// We announced no ICE password, so no check can be authenticated.
        case noLocalPassword
        /// Not a Binding request.
        case notBindingRequest
        /// FINGERPRINT present and wrong (RFC 8445 §7.3: a corrupted or non-ICE packet).
        case badFingerprint
        /// USERNAME is not "ourUfrag:theirUfrag" (RFC 8445 §7.3; RFC 5389 §10.1.2 would answer
        /// 401, but a mismatch here means a stale or foreign check, which is dropped instead).
        case wrongUsername
        /// MESSAGE-INTEGRITY missing or not keyed with our password.
        case badMessageIntegrity
    }

    // MARK: - Stored properties

    public private(set) var state: State = .new
    public let credentials: Credentials
    public let configuration: Configuration
    private let tieBreaker: UInt64
    private let passwordKey: [UInt8]
    private let localPasswordKey: [UInt8]?
    private let expectedRequestUsername: String
    private var transactionID: STUNTransactionID?
    private var attempts = 0
    private var rto: TimeAmount
    /// When ``handleTimeout(now:using:)`` must run next; nil when nothing is scheduled.
    public private(set) var nextTimeout: NIODeadline?
    /// Consent requests that went unanswered since the last answer (reported, not fatal here).
    public private(set) var unansweredConsentRequests = 0

    /// The priority we announce (RFC 8445 §5.1.2.1: type preference 110 for a peer-reflexive
    /// candidate, as the server learns ours from the check).
    static let priority: UInt32 = (110 << 24) | (65_535 << 8) | 255

    // MARK: - Init

    public init(credentials: Credentials, tieBreaker: UInt64, configuration: Configuration = Configuration()) {
        self.credentials = credentials
        self.tieBreaker = tieBreaker
        self.configuration = configuration
        self.passwordKey = Array(credentials.remotePassword.utf8)
        self.localPasswordKey = credentials.localPassword.map { Array($0.utf8) }
        self.expectedRequestUsername = "\(credentials.localUsernameFragment):\(credentials.remoteUsernameFragment)"
        self.rto = configuration.initialRetransmitTimeout
    }

    // MARK: - API

    /// Starts checking; returns the first Binding request to send.
    public mutating func start(now: NIODeadline, using generator: inout some RandomNumberGenerator) -> ByteBuffer {
        precondition(state == .new, "ICEControllingAgent.start in state \(state)")
        state = .checking
        return newRequest(now: now, using: &generator)
    }

    /// Runs the timer: a retransmission, a consent request, or nothing (and maybe `failed`).
    public mutating func handleTimeout(now: NIODeadline, using generator: inout some RandomNumberGenerator) -> ByteBuffer? {
        guard let deadline = nextTimeout, now >= deadline else { return nil }
        switch state {
        case .checking:
            guard attempts < configuration.maximumAttempts else {
                state = .failed("no answer to \(attempts) Binding requests")
                nextTimeout = nil
                return nil
            }
            rto = min(rto * 2, configuration.maximumRetransmitTimeout)
            return send(now: now)
        case .connected:
            if transactionID != nil { unansweredConsentRequests += 1 }
            return newRequest(now: now, using: &generator)
        case .new, .failed:
            nextTimeout = nil
            return nil
        }
    }

    /// Handles a STUN message from the server's candidate.
    public mutating func receive(_ message: STUNMessage, now: NIODeadline) -> ReceiveResult {
        guard let expected = transactionID, message.transactionID == expected,
            message.type.method == STUNMessageType.bindingMethod
        else { return .ignored }
        // A response must prove it knows the password (RFC 8445 §7.2.5.2.1 via RFC 5389 §10.1.3).
        guard message.checkFingerprint() != .invalid, message.checkMessageIntegrity(key: passwordKey) == .valid else { return .ignored }
        switch message.type.messageClass {
        case .successResponse:
            transactionID = nil
            unansweredConsentRequests = 0
            if case .checking = state {
                state = .connected
                rto = configuration.initialRetransmitTimeout
                nextTimeout = now + configuration.consentInterval
                return .connected
            }
            return .ignored
        case .errorResponse:
            let reason = "Binding error response \(message.errorCode.map { "\($0)" } ?? "")"
            if case .checking = state {
                state = .failed(reason)
                nextTimeout = nil
                return .failed(reason)
            }
            return .ignored
        case .request, .indication:
            return .ignored
        }
    }

    /// Answers a Binding request from the server (RFC 8445 §7.3): checked against our
    /// credentials, then a success response whose XOR-MAPPED-ADDRESS is `source`, keyed with our
    /// password. A request claiming ICE-CONTROLLING gets 487 Role Conflict whatever the
    /// tie-breakers: our peer is ICE-lite, and a lite agent is always controlled (RFC 8445
    /// §6.1.1), so we never give up the controlling role. Changes no state: the server's checks
    /// only tell it that our side of the pair works.
    public func answer(_ request: STUNMessage, from source: TransportAddress) -> RequestResult {
        guard let localPasswordKey else { return .drop(.noLocalPassword) }
        guard request.type == .bindingRequest else { return .drop(.notBindingRequest) }
        guard request.checkFingerprint() != .invalid else { return .drop(.badFingerprint) }
        guard request.username == expectedRequestUsername else { return .drop(.wrongUsername) }
        guard request.checkMessageIntegrity(key: localPasswordKey) == .valid else { return .drop(.badMessageIntegrity) }
        if request.iceControlling != nil {
            return .respond(
                STUNMessage.bindingErrorResponse(transactionID: request.transactionID, error: .roleConflict, integrityKey: localPasswordKey))
        }
        return .respond(
            STUNMessage.bindingSuccessResponse(transactionID: request.transactionID, mappedAddress: source, integrityKey: localPasswordKey))
    }

    // MARK: - Private

    private mutating func newRequest(now: NIODeadline, using generator: inout some RandomNumberGenerator) -> ByteBuffer {
        transactionID = STUNTransactionID(using: &generator)
        attempts = 0
        return send(now: now)
    }

    private mutating func send(now: NIODeadline) -> ByteBuffer {
        guard let transactionID else { preconditionFailure("ICEControllingAgent sends without a transaction") }
        attempts += 1
        // While checking, retransmit on the RTO; once connected, the next consent request is due
        // after the interval (an unanswered one is simply replaced, RFC 7675 §5.1).
        nextTimeout = now + (state == .connected ? configuration.consentInterval : rto)
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: transactionID)
        builder.addUsername("\(credentials.remoteUsernameFragment):\(credentials.localUsernameFragment)")
        builder.addPriority(Self.priority)
        builder.addICEControlling(tieBreaker)
        builder.addUseCandidate()
        builder.addMessageIntegrity(key: passwordKey)
        builder.addFingerprint()
        return builder.buffer
    }
}
