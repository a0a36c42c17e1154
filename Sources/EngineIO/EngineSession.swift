import NIOCore
import EngineIOParser
import Metrics
import Synchronization

/// One Engine.IO session (engine.io's `Socket`): its transport (long-polling, WebSocket, or
/// polling while upgrading), its heartbeat and its outbound queue. All state sits behind one
/// lock; the only suspension points are a long-poll GET waiting for packets and `closed()`.
public final class EngineSession: EngineConnection, @unchecked Sendable {
    // @unchecked: every mutable field is inside `state` (a Mutex); the rest is immutable.

    public let id: String
    public let handshake: EngineHandshake
    public let inbound: AsyncStream<EngineMessage>
    let inboundQueue: InboundMessageQueue
    let configuration: EngineIOConfiguration
    let onClose: @Sendable (EngineSession, EngineCloseCause) -> Void

    enum Transport {
        case polling
        case websocket(OutboundFrameQueue)
    }

    struct State {
        var transport: Transport
        /// Packets waiting for the next long-poll GET (polling only).
        var queue: [EnginePacket] = []
        /// The payload bytes in `queue` (bounded by maxOutboundBytes).
        var queueBytes = 0
        /// A long-poll POST being processed (engine.io refuses overlapping POSTs).
        var postInProgress = false
        /// A long-poll GET waiting for packets.
        var pendingPoll: CheckedContinuation<[EnginePacket]?, Never>?
        /// A WebSocket probing to take over from polling.
        var upgrading: OutboundFrameQueue?
        var upgradeDeadline: ContinuousClock.Instant?
        /// The probing WebSocket got its "3probe": the client is pausing polling.
        var probed = false
        /// Long-poll GETs that arrived while a probed upgrade was in progress: they wait for its
        /// outcome (engine.io's 100 ms noop check on Node's single thread orders them the same way).
        var upgradeWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        var nextPingAt: ContinuousClock.Instant
        var pongDeadline: ContinuousClock.Instant?
        var closeReason: EngineCloseReason?
        var closeWaiters: [CheckedContinuation<EngineCloseReason, Never>] = []
        /// The client closed a polling session while no GET was pending: the GET it may have
        /// sent at the same moment (on another connection, so it can arrive after the close)
        /// is still owed a noop. See ``EngineIOServer/forget(_:cause:)``.
        var owesStragglingPoll = false
    }

    let state: Mutex<State>

    init(id: String, handshake: EngineHandshake, transport: Transport, configuration: EngineIOConfiguration,
         now: ContinuousClock.Instant, onClose: @escaping @Sendable (EngineSession, EngineCloseCause) -> Void) {
        self.id = id
        self.handshake = handshake
        self.configuration = configuration
        self.onClose = onClose
        inboundQueue = InboundMessageQueue(limits: .init(bytes: configuration.maxInboundBytes, messages: configuration.maxInboundMessages))
        inbound = inboundQueue.stream()
        state = Mutex(State(transport: transport, nextPingAt: now + configuration.pingInterval))
        EngineSession.live.withLock { $0 += 1 }
    }

    deinit { EngineSession.live.withLock { $0 -= 1 } }

    /// A session that was never opened (refused by a cap): ends its inbound stream.
    func discard() { inboundQueue.finish() }

    /// Session objects alive in the process (closed sessions must not linger: a leak check).
    public static let live = Mutex(0)

    var isPolling: Bool { state.withLock { if case .polling = $0.transport { true } else { false } } }
    public var isClosed: Bool { state.withLock { $0.closeReason != nil } }
    var owesStragglingPoll: Bool { state.withLock { $0.owesStragglingPoll } }

    // MARK: - EngineConnection

    public func send(_ message: EngineMessage) {
        switch message {
        case .text(let text): enqueue([.text(text)])
        case .binary(let bytes): enqueue([.binary(bytes)])
        }
    }

    public func send(contentsOf messages: [EngineMessage]) {
        enqueue(messages.map {
            switch $0 {
            case .text(let text): .text(text)
            case .binary(let bytes): .binary(bytes)
            }
        })
    }

    public func close() { close(reason: .serverClose) }

    public func closed() async -> EngineCloseReason {
        await withCheckedContinuation { continuation in
            let done: EngineCloseReason? = state.withLock { state in
                if let reason = state.closeReason { return reason }
                state.closeWaiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    // MARK: - sending

    /// Queues packets for the client: straight to the WebSocket, or to the next long-poll GET.
    func enqueue(_ packets: [EnginePacket]) {
        var wake: CheckedContinuation<[EnginePacket]?, Never>?
        var toSend: [EnginePacket] = []
        let overflow: Bool = state.withLock { state in
            guard state.closeReason == nil else { return false }
            switch state.transport {
            case .websocket(let writer):
                return writer.push(packets.map(EngineIOCodec.encodeForWebSocket)) == .overflow
            case .polling:
                let added = packets.reduce(0) { $0 &+ $1.byteSize }
                guard state.queueBytes &+ added <= configuration.maxOutboundBytes,
                      state.queue.count + packets.count <= configuration.maxOutboundPackets else { return true }
                state.queue.append(contentsOf: packets)
                state.queueBytes &+= added
                if let pending = state.pendingPoll {
                    state.pendingPoll = nil
                    wake = pending
                    toSend = state.queue
                    state.queue.removeAll()
                    state.queueBytes = 0
                }
                return false
            }
        }
        wake?.resume(returning: toSend)
        if overflow {
            // The client does not read fast enough: its backlog would pass the cap.
            close(cause: .slowConsumer)
            return
        }
        Counter(label: "msab_engineio_packets_total", dimensions: [("direction", "out")]).increment(by: packets.count)
    }

    // MARK: - long-polling

    enum PollResult {
        case packets([EnginePacket])
        /// A second GET while one is pending: engine.io closes the session.
        case overlap
    }

    /// A long-poll GET: the queued packets, or waits for some. nil = the request went away.
    func poll() async -> PollResult {
        enum Immediate { case packets([EnginePacket]), overlap, wait }
        let immediate: Immediate = state.withLock { state in
            if state.pendingPoll != nil { return .overlap }
            if !state.queue.isEmpty {
                defer { state.queue.removeAll(); state.queueBytes = 0 }
                return .packets(state.queue)
            }
            if state.closeReason != nil { return .packets([EnginePacket(.close)]) }
            return .wait
        }
        switch immediate {
        case .packets(let packets): return .packets(packets)
        case .overlap:
            close(reason: .transportError)
            return .overlap
        case .wait:
            let packets = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<[EnginePacket]?, Never>) in
                    let resumeNow: [EnginePacket]?? = state.withLock { state in
                        if Task.isCancelled { return .some(nil) }
                        if !state.queue.isEmpty {
                            defer { state.queue.removeAll(); state.queueBytes = 0 }
                            return .some(state.queue)
                        }
                        if state.closeReason != nil { return .some([EnginePacket(.close)]) }
                        state.pendingPoll = continuation
                        return .none
                    }
                    if let resumeNow { continuation.resume(returning: resumeNow) }
                }
            } onCancel: {
                let pending = self.state.withLock { state -> CheckedContinuation<[EnginePacket]?, Never>? in
                    defer { state.pendingPoll = nil }
                    return state.pendingPoll
                }
                pending?.resume(returning: nil)
            }
            return .packets(packets ?? [])
        }
    }

    // MARK: - receiving

    /// A long-poll POST starts: false when one is already being processed.
    func beginPOST() -> Bool {
        state.withLock { state in
            if state.postInProgress { return false }
            state.postInProgress = true
            return true
        }
    }

    func endPOST() { state.withLock { $0.postInProgress = false } }

    /// A packet from the client, on whichever transport. Returns false when it was a protocol
    /// violation and the session has been closed.
    @discardableResult
    func received(_ packet: EnginePacket, now: ContinuousClock.Instant) -> Bool {
        Counter(label: "msab_engineio_packets_total", dimensions: [("direction", "in")]).increment()
        switch packet.type {
        case .pong:
            // Only the answer to our ping counts: an unsolicited pong must not keep a session alive
            // (it would push the next ping, and so the timeout, away forever).
            state.withLock { state in
                guard state.pongDeadline != nil else { return }
                state.pongDeadline = nil
                state.nextPingAt = now + configuration.pingInterval
            }
        case .ping:
            // v4 clients do not ping; answer anyway rather than fail (v3 habit of some clients).
            // A flood of pings is bounded by the outbound caps (slow consumer) like any backlog.
            enqueue([EnginePacket(.pong, packet.payload)])
        case .message:
            // The transport waited for room (`inboundQueue.waitForRoom()`) before reading this.
            switch packet.payload {
            case .text(let text): inboundQueue.push(.text(text))
            case .binary(let bytes): inboundQueue.push(.binary(bytes))
            case .none: inboundQueue.push(.text(""))
            }
        case .close:
            close(reason: .clientClose)
        case .open, .upgrade, .noop:
            close(reason: .parseError)
            return false
        }
        return true
    }

    // MARK: - heartbeat

    /// Sends a ping when due and closes the session when a pong is overdue. Returns the next
    /// instant this session needs attention.
    func heartbeat(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        enum Step { case none, ping, timeout, upgradeTimeout(OutboundFrameQueue, [CheckedContinuation<Void, Never>]) }
        let (step, next): (Step, ContinuousClock.Instant?) = state.withLock { state in
            guard state.closeReason == nil else { return (.none, nil) }
            if let deadline = state.upgradeDeadline, deadline <= now, let probe = state.upgrading {
                state.upgrading = nil
                state.upgradeDeadline = nil
                return (.upgradeTimeout(probe, state.takeUpgradeWaiters()), state.pongDeadline ?? state.nextPingAt)
            }
            var ping = false
            if state.pongDeadline == nil, state.nextPingAt <= now {
                // Measured from when the ping was due, not from when this loop got to it.
                state.pongDeadline = state.nextPingAt + configuration.pingTimeout
                ping = true
            }
            if let deadline = state.pongDeadline {
                if deadline <= now { return (.timeout, nil) }
                return (ping ? .ping : .none, min(deadline, state.upgradeDeadline ?? deadline))
            }
            return (.none, min(state.nextPingAt, state.upgradeDeadline ?? state.nextPingAt))
        }
        switch step {
        case .none: break
        case .ping: enqueue([EnginePacket(.ping)])
        case .timeout: close(reason: .pingTimeout)
        case .upgradeTimeout(let probe, let waiters):
            probe.finish()
            for waiter in waiters { waiter.resume() }
        }
        return next
    }

    // MARK: - upgrade (polling → WebSocket)

    /// A WebSocket with this sid arrived: it may probe. False when the session cannot upgrade.
    func beginUpgrade(_ writer: OutboundFrameQueue, now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            guard state.closeReason == nil, state.upgrading == nil, case .polling = state.transport else { return false }
            state.upgrading = writer
            state.upgradeDeadline = now + configuration.upgradeTimeout
            return true
        }
    }

    /// "2probe" arrived on the probing WebSocket: answer "3probe" there and end the pending
    /// long-poll with a noop so the client can pause polling.
    func probed(_ writer: OutboundFrameQueue) {
        _ = writer.push([.text("3probe")])
        let pending = state.withLock { state -> CheckedContinuation<[EnginePacket]?, Never>? in
            state.probed = true
            if state.pendingPoll != nil {
                defer { state.pendingPoll = nil }
                return state.pendingPoll
            }
            // No GET pending now: queue the noop for the next one.
            state.queue.append(EnginePacket(.noop))
            return nil
        }
        pending?.resume(returning: [EnginePacket(.noop)])
    }

    /// "5" arrived on the probing WebSocket: it becomes the transport; queued packets go over it.
    func completeUpgrade(_ writer: OutboundFrameQueue) -> Bool {
        var waiters: [CheckedContinuation<Void, Never>] = []
        let (ok, pending): (Bool, CheckedContinuation<[EnginePacket]?, Never>?) = state.withLock { state in
            guard state.closeReason == nil, state.upgrading != nil else { return (false, nil) }
            state.upgrading = nil
            state.upgradeDeadline = nil
            state.transport = .websocket(writer)
            // The polling buffer was within the caps, so it fits the new writer's.
            _ = writer.push(state.queue.filter { $0.type != .noop }.map(EngineIOCodec.encodeForWebSocket))
            state.queue.removeAll()
            state.queueBytes = 0
            waiters = state.takeUpgradeWaiters()
            defer { state.pendingPoll = nil }
            return (true, state.pendingPoll)
        }
        pending?.resume(returning: [EnginePacket(.noop)])
        for waiter in waiters { waiter.resume() }
        return ok
    }

    /// The probing WebSocket went away before completing.
    func abandonUpgrade(_ writer: OutboundFrameQueue) {
        let waiters = state.withLock { state in
            state.upgrading = nil
            state.upgradeDeadline = nil
            return state.takeUpgradeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once no probed upgrade is in progress, or after `limit`: a long-poll GET that
    /// raced the client's "5" on another connection is then answered as the upgrade's outcome
    /// requires (400 once upgraded). A GET the client sends before "5" (while pausing) gets the
    /// probe's noop after `limit`, as Node's 100 ms noop check answers it.
    func upgradeSettled(limit: Duration) async {
        guard state.withLock({ $0.closeReason == nil && $0.upgrading != nil && $0.probed }) else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForUpgradeOutcome() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForUpgradeOutcome() async {
        let id = state.withLock { state in
            defer { state.nextWaiterID &+= 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let wait = state.withLock { state in
                    guard !Task.isCancelled, state.closeReason == nil, state.upgrading != nil, state.probed else { return false }
                    state.upgradeWaiters[id] = continuation
                    return true
                }
                if !wait { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.upgradeWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Whether `writer` is the session's current WebSocket.
    func isCurrentWebSocket() -> Bool {
        state.withLock { if case .websocket = $0.transport { true } else { false } }
    }

    // MARK: - close

    /// Closes the session once: a close packet to the client, the inbound stream finished, waiters
    /// told, the server told (it forgets the session).
    func close(reason: EngineCloseReason) { close(cause: EngineCloseCause(reason)) }

    func close(cause: EngineCloseCause) {
        let reason = cause.reason
        var upgradeWaiters: [CheckedContinuation<Void, Never>] = []
        let (first, pending, waiters, websocket): (Bool, CheckedContinuation<[EnginePacket]?, Never>?,
                                                   [CheckedContinuation<EngineCloseReason, Never>], OutboundFrameQueue?) =
            state.withLock { state in
                guard state.closeReason == nil else { return (false, nil, [], nil) }
                state.closeReason = reason
                let waiters = state.closeWaiters
                state.closeWaiters = []
                let pending = state.pendingPoll
                state.pendingPoll = nil
                var ws: OutboundFrameQueue?
                if case .websocket(let writer) = state.transport { ws = writer }
                state.owesStragglingPoll = reason == .clientClose && ws == nil && pending == nil
                if let probe = state.upgrading { probe.finish() }
                state.upgrading = nil
                upgradeWaiters = state.takeUpgradeWaiters()
                // A client-initiated close needs no close packet back; a server close tells the client.
                if reason != .clientClose, reason != .transportError, ws == nil, pending == nil {
                    state.queue = [EnginePacket(.close)]
                } else {
                    state.queue.removeAll()
                }
                state.queueBytes = 0
                return (true, pending, waiters, ws)
            }
        guard first else { return }
        // A client that closes gets its pending long-poll ended with a noop (engine.io does the
        // same); a server close tells the client with a close packet.
        pending?.resume(returning: [EnginePacket(reason == .clientClose ? .noop : .close)])
        if let websocket {
            if cause == .slowConsumer {
                // Its backlog is what we must free: drop it and end the socket now.
                websocket.abort()
            } else {
                if reason != .clientClose && reason != .transportError { _ = websocket.push([.text("1")]) }
                websocket.finish()
            }
        }
        inboundQueue.finish()
        for waiter in upgradeWaiters { waiter.resume() }
        for waiter in waiters { waiter.resume(returning: reason) }
        onClose(self, cause)
    }
}

extension EngineSession.State {
    /// Ends the wait of GETs parked on an upgrade (its outcome is known).
    mutating func takeUpgradeWaiters() -> [CheckedContinuation<Void, Never>] {
        probed = false
        defer { upgradeWaiters = [:] }
        return Array(upgradeWaiters.values)
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
