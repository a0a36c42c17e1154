public import NIOCore
public import STUN

/// The ICE-lite side of a WebRTC transport (RFC 8445 §2.5): it never sends checks, it answers the
/// peer's Binding requests (§7.3), picks the tuple media goes to, and watches consent (RFC 7675).
///
/// A value-type state machine, told the time (style R1/R2): feed it requests and timer ticks, and
/// execute the actions it returns.
///
/// ```
///            valid check                 valid check with USE-CANDIDATE
///   new ───────────────────► connected ───────────────────────────────► completed
///    │  (USE-CANDIDATE) ─────────────────────────────────────────────────▲  │
///    │                            │  ▲                                    │  │
///    │                no valid check for consentTimeout        valid check │  │ no valid check
///    │                            ▼  │                                    │  ▼ for consentTimeout
///    │                          disconnected ─────────────────────────────┘
///    │                                │ closeGracePeriod more, or close()
///    └──────── close() ─────────────► closed ◄──── close()
/// ```
/// - The selected tuple is the last one nominated with USE-CANDIDATE (browsers and aiortc
///   nominate), or the first tuple with a valid check while none is nominated. Only a nomination
///   moves it to another address, also while disconnected.
/// - Consent (RFC 7675 §5.1): the selected tuple must see a valid check at least every
///   `consentTimeout` (30 s, the RFC's value); otherwise the agent is disconnected, and it closes
///   after a further `closeGracePeriod` unless a valid check arrives.
/// - At most `maxTuples` tuples are tracked; the least recently checked unselected one is
///   forgotten to make room.
public struct ICELiteServer: Sendable {
    /// Tunables.
    public struct Configuration: Sendable, Hashable {
        /// No valid check on the selected tuple for this long → disconnected (RFC 7675: 30 s).
        public var consentTimeout: TimeAmount
        /// Disconnected for this long → closed.
        public var closeGracePeriod: TimeAmount
        /// Bound on tracked tuples per agent.
        public var maxTuples: Int
        /// SOFTWARE attribute in responses, nil for none.
        public var software: String?

        public init(
            consentTimeout: TimeAmount = .seconds(30),
            closeGracePeriod: TimeAmount = .seconds(30),
            maxTuples: Int = 8,
            software: String? = nil
        ) {
            precondition(maxTuples >= 1, "ICE-lite needs room for at least one tuple")
            self.consentTimeout = consentTimeout
            self.closeGracePeriod = closeGracePeriod
            self.maxTuples = maxTuples
            self.software = software
        }
    }

    /// The agent's state, as mediasoup reports `iceState`.
    public enum State: String, Sendable, Hashable {
        /// No valid check yet.
        case new
        /// A tuple has passed a check; none nominated.
        case connected
        /// The selected tuple was nominated with USE-CANDIDATE.
        case completed
        /// The selected tuple's consent expired; waiting for a valid check or the close deadline.
        case disconnected
        /// Finished: everything is dropped.
        case closed
    }

    /// What to do with a received Binding request.
    public enum ReceivedBindingAction: Sendable, Hashable {
        /// Send the success response to the tuple; nothing else changed.
        case respond(ByteBuffer, to: TransportAddress)
        /// Send the success response, and from now on send media to `to`; `state` is the agent's
        /// state after this check (it changed, or the selected tuple did, or both).
        case respondAndSelect(ByteBuffer, to: TransportAddress, state: State)
        /// Send this error response (400/401/420/487); the check failed for `reason`.
        case reject(ByteBuffer, to: TransportAddress, reason: ICEDropReason)
        /// Send nothing.
        case drop(ICEDropReason)
    }

    /// One tuple that has passed a check.
    struct Tuple: Sendable, Hashable {
        var address: TransportAddress
        var lastValidCheck: NIODeadline
        var nominated: Bool
    }

    // MARK: - Stored properties

    public let configuration: Configuration
    /// The local ufrag (published in `iceParameters.usernameFragment`).
    public private(set) var usernameFragment: String
    /// The local password (published in `iceParameters.password`).
    public private(set) var password: String
    @usableFromInline var passwordBytes: [UInt8]
    /// The remote ufrag, when signalling told us; checks must then carry it after the ':'.
    public var remoteUsernameFragment: String?
    public private(set) var state: State = .new
    /// Where media goes, nil before the first valid check.
    public private(set) var selectedTuple: TransportAddress?
    var tuples: [Tuple] = []
    /// When the agent became disconnected (the consent deadline that passed).
    var disconnectedAt: NIODeadline?

    // MARK: - Init

    /// An agent with the given credentials (ufrag ≥ 4 and password ≥ 22 ice-chars, RFC 8839 §5.4).
    public init(usernameFragment: String, password: String, configuration: Configuration = Configuration()) throws(ICELiteError) {
        try Self.validate(usernameFragment: usernameFragment, password: password)
        self.configuration = configuration
        self.usernameFragment = usernameFragment
        self.password = password
        self.passwordBytes = Array(password.utf8)
    }

    /// An agent with fresh random credentials from `generator` (16-character ufrag, 32-character
    /// password, as mediasoup generates).
    public init(generator: inout some RandomNumberGenerator, configuration: Configuration = Configuration()) {
        let ufrag = Self.randomICEString(length: 16, using: &generator)
        let password = Self.randomICEString(length: 32, using: &generator)
        self.configuration = configuration
        self.usernameFragment = ufrag
        self.password = password
        self.passwordBytes = Array(password.utf8)
    }

    /// Tuples that have passed a check, most recently checked last.
    public var knownTuples: [TransportAddress] { tuples.sorted { $0.lastValidCheck < $1.lastValidCheck }.map(\.address) }

    // MARK: - Events

    /// Parses `datagram` as STUN and handles it as a Binding request (see
    /// ``receivedBindingRequest(_:from:now:)``); unparseable input is `.drop(.malformed)`.
    public mutating func receivedDatagram(_ datagram: ByteBuffer, from source: TransportAddress, now: NIODeadline) -> ReceivedBindingAction {
        guard state != .closed else { return .drop(.closed) }
        guard let message = try? STUNMessage(datagram: datagram) else { return .drop(.malformed) }
        return receivedBindingRequest(message, from: source, now: now)
    }

    /// A STUN message arrived from `source` (RFC 8445 §7.3 "STUN Server Procedures").
    public mutating func receivedBindingRequest(_ message: STUNMessage, from source: TransportAddress, now: NIODeadline) -> ReceivedBindingAction {
        guard state != .closed else { return .drop(.closed) }
        guard message.type.method == STUNMessageType.bindingMethod else { return .drop(.notBindingMethod) }
        guard message.type.messageClass == .request else { return .drop(.notARequest) }
        // RFC 8445 §7.3 / RFC 5389 §7.3: a wrong FINGERPRINT means "not for us": silently discard.
        guard message.checkFingerprint() != .invalid else { return .drop(.badFingerprint) }

        let unknown = message.unknownComprehensionRequiredAttributes
        guard unknown.isEmpty else {
            return reject(message, source, .unknownAttribute, .unknownAttributes, authenticated: false, unknownAttributes: unknown)
        }
        // RFC 5389 §10.1.2: both USERNAME and MESSAGE-INTEGRITY, else 400.
        guard let username = message.username, message.attribute(.messageIntegrity) != nil else {
            return reject(message, source, .badRequest, .missingCredentials, authenticated: false)
        }
        guard isValidUsername(username) else {
            return reject(message, source, .unauthorized, .badUsername, authenticated: false)
        }
        guard message.checkMessageIntegrity(key: passwordBytes) == .valid else {
            return reject(message, source, .unauthorized, .badIntegrity, authenticated: false)
        }
        guard message.priority != nil else {
            return reject(message, source, .badRequest, .missingPriority, authenticated: true)
        }
        // A lite agent is always controlled (RFC 8445 §6.1.1): a peer that also claims to be
        // controlled must switch, which 487 tells it (§7.3.1.1).
        if message.iceControlled != nil && message.iceControlling == nil {
            return reject(message, source, .roleConflict, .roleConflict, authenticated: true)
        }

        let response = STUNMessage.bindingSuccessResponse(
            transactionID: message.transactionID,
            mappedAddress: source,
            integrityKey: passwordBytes,
            software: configuration.software
        )
        let previousState = state
        let previousSelection = selectedTuple
        validCheck(from: source, nominated: message.useCandidate, now: now)
        if state != previousState || selectedTuple != previousSelection, let selectedTuple {
            return selectedTuple == source ? .respondAndSelect(response, to: source, state: state) : .respond(response, to: source)
        }
        return .respond(response, to: source)
    }

    /// The deadline at which ``timerFired(now:)`` has something to do; nil when nothing is pending.
    public var nextTimeout: NIODeadline? {
        switch state {
        case .connected, .completed:
            guard let selected = selectedTuple, let tuple = tuples.first(where: { $0.address == selected }) else { return nil }
            return tuple.lastValidCheck + configuration.consentTimeout
        case .disconnected:
            return disconnectedAt.map { $0 + configuration.closeGracePeriod }
        case .new, .closed:
            return nil
        }
    }

    /// Time passed: applies the consent and close deadlines. Returns the new state when it changed
    /// (possibly straight to `.closed` when both deadlines have passed).
    public mutating func timerFired(now: NIODeadline) -> State? {
        let before = state
        if state == .connected || state == .completed, let deadline = nextTimeout, now >= deadline {
            state = .disconnected
            disconnectedAt = deadline
        }
        if state == .disconnected, let deadline = nextTimeout, now >= deadline {
            close()
        }
        return state == before ? nil : state
    }

    /// ICE restart: new local credentials; requests using the old ones are refused from now on.
    /// Tuples and state are kept (media keeps flowing while the peer re-checks).
    public mutating func restart(usernameFragment: String, password: String) throws(ICELiteError) {
        try Self.validate(usernameFragment: usernameFragment, password: password)
        self.usernameFragment = usernameFragment
        self.password = password
        self.passwordBytes = Array(password.utf8)
    }

    /// ICE restart with fresh random credentials from `generator`.
    public mutating func restart(generator: inout some RandomNumberGenerator) {
        usernameFragment = Self.randomICEString(length: 16, using: &generator)
        password = Self.randomICEString(length: 32, using: &generator)
        passwordBytes = Array(password.utf8)
    }

    /// Closes the agent (transport closed by signalling, or the grace period ran out).
    public mutating func close() {
        state = .closed
        selectedTuple = nil
        tuples.removeAll()
        disconnectedAt = nil
    }

    // MARK: - Private

    private func isValidUsername(_ username: String) -> Bool {
        guard let colon = username.firstIndex(of: ":") else { return false }
        guard username[..<colon] == usernameFragment else { return false }
        let remote = username[username.index(after: colon)...]
        guard !remote.isEmpty else { return false }
        if let remoteUsernameFragment, remote != remoteUsernameFragment { return false }
        return true
    }

    private func reject(
        _ message: STUNMessage,
        _ source: TransportAddress,
        _ error: STUNErrorCode,
        _ reason: ICEDropReason,
        authenticated: Bool,
        unknownAttributes: [STUNAttributeType] = []
    ) -> ReceivedBindingAction {
        // Only authenticated requests get an authenticated error (RFC 5389 §10.1.2: no
        // MESSAGE-INTEGRITY in 400/401 answers to bad credentials).
        let response = STUNMessage.bindingErrorResponse(
            transactionID: message.transactionID,
            error: error,
            integrityKey: authenticated ? passwordBytes : nil,
            software: configuration.software,
            unknownAttributes: unknownAttributes
        )
        return .reject(response, to: source, reason: reason)
    }

    private mutating func validCheck(from source: TransportAddress, nominated: Bool, now: NIODeadline) {
        if let index = tuples.firstIndex(where: { $0.address == source }) {
            tuples[index].lastValidCheck = now
            tuples[index].nominated = tuples[index].nominated || nominated
        } else {
            if tuples.count >= configuration.maxTuples,
                let evict = tuples.indices.filter({ tuples[$0].address != selectedTuple }).min(by: {
                    tuples[$0].lastValidCheck < tuples[$1].lastValidCheck
                })
            {
                tuples.remove(at: evict)
            }
            tuples.append(Tuple(address: source, lastValidCheck: now, nominated: nominated))
        }

        // Selection: a nomination wins; otherwise only the first valid tuple is taken. A plain check
        // from another address never moves the media path, even after consent was lost: anyone
        // holding the credentials could otherwise aim the stream (and its retransmissions) at a
        // third party by spoofing a source address. Moving takes USE-CANDIDATE, as in mediasoup's
        // `IceServer::HandleTuple`; a client that changed networks restarts ICE and nominates.
        if nominated || selectedTuple == nil {
            selectedTuple = source
        }
        // A plain check on another tuple keeps that tuple usable (incoming media is accepted from
        // every checked tuple) but neither refreshes the selected tuple's consent nor revives it.
        guard source == selectedTuple else { return }
        let selectedIsNominated = tuples.first(where: { $0.address == selectedTuple })?.nominated ?? false
        state = selectedIsNominated ? .completed : .connected
        disconnectedAt = nil
    }
}
