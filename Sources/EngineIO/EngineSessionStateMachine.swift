import EngineIOParser
import NIOCore

/// The life of one Engine.IO v4 session, as a value type told the time (style.md R1–R3): events
/// come in (a packet, a long-poll GET, a WebSocket probe, a timer), the state moves, and the
/// caller gets back what to do (resume a GET, write frames, end a socket, report the close).
/// ``EngineSession`` is the shell that holds it under a lock and performs those actions; the
/// machine itself never reads a clock, writes, resumes or counts anything.
///
/// The lifecycle, from docs/engine.io-protocol/v4-current.md (socketio/socket.io):
///
/// > Handshake: "To establish a connection, the client MUST send an HTTP `GET` request to the
/// > server" (or open a WebSocket without sid) — the open packet answers it.
/// > Heartbeat: "At a given interval (the `pingInterval` value sent in the handshake) the server
/// > sends a `ping` packet and the client has a few seconds (the `pingTimeout` value) to send a
/// > `pong` packet back. If the server does not receive a `pong` packet back, then it SHOULD
/// > consider that the connection is closed."
/// > Upgrade: the client pauses polling, opens a WebSocket with the same sid and sends
/// > `2probe`; "The server MUST: send a `noop` packet to any pending `GET` request (if
/// > applicable) to cleanly close HTTP long-polling transport; respond with a `pong` packet with
/// > the string `probe` in the payload. Finally, the client MUST send a `upgrade` packet to
/// > complete the upgrade."
///
/// ```
///  handshake (GET, no sid) ──► polling ──WS with sid──► upgrading ──"5"──► websocket
///                                 ▲                        │ probe timeout / socket gone
///                                 └────────────────────────┘
///  polling | upgrading | websocket ──close packet, pong timeout, double GET, slow consumer,
///                                    server close──► closed
/// ```
///
/// Handshaking has no state of its own here: the handshake request opens the session already in
/// `polling` (or `websocket`), with its first ping scheduled. Closing neither: a close is one step
/// (the close packet is queued on the socket, whose writer drains it, or handed to the pending
/// GET), and the server forgets the session at once.
struct EngineSessionStateMachine<Socket: AnyObject & Sendable>: Sendable {
    typealias Instant = ContinuousClock.Instant
    /// Names a parked long-poll GET (the shell keeps its continuation under that name).
    typealias Token = Int

    struct Limits: Sendable {
        var pingInterval: Duration
        var pingTimeout: Duration
        var upgradeTimeout: Duration
        var maxOutboundBytes: Int
        var maxOutboundPackets: Int
        /// How long a GET that arrives during a probed upgrade waits for its outcome (Node's
        /// 100 ms noop check in engine.io's `Socket#maybeUpgrade`).
        var upgradeWaitLimit: Duration = .milliseconds(100)
        /// GETs that may wait on one upgrade at once; more are answered at once.
        var maxUpgradeWaiters = 8

        init(_ configuration: EngineIOConfiguration) {
            pingInterval = configuration.pingInterval
            pingTimeout = configuration.pingTimeout
            upgradeTimeout = configuration.upgradeTimeout
            maxOutboundBytes = configuration.maxOutboundBytes
            maxOutboundPackets = configuration.maxOutboundPackets
        }
    }

    /// Either the next ping is due, or one is out and its pong is due: never both.
    enum Heartbeat: Equatable, Sendable {
        case idle(nextPingAt: Instant)
        case awaitingPong(deadline: Instant)

        var deadline: Instant {
            switch self {
            case .idle(let at), .awaitingPong(let at): at
            }
        }
    }

    /// Packets for the next long-poll GET, bounded by the outbound caps.
    struct PollBuffer: Sendable {
        var packets: [EnginePacket] = []
        var bytes = 0

        mutating func take() -> [EnginePacket] {
            defer {
                packets = []
                bytes = 0
            }
            return packets
        }
    }

    struct PollingState: Sendable {
        var heartbeat: Heartbeat
        var buffer = PollBuffer()
        /// The long-poll GET waiting for packets (at most one: a second one closes the session).
        var pendingPoll: Token?
        /// A long-poll POST being processed (engine.io refuses overlapping POSTs).
        var postInProgress = false
    }

    /// Still polling, while a WebSocket probes to take over.
    struct UpgradingState: Sendable {
        var polling: PollingState
        let probe: Socket
        let deadline: Instant
        /// "2probe" arrived: the client is pausing polling, "5" should follow.
        var probed = false
        /// GETs that arrived after the probe, waiting for the upgrade's outcome, and until when.
        var waiters: [Token: Instant] = [:]
    }

    struct WebSocketState: Sendable {
        var heartbeat: Heartbeat
        let socket: Socket
    }

    struct ClosedState: Sendable {
        let cause: EngineCloseCause
        /// The client closed a polling session while no GET was pending: the GET it may have sent
        /// at the same moment (on another connection, so it can arrive after the close) is still
        /// owed a noop. See ``EngineIOServer/forget(_:cause:)``.
        let owesStragglingPoll: Bool
    }

    enum State: Sendable {
        case polling(PollingState)
        case upgrading(UpgradingState)
        case websocket(WebSocketState)
        case closed(ClosedState)
        /// Only while a transition runs (the previous state is moved out, so its buffers are
        /// not copied); never seen outside one.
        case modifying
    }

    enum Transport: Sendable {
        case polling
        case websocket(Socket)
    }

    enum Action: Sendable {
        /// Answer the parked GET `Token` with these packets (empty: the request went away).
        case resumePoll(Token, [EnginePacket])
        /// Push frames to a socket's writer (an overflow is reported back: ``writeOverflowed(_:now:)``).
        case write(Socket, [EngineIOCodec.Frame])
        /// End a socket after what is queued on it.
        case finishSocket(Socket)
        /// End a socket now, dropping its backlog (a slow consumer's).
        case abortSocket(Socket)
        /// These GETs waited on an upgrade whose outcome is known (or their wait ran out): ask again.
        case releaseWaiters([Token])
        /// A message for the layer above.
        case deliver(EngineMessage)
        /// The session just closed: tell the layer above and the server.
        case closed(EngineCloseCause)
    }

    /// What a long-poll GET gets.
    enum PollDecision: Sendable, Equatable {
        case respond([EnginePacket])
        /// Parked as `pendingPoll` until packets come (``Action/resumePoll(_:_:)``).
        case wait
        /// Parked until the upgrade in progress succeeds or fails (``Action/releaseWaiters(_:)``), then asked again.
        case awaitUpgrade
        /// 400 (already upgraded).
        case reject
        /// 400, and the session is closed: a second GET while one is pending (engine.io's
        /// "overlap from client").
        case rejectAndClose([Action])

        static func == (lhs: PollDecision, rhs: PollDecision) -> Bool {
            switch (lhs, rhs) {
            case (.respond(let a), .respond(let b)): a.map(\.type) == b.map(\.type)
            case (.wait, .wait), (.awaitUpgrade, .awaitUpgrade), (.reject, .reject), (.rejectAndClose, .rejectAndClose): true
            default: false
            }
        }
    }

    private(set) var state: State {
        didSet {
            if case .websocket(let websocket) = state { webSocketForSend = websocket.socket } else { webSocketForSend = nil }
        }
    }
    /// The WebSocket a `send` would write to when the session is on one: there `send` only
    /// returns `.write(socket, frames)` and changes nothing, so a caller holding the machine's
    /// lock may push to the socket itself (and must take `send` when the push overflows).
    /// Kept in step with `state` by its didSet, so a broadcast's
    /// per-recipient check reads one reference instead of copying the state enum's payload
    /// (an outlined copy retaining every reference in it showed in the fan-out's profile).
    private(set) var webSocketForSend: Socket?
    let limits: Limits

    init(transport: Transport, limits: Limits, now: Instant) {
        self.limits = limits
        let heartbeat = Heartbeat.idle(nextPingAt: now + limits.pingInterval)
        switch transport {
        case .polling: state = .polling(PollingState(heartbeat: heartbeat))
        case .websocket(let socket): state = .websocket(WebSocketState(heartbeat: heartbeat, socket: socket))
        }
        // didSet does not run in init.
        if case .websocket(let socket) = transport { webSocketForSend = socket }
    }

    /// Moves the state out for a transition (which must put one back).
    private mutating func take() -> State {
        defer { state = .modifying }
        return state
    }

    // MARK: - queries

    /// When the session next needs a ``timerFired(now:)``; nil when closed.
    var nextDeadline: Instant? {
        switch state {
        case .polling(let polling): polling.heartbeat.deadline
        case .upgrading(let upgrading):
            min(upgrading.polling.heartbeat.deadline, upgrading.deadline, upgrading.waiters.values.min() ?? upgrading.deadline)
        case .websocket(let websocket): websocket.heartbeat.deadline
        case .closed: nil
        case .modifying: preconditionFailure("EngineSessionStateMachine: queried during a transition")
        }
    }

    /// Long-polling is the transport (also while upgrading).
    var isPolling: Bool {
        switch state {
        case .polling, .upgrading: true
        default: false
        }
    }

    var closeCause: EngineCloseCause? {
        if case .closed(let closed) = state { closed.cause } else { nil }
    }

    var owesStragglingPoll: Bool {
        if case .closed(let closed) = state { closed.owesStragglingPoll } else { false }
    }

    var isWebSocket: Bool {
        if case .websocket = state { true } else { false }
    }

    // MARK: - sending

    /// Packets for the client: to the WebSocket, or to the poll buffer (and the pending GET).
    mutating func send(_ packets: [EnginePacket], now: Instant) -> [Action] {
        switch take() {
        case .polling(var polling):
            guard Self.buffer(packets, in: &polling, limits: limits) else {
                state = .polling(polling)
                return close(.slowConsumer, now: now)
            }
            let actions = Self.flush(&polling)
            state = .polling(polling)
            return actions
        case .upgrading(var upgrading):
            guard Self.buffer(packets, in: &upgrading.polling, limits: limits) else {
                state = .upgrading(upgrading)
                return close(.slowConsumer, now: now)
            }
            let actions = Self.flush(&upgrading.polling)
            state = .upgrading(upgrading)
            return actions
        case .websocket(let websocket):
            state = .websocket(websocket)
            return [.write(websocket.socket, packets.map(EngineIOCodec.encodeForWebSocket))]
        case .closed(let closed):
            state = .closed(closed)
            return []
        case .modifying:
            preconditionFailure("EngineSessionStateMachine.send during a transition")
        }
    }

    /// A socket's writer refused frames: past its caps, the client does not read fast enough.
    mutating func writeOverflowed(_ socket: Socket, now: Instant) -> [Action] {
        guard case .websocket(let websocket) = state, websocket.socket === socket else { return [] }
        return close(.slowConsumer, now: now)
    }

    /// Appends within the caps; false (nothing appended) when they would be passed.
    private static func buffer(_ packets: [EnginePacket], in polling: inout PollingState, limits: Limits) -> Bool {
        let added = packets.reduce(0) { $0 &+ $1.byteSize }
        guard polling.buffer.bytes &+ added <= limits.maxOutboundBytes,
            polling.buffer.packets.count &+ packets.count <= limits.maxOutboundPackets
        else { return false }
        polling.buffer.packets.append(contentsOf: packets)
        polling.buffer.bytes &+= added
        return true
    }

    /// Hands the buffer to the pending GET, if one is waiting.
    private static func flush(_ polling: inout PollingState) -> [Action] {
        guard let pending = polling.pendingPoll, !polling.buffer.packets.isEmpty else { return [] }
        polling.pendingPoll = nil
        return [.resumePoll(pending, polling.buffer.take())]
    }

    // MARK: - long-polling

    /// A long-poll GET. `mayAwaitUpgrade` is false when it already waited on this upgrade.
    mutating func pollRequested(_ token: Token, now: Instant, mayAwaitUpgrade: Bool) -> PollDecision {
        switch take() {
        case .polling(var polling):
            let decision = Self.poll(token, &polling)
            state = .polling(polling)
            return decision ?? .rejectAndClose(close(.transportError, now: now))
        case .upgrading(var upgrading):
            // A GET that raced the client's "5" (sent on another connection) is answered as the
            // upgrade's outcome requires: 400 once upgraded, the probe's noop otherwise.
            if mayAwaitUpgrade, upgrading.probed, upgrading.waiters.count < limits.maxUpgradeWaiters {
                upgrading.waiters[token] = now + limits.upgradeWaitLimit
                state = .upgrading(upgrading)
                return .awaitUpgrade
            }
            let decision = Self.poll(token, &upgrading.polling)
            state = .upgrading(upgrading)
            return decision ?? .rejectAndClose(close(.transportError, now: now))
        case .websocket(let websocket):
            state = .websocket(websocket)
            return .reject
        case .closed(let closed):
            state = .closed(closed)
            return .respond([EnginePacket(.close)])
        case .modifying:
            preconditionFailure("EngineSessionStateMachine.pollRequested during a transition")
        }
    }

    /// nil: a GET is already pending (the session must close).
    private static func poll(_ token: Token, _ polling: inout PollingState) -> PollDecision? {
        if polling.pendingPoll != nil { return nil }
        if !polling.buffer.packets.isEmpty { return .respond(polling.buffer.take()) }
        polling.pendingPoll = token
        return .wait
    }

    /// A parked GET went away (its request was cancelled).
    mutating func pollCancelled(_ token: Token) -> [Action] {
        switch take() {
        case .polling(var polling):
            let actions = Self.cancel(token, &polling)
            state = .polling(polling)
            return actions
        case .upgrading(var upgrading):
            var actions = Self.cancel(token, &upgrading.polling)
            if upgrading.waiters.removeValue(forKey: token) != nil { actions.append(.releaseWaiters([token])) }
            state = .upgrading(upgrading)
            return actions
        case .modifying:
            preconditionFailure("EngineSessionStateMachine.pollCancelled during a transition")
        case let other:
            state = other
            return []
        }
    }

    private static func cancel(_ token: Token, _ polling: inout PollingState) -> [Action] {
        guard polling.pendingPoll == token else { return [] }
        polling.pendingPoll = nil
        return [.resumePoll(token, [])]
    }

    /// A long-poll POST starts: false when one is already being processed. (On a WebSocket or a
    /// closed session there is nothing to protect: its packets are refused or ignored.)
    mutating func postBegan() -> Bool {
        modifyPolling { polling in
            if polling.postInProgress { return false }
            polling.postInProgress = true
            return true
        } ?? true
    }

    mutating func postEnded() {
        modifyPolling { $0.postInProgress = false }
    }

    /// The long-polling part of the state: polling, or still polling while a WebSocket probes.
    var pollingState: PollingState? {
        switch state {
        case .polling(let polling): polling
        case .upgrading(let upgrading): upgrading.polling
        case .websocket, .closed, .modifying: nil
        }
    }

    /// Applies `body` to the long-polling part of the state; nil (and no change) on a WebSocket
    /// or closed session.
    private mutating func modifyPolling<R>(_ body: (inout PollingState) -> R) -> R? {
        switch take() {
        case .polling(var polling):
            let result = body(&polling)
            state = .polling(polling)
            return result
        case .upgrading(var upgrading):
            let result = body(&upgrading.polling)
            state = .upgrading(upgrading)
            return result
        case .modifying:
            preconditionFailure("EngineSessionStateMachine: polling state used during a transition")
        case let other:
            state = other
            return nil
        }
    }

    // MARK: - receiving

    /// A packet from the client, on whichever transport.
    mutating func received(_ packet: EnginePacket, now: Instant) -> [Action] {
        if case .closed = state { return [] }
        switch packet.type {
        case .pong:
            // Only the answer to our ping counts: an unsolicited pong must not keep a session
            // alive (it would push the next ping, and so the timeout, away forever).
            let nextPingAt = now + limits.pingInterval
            updateHeartbeat { heartbeat in
                if case .awaitingPong = heartbeat { heartbeat = .idle(nextPingAt: nextPingAt) }
            }
            return []
        case .ping:
            // v4 clients do not ping; answer anyway rather than fail (v3 habit of some clients).
            // A flood of pings is bounded by the outbound caps (slow consumer) like any backlog.
            return send([EnginePacket(.pong, packet.payload)], now: now)
        case .message:
            switch packet.payload {
            case .text(let text): return [.deliver(.text(text))]
            case .binary(let bytes): return [.deliver(.binary(bytes))]
            case .none: return [.deliver(.text(""))]
            }
        case .close:
            return close(.clientClose, now: now)
        case .open, .upgrade, .noop:
            return close(.parseError, now: now)
        }
    }

    private mutating func updateHeartbeat(_ update: (inout Heartbeat) -> Void) {
        switch take() {
        case .polling(var polling):
            update(&polling.heartbeat)
            state = .polling(polling)
        case .upgrading(var upgrading):
            update(&upgrading.polling.heartbeat)
            state = .upgrading(upgrading)
        case .websocket(var websocket):
            update(&websocket.heartbeat)
            state = .websocket(websocket)
        case .closed(let closed):
            state = .closed(closed)
        case .modifying:
            preconditionFailure("EngineSessionStateMachine heartbeat during a transition")
        }
    }

    // MARK: - timers

    /// Whatever is due at `now`: GETs whose upgrade wait ran out, a probe that took too long, a
    /// ping to send, a pong overdue.
    mutating func timerFired(now: Instant) -> [Action] {
        var actions: [Action] = []
        let previous = take()
        if case .upgrading(var upgrading) = previous {
            let expired = upgrading.waiters.filter { $0.value <= now }.map(\.key)
            for token in expired { upgrading.waiters[token] = nil }
            if upgrading.deadline <= now {
                // The probe did not complete in time: polling goes on, the socket is ended.
                actions.append(.finishSocket(upgrading.probe))
                let waiting = expired + upgrading.waiters.keys
                if !waiting.isEmpty { actions.append(.releaseWaiters(waiting)) }
                state = .polling(upgrading.polling)
            } else {
                if !expired.isEmpty { actions.append(.releaseWaiters(expired)) }
                state = .upgrading(upgrading)
            }
        } else {
            state = previous
        }
        var step = HeartbeatStep.none
        let pingTimeout = limits.pingTimeout
        updateHeartbeat { heartbeat in
            if case .idle(let due) = heartbeat, due <= now {
                // Measured from when the ping was due, not from when the timer got to it.
                heartbeat = .awaitingPong(deadline: due + pingTimeout)
                step = .ping
            }
            if case .awaitingPong(let deadline) = heartbeat, deadline <= now { step = .timeout }
        }
        switch step {
        case .none: break
        case .ping: actions += send([EnginePacket(.ping)], now: now)
        case .timeout: actions += close(.pingTimeout, now: now)
        }
        return actions
    }

    private enum HeartbeatStep { case none, ping, timeout }

    // MARK: - upgrade (polling → WebSocket)

    /// A WebSocket with this sid arrived: it may probe. False when the session cannot upgrade
    /// (not polling, or another probe is in progress).
    mutating func upgradeBegan(_ probe: Socket, now: Instant) -> Bool {
        guard case .polling(let polling) = state else { return false }
        state = .upgrading(UpgradingState(polling: polling, probe: probe, deadline: now + limits.upgradeTimeout))
        return true
    }

    /// "2probe" on the probing socket: "3probe" back, and the pending GET ends with a noop so
    /// the client can pause polling (no GET pending: the next one gets it).
    mutating func probeReceived(_ probe: Socket, now: Instant) -> [Action] {
        let previous = take()
        guard case .upgrading(var upgrading) = previous, upgrading.probe === probe else {
            state = previous
            return []
        }
        var actions: [Action] = [.write(probe, [.text("3probe")])]
        upgrading.probed = true
        if let pending = upgrading.polling.pendingPoll {
            upgrading.polling.pendingPoll = nil
            actions.append(.resumePoll(pending, [EnginePacket(.noop)]))
        } else {
            upgrading.polling.buffer.packets.append(EnginePacket(.noop))
            upgrading.polling.buffer.bytes &+= 1
        }
        state = .upgrading(upgrading)
        return actions
    }

    /// "5" on the probing socket: it becomes the transport, the poll buffer goes over it. nil
    /// when this socket is not probing this session (then it is abandoned).
    mutating func upgradeCompleted(_ probe: Socket, now: Instant) -> [Action]? {
        let previous = take()
        guard case .upgrading(var upgrading) = previous, upgrading.probe === probe else {
            state = previous
            return nil
        }
        var actions: [Action] = []
        let backlog = upgrading.polling.buffer.take().filter { $0.type != .noop }
        if !backlog.isEmpty { actions.append(.write(probe, backlog.map(EngineIOCodec.encodeForWebSocket))) }
        if let pending = upgrading.polling.pendingPoll { actions.append(.resumePoll(pending, [EnginePacket(.noop)])) }
        if !upgrading.waiters.isEmpty { actions.append(.releaseWaiters(Array(upgrading.waiters.keys))) }
        state = .websocket(WebSocketState(heartbeat: upgrading.polling.heartbeat, socket: probe))
        return actions
    }

    /// The probing socket went away (or sent something else than the probe and "5").
    mutating func upgradeAbandoned(_ probe: Socket) -> [Action] {
        let previous = take()
        guard case .upgrading(let upgrading) = previous, upgrading.probe === probe else {
            state = previous
            return []
        }
        state = .polling(upgrading.polling)
        return upgrading.waiters.isEmpty ? [] : [.releaseWaiters(Array(upgrading.waiters.keys))]
    }

    // MARK: - close

    /// Closes the session (once): the pending GET answered, sockets ended, waiters released.
    mutating func close(_ cause: EngineCloseCause, now: Instant) -> [Action] {
        let reason = cause.reason
        var actions: [Action] = []
        var pending: Token?
        var websocket: Socket?
        switch take() {
        case .polling(let polling):
            pending = polling.pendingPoll
        case .upgrading(let upgrading):
            pending = upgrading.polling.pendingPoll
            actions.append(.finishSocket(upgrading.probe))
            if !upgrading.waiters.isEmpty { actions.append(.releaseWaiters(Array(upgrading.waiters.keys))) }
        case .websocket(let state):
            websocket = state.socket
        case .closed(let closed):
            state = .closed(closed)
            return []
        case .modifying:
            preconditionFailure("EngineSessionStateMachine.close during a transition")
        }
        // A client that closes gets its pending long-poll ended with a noop (engine.io does the
        // same); a server close tells the client with a close packet.
        if let pending { actions.append(.resumePoll(pending, [EnginePacket(reason == .clientClose ? .noop : .close)])) }
        if let websocket {
            if cause == .slowConsumer {
                // Its backlog is what we must free: drop it and end the socket now.
                actions.append(.abortSocket(websocket))
            } else {
                // A client-initiated close (or a broken transport) needs no close packet back.
                if reason != .clientClose && reason != .transportError { actions.append(.write(websocket, [.text("1")])) }
                actions.append(.finishSocket(websocket))
            }
        }
        actions.append(.closed(cause))
        state = .closed(ClosedState(cause: cause, owesStragglingPoll: reason == .clientClose && websocket == nil && pending == nil))
        return actions
    }
}
