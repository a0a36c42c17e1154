import EngineIOParser
import Metrics
import NIOCore
import Synchronization

/// One Engine.IO session (engine.io's `Socket`): the thin shell around its
/// ``EngineSessionStateMachine``. The machine decides (transport, heartbeat, upgrade, poll
/// buffer, close); this class holds it under one lock with the continuations of the requests
/// parked on it, and performs the actions it returns: writes to the socket writers (under the
/// lock, so frames keep the order of the transitions that produced them), then, outside the
/// lock, resumes GETs and waiters, delivers messages, counts and reports the close.
public final class EngineSession: EngineConnection, @unchecked Sendable {
    // @unchecked: every mutable field is inside `shell` (a Mutex); the rest is immutable.

    typealias Machine = EngineSessionStateMachine<OutboundFrameQueue>
    typealias Transport = Machine.Transport
    typealias Instant = ContinuousClock.Instant

    /// First, so it sits right after the object header: a broadcast prefetches a session's
    /// first cache lines a few recipients ahead (``Namespace`` `deliverLocally`).
    let shell: Mutex<Shell>
    public let id: String
    public let handshake: EngineHandshake
    public let inbound: AsyncStream<EngineMessage>
    let inboundQueue: InboundMessageQueue
    let configuration: EngineIOConfiguration
    let timers: SessionTimers?
    /// Where the timers reach this session (see ``SessionTimerSlot``).
    let timerSlot = SessionTimerSlot()
    let onClose: @Sendable (EngineSession, EngineCloseCause) -> Void
    /// `msab_engineio_packets_total`, looked up once per session: a metrics factory lookup
    /// (a lock and a dictionary keyed by label and dimensions) per packet cost more than the
    /// rest of a broadcast's per-socket work.
    let packetsIn: Counter
    let packetsOut: Counter

    /// What a parked long-poll GET is told.
    enum Parked: Sendable {
        case packets([EnginePacket])
        /// The upgrade it waited on settled (or its wait ran out): ask the machine again.
        case retry
        /// 400 (see ``PollResult/rejected``).
        case rejected
    }

    struct Shell {
        var machine: Machine
        /// Parked GETs (a pending poll, or waiting on an upgrade), by the machine's token.
        var parked: [Machine.Token: CheckedContinuation<Parked, Never>] = [:]
        var nextToken: Machine.Token = 0
        var closeWaiters: [CheckedContinuation<EngineCloseReason, Never>] = []
        /// The deadline this session has in ``SessionTimers`` (nil: none pending).
        var scheduled: Instant?
    }

    init(
        id: String, handshake: EngineHandshake, transport: Transport, configuration: EngineIOConfiguration,
        now: Instant, timers: SessionTimers? = nil, onClose: @escaping @Sendable (EngineSession, EngineCloseCause) -> Void
    ) {
        self.id = id
        self.handshake = handshake
        self.configuration = configuration
        self.timers = timers
        self.onClose = onClose
        packetsIn = Counter(label: "msab_engineio_packets_total", dimensions: [("direction", "in")])
        packetsOut = Counter(label: "msab_engineio_packets_total", dimensions: [("direction", "out")])
        inboundQueue = InboundMessageQueue(limits: .init(bytes: configuration.maxInboundBytes, messages: configuration.maxInboundMessages))
        inbound = inboundQueue.stream()
        let machine = Machine(transport: transport, limits: .init(configuration), now: now)
        shell = Mutex(Shell(machine: machine, scheduled: machine.nextDeadline))
        EngineSession.live.withLock { $0 += 1 }
        if let timers, let first = machine.nextDeadline {
            timerSlot.hold(self)
            timers.schedule(self, at: first)
        }
    }

    deinit { EngineSession.live.withLock { $0 -= 1 } }

    /// A session that was never opened (refused by a cap): ends its inbound stream.
    func discard() {
        timerSlot.release()
        inboundQueue.finish()
    }

    /// Session objects alive in the process (closed sessions must not linger: a leak check).
    public static let live = Mutex(0)

    var isPolling: Bool { shell.withLock { $0.machine.isPolling } }
    public var isClosed: Bool { shell.withLock { $0.machine.closeCause != nil } }
    var owesStragglingPoll: Bool { shell.withLock { $0.machine.owesStragglingPoll } }
    /// Whether the WebSocket (after an upgrade, or from the start) is the transport.
    func isCurrentWebSocket() -> Bool { shell.withLock { $0.machine.isWebSocket } }

    // MARK: - performing the machine's actions

    /// What is left to do once the lock is released.
    struct Deferred {
        var resumes: [(CheckedContinuation<Parked, Never>, Parked)] = []
        var deliveries: [EngineMessage] = []
        var closed: (EngineCloseCause, [CheckedContinuation<EngineCloseReason, Never>])?
        var schedule: Instant?
    }

    /// Runs one transition under the lock, performs the writes it asks for there, the rest after.
    /// Returns the transition's result and, when it closed the session, why.
    @discardableResult
    func transition<R>(now: Instant, _ body: (inout Shell) -> (R, [Machine.Action])) -> (R, closed: EngineCloseCause?) {
        let (result, deferred) = shell.withLock { shell in
            let (result, actions) = body(&shell)
            var deferred = Deferred()
            shell.perform(actions, now: now, into: &deferred)
            if let next = shell.machine.nextDeadline, shell.scheduled.map({ next < $0 }) ?? true {
                shell.scheduled = next
                deferred.schedule = next
            }
            return (result, deferred)
        }
        for (continuation, value) in deferred.resumes { continuation.resume(returning: value) }
        for message in deferred.deliveries { inboundQueue.push(message) }
        if let schedule = deferred.schedule { timers?.schedule(self, at: schedule) }
        guard let (cause, waiters) = deferred.closed else { return (result, nil) }
        timerSlot.release()
        inboundQueue.finish()
        for waiter in waiters { waiter.resume(returning: cause.reason) }
        onClose(self, cause)
        return (result, cause)
    }

    /// ``SessionTimers`` says this session's deadline came (an entry it scheduled, or a stale one).
    func timerFired(scheduledFor deadline: Instant, now: Instant) {
        let current = shell.withLock { shell in
            guard shell.scheduled == deadline else { return false }
            shell.scheduled = nil
            return true
        }
        if current { timerFired(now: now) }
    }

    /// Sends a ping when due, closes the session when a pong is overdue, ends an upgrade that
    /// took too long or a GET's wait on one.
    func timerFired(now: Instant) {
        transition(now: now) { ((), $0.machine.timerFired(now: now)) }
    }

    // MARK: - EngineConnection

    public func send(_ message: EngineMessage) {
        switch message {
        case .text(let text): enqueue([.text(text)])
        case .binary(let bytes): enqueue([.binary(bytes)])
        }
    }

    public func send(contentsOf messages: [EngineMessage]) {
        enqueue(
            messages.map {
                switch $0 {
                case .text(let text): .text(text)
                case .binary(let bytes): .binary(bytes)
                }
            })
    }

    /// A broadcast's frames, encoded once by the caller. On a WebSocket a send has no effect on
    /// the machine but the write (see ``EngineSessionStateMachine/webSocketForSend``), so the
    /// frames are queued under the lock without building actions, a clock reading or copies
    /// (per recipient of every broadcast, that was most of a broadcast's cost). Anything else —
    /// polling, an upgrade in progress, a closed session, a backlog past its caps (nothing was
    /// queued, all or none) — takes the machine's path.
    public func send(broadcast: EngineBroadcastMessage) {
        let queued = shell.withLock { shell in
            guard let socket = shell.machine.webSocketForSend else { return false }
            return socket.push(broadcast: broadcast) == .queued
        }
        if queued {
            packetsOut.increment(by: broadcast.frames.count)
        } else {
            enqueue(broadcast.packets)
        }
    }

    public func close() { close(reason: .serverClose) }

    public func closed() async -> EngineCloseReason {
        await withCheckedContinuation { continuation in
            let done: EngineCloseReason? = shell.withLock { shell in
                if let cause = shell.machine.closeCause { return cause.reason }
                shell.closeWaiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    // MARK: - sending

    /// Queues packets for the client: straight to the WebSocket, or to the next long-poll GET.
    func enqueue(_ packets: [EnginePacket]) {
        let now = ContinuousClock.now
        let (_, closed) = transition(now: now) { ((), $0.machine.send(packets, now: now)) }
        // The client does not read fast enough: its backlog would pass the cap (counted as closed).
        guard closed != .slowConsumer else { return }
        packetsOut.increment(by: packets.count)
    }

    // MARK: - long-polling

    enum PollResult {
        case packets([EnginePacket])
        /// 400: a second GET while one is pending (engine.io closes the session), or the session
        /// has upgraded to WebSocket.
        case rejected
    }

    /// A long-poll GET: the buffered packets, or waits for some (empty: the request went away).
    /// A GET that arrives during a probed upgrade first waits for its outcome.
    func poll() async -> PollResult {
        var mayAwaitUpgrade = true
        // Two rounds at most in practice (after an upgrade wait the machine does not park the GET
        // on it again); bounded at three whatever happens.
        for _ in 0..<3 {
            let token = shell.withLock { shell in
                defer { shell.nextToken &+= 1 }
                return shell.nextToken
            }
            let outcome: Parked = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Parked, Never>) in
                    let now = ContinuousClock.now
                    let immediate: Parked? = transition(now: now) { shell -> (Parked?, [Machine.Action]) in
                        if Task.isCancelled { return (.packets([]), []) }
                        switch shell.machine.pollRequested(token, now: now, mayAwaitUpgrade: mayAwaitUpgrade) {
                        case .respond(let packets): return (.packets(packets), [])
                        case .reject: return (.rejected, [])
                        case .rejectAndClose(let actions): return (.rejected, actions)
                        case .wait, .awaitUpgrade:
                            shell.parked[token] = continuation
                            return (nil, [])
                        }
                    }.0
                    if let immediate { continuation.resume(returning: immediate) }
                }
            } onCancel: {
                self.transition(now: .now) { ((), $0.machine.pollCancelled(token)) }
            }
            switch outcome {
            case .rejected: return .rejected
            case .packets(let packets): return .packets(packets)
            case .retry: mayAwaitUpgrade = false
            }
        }
        return .packets([])
    }

    // MARK: - receiving

    /// A long-poll POST starts: false when one is already being processed.
    func beginPOST() -> Bool { shell.withLock { $0.machine.postBegan() } }

    func endPOST() { shell.withLock { $0.machine.postEnded() } }

    /// A packet from the client, on whichever transport. Returns false when it was a protocol
    /// violation and the session has been closed.
    @discardableResult
    func received(_ packet: EnginePacket, now: Instant) -> Bool {
        packetsIn.increment()
        // A message: the transport waited for room (`inboundQueue.waitForRoom()`) before reading it.
        let (_, closed) = transition(now: now) { ((), $0.machine.received(packet, now: now)) }
        return closed != .parseError
    }

    // MARK: - upgrade (polling → WebSocket)

    /// A WebSocket with this sid arrived: it may probe. False when the session cannot upgrade.
    func beginUpgrade(_ writer: OutboundFrameQueue, now: Instant) -> Bool {
        transition(now: now) { shell in (shell.machine.upgradeBegan(writer, now: now), []) }.0
    }

    /// "2probe" arrived on the probing WebSocket.
    func probed(_ writer: OutboundFrameQueue) {
        let now = ContinuousClock.now
        transition(now: now) { ((), $0.machine.probeReceived(writer, now: now)) }
    }

    /// "5" arrived on the probing WebSocket: it becomes the transport. False when it was not probing.
    func completeUpgrade(_ writer: OutboundFrameQueue) -> Bool {
        let now = ContinuousClock.now
        return transition(now: now) { shell -> (Bool, [Machine.Action]) in
            guard let actions = shell.machine.upgradeCompleted(writer, now: now) else { return (false, []) }
            return (true, actions)
        }.0
    }

    /// The probing WebSocket went away before completing.
    func abandonUpgrade(_ writer: OutboundFrameQueue) {
        transition(now: .now) { ((), $0.machine.upgradeAbandoned(writer)) }
    }

    // MARK: - close

    /// Closes the session once: a close packet to the client, the inbound stream finished, waiters
    /// told, the server told (it forgets the session).
    func close(reason: EngineCloseReason) { close(cause: EngineCloseCause(reason)) }

    func close(cause: EngineCloseCause) {
        let now = ContinuousClock.now
        transition(now: now) { ((), $0.machine.close(cause, now: now)) }
    }

    // MARK: - test hooks

    var hasPendingPoll: Bool { shell.withLock { $0.machine.pollingState?.pendingPoll != nil } }

    var upgradeWaiterCount: Int {
        shell.withLock { if case .upgrading(let upgrading) = $0.machine.state { upgrading.waiters.count } else { 0 } }
    }

    var bufferedPacketTypes: [EnginePacketType] { shell.withLock { $0.machine.pollingState?.buffer.packets.map(\.type) ?? [] } }
}

extension EngineSession.Shell {
    /// Performs the actions that must keep their order (socket writes) and collects the rest.
    mutating func perform(
        _ actions: [EngineSession.Machine.Action], now: ContinuousClock.Instant,
        into deferred: inout EngineSession.Deferred
    ) {
        var work = actions
        var index = 0
        // Bounded: an overflow adds one close's actions, and a closed machine adds none.
        while index < work.count {
            switch work[index] {
            case .resumePoll(let token, let packets):
                if let continuation = parked.removeValue(forKey: token) { deferred.resumes.append((continuation, .packets(packets))) }
            case .releaseWaiters(let tokens):
                for token in tokens {
                    if let continuation = parked.removeValue(forKey: token) { deferred.resumes.append((continuation, .retry)) }
                }
            case .write(let socket, let frames):
                if socket.push(frames) == .overflow { work += machine.writeOverflowed(socket, now: now) }
            case .finishSocket(let socket):
                socket.finish()
            case .abortSocket(let socket):
                socket.abort()
            case .deliver(let message):
                deferred.deliveries.append(message)
            case .closed(let cause):
                deferred.closed = (cause, closeWaiters)
                closeWaiters = []
            }
            index += 1
        }
    }
}

/// Why a session ended, finer than ``EngineCloseReason`` (which the layer above sees): the
/// `reason` label of `msab_engineio_closed_total` and the log line.
enum EngineCloseCause: String, Sendable, Hashable {
    case serverClose = "server_close"
    case clientClose = "client_close"
    case pingTimeout = "ping_timeout"
    case transportError = "transport_error"
    case parseError = "parse_error"
    case serverShuttingDown = "server_shutting_down"
    /// The client's outbound backlog (WebSocket writer or polling buffer) passed the cap.
    case slowConsumer = "slow_consumer"

    init(_ reason: EngineCloseReason) {
        switch reason {
        case .serverClose: self = .serverClose
        case .clientClose: self = .clientClose
        case .pingTimeout: self = .pingTimeout
        case .transportError: self = .transportError
        case .parseError: self = .parseError
        case .serverShuttingDown: self = .serverShuttingDown
        }
    }

    /// What the layer above is told (socket.io has no slow-consumer reason: a transport error).
    var reason: EngineCloseReason {
        switch self {
        case .serverClose: .serverClose
        case .clientClose: .clientClose
        case .pingTimeout: .pingTimeout
        case .transportError, .slowConsumer: .transportError
        case .parseError: .parseError
        case .serverShuttingDown: .serverShuttingDown
        }
    }
}

extension EnginePacket {
    /// The payload size, for the outbound caps.
    var byteSize: Int {
        switch payload {
        case .none: 1
        case .text(let text): 1 &+ text.utf8.count
        case .binary(let bytes): 1 &+ bytes.readableBytes
        }
    }
}
