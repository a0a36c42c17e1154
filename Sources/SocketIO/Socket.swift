import EngineIO
import Logging
import NIOCore
public import SocketIOParser
import Synchronization

/// A client connected to one namespace (socket.io's server-side `Socket`).
///
/// Events of one socket reach their handlers in arrival order, one at a time: the next handler
/// starts when the previous one returns (so `transport:connect` is handled before the `audio:produce`
/// the client sent after it). Different sockets run concurrently.
///
/// Events waiting for their handler are bounded in count and bytes (`InboundLimits`): a client
/// that sends faster than its handlers run is disconnected, and what it had queued is freed.
public final class Socket: Sendable {
    public typealias EventHandler = @Sendable (_ args: [JSONValue], _ ack: Ack?) async -> Void

    public let id: String
    public let handshake: SocketHandshake
    /// What the namespace middleware attached when it accepted the connection.
    public let data: (any Sendable)?
    public let namespace: Namespace
    let connection: any EngineConnection

    struct State {
        var handlers: [String: EventHandler] = [:]
        var anyHandler: (@Sendable (String, [JSONValue]) async -> Void)?
        var disconnectHandlers: [@Sendable (DisconnectReason) async -> Void] = []
        var nextAckId = 0
        var pendingAcks: [Int: CheckedContinuation<[JSONValue], any Error>] = [:]
        var disconnected: DisconnectReason?
        /// Events received and not yet handed to a handler.
        var inbound = InboundQueue()
        /// The event loop, parked while `inbound` is empty.
        var waiter: CheckedContinuation<InboundEvent?, Never>?
    }

    let state = Mutex(State())
    let limits: InboundLimits

    init(
        id: String, handshake: SocketHandshake, data: (any Sendable)?, namespace: Namespace, connection: any EngineConnection,
        limits: InboundLimits = InboundLimits()
    ) {
        self.id = id
        self.handshake = handshake
        self.data = data
        self.namespace = namespace
        self.connection = connection
        self.limits = limits
    }

    public var connected: Bool { state.withLock { $0.disconnected == nil } }

    // MARK: - handlers

    /// Handles a client event. `ack` is nil when the client did not ask for one.
    public func on(_ event: String, _ handler: @escaping EventHandler) {
        state.withLock { $0.handlers[event] = handler }
    }

    /// Sees every event that has no specific handler.
    public func onAny(_ handler: @escaping @Sendable (String, [JSONValue]) async -> Void) {
        state.withLock { $0.anyHandler = handler }
    }

    /// Called once when the socket disconnects, with the reason.
    public func onDisconnect(_ handler: @escaping @Sendable (DisconnectReason) async -> Void) {
        state.withLock { $0.disconnectHandlers.append(handler) }
    }

    // MARK: - emitting

    /// Emits an event to this client.
    public func emit(_ event: String, _ args: JSONValue...) {
        emit(event, args: args)
    }

    public func emit(_ event: String, args: [JSONValue]) {
        guard connected else { return }
        send(SocketIOPacket(type: .event, namespace: namespace.name, data: .array([.string(event)] + args)))
    }

    /// Emits an event and waits for the client's acknowledgement.
    public func emitWithAck(_ event: String, _ args: [JSONValue], timeout: Duration) async throws -> [JSONValue] {
        let id = state.withLock { state -> Int in
            defer { state.nextAckId &+= 1 }
            return state.nextAckId
        }
        return try await withThrowingTaskGroup(of: [JSONValue].self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    let alive = self.state.withLock { state -> Bool in
                        guard state.disconnected == nil else { return false }
                        state.pendingAcks[id] = continuation
                        return true
                    }
                    guard alive else {
                        continuation.resume(throwing: AckTimeoutError())
                        return
                    }
                    self.send(SocketIOPacket(type: .event, namespace: self.namespace.name, id: id, data: .array([.string(event)] + args)))
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                let pending = self.state.withLock { $0.pendingAcks.removeValue(forKey: id) }
                pending?.resume(throwing: AckTimeoutError())
                throw AckTimeoutError()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    func send(_ packet: SocketIOPacket) {
        let (text, attachments) = SocketIOCodec.encode(packet)
        if attachments.isEmpty {
            connection.send(.text(text))
        } else {
            connection.send(contentsOf: [.text(text)] + attachments.map { .binary($0) })
        }
        namespace.countOut()
    }

    // MARK: - rooms

    /// Joins a room (every socket is also in the room named by its id).
    public func join(_ room: String) { namespace.adapter.add(id, to: room) }
    public func leave(_ room: String) { namespace.adapter.remove(id, from: room) }
    public var rooms: Set<String> { namespace.adapter.rooms(of: id) }

    /// Broadcast to a room, excluding this socket (socket.io's `socket.to(room)`).
    public func to(_ room: String) -> BroadcastOperator {
        BroadcastOperator(namespace: namespace, rooms: [room], except: [id])
    }

    // MARK: - disconnect

    /// Disconnects from the namespace (a DISCONNECT packet); `close` also ends the Engine.IO session.
    public func disconnect(close: Bool = false) {
        if connected { send(SocketIOPacket(type: .disconnect, namespace: namespace.name)) }
        finish(.serverNamespaceDisconnect)
        if close { connection.close() }
    }

    /// Marks the socket gone; the event loop then handles what is still queued, runs the
    /// disconnect handlers and cleans up.
    func finish(_ reason: DisconnectReason) {
        let ended = state.withLock {
            state -> (acks: [CheckedContinuation<[JSONValue], any Error>], waiter: CheckedContinuation<InboundEvent?, Never>?)? in
            guard state.disconnected == nil else { return nil }
            state.disconnected = reason
            defer { state.pendingAcks.removeAll() }
            let waiter = state.waiter
            state.waiter = nil
            return (Array(state.pendingAcks.values), waiter)
        }
        guard let ended else { return }
        for continuation in ended.acks { continuation.resume(throwing: AckTimeoutError()) }
        ended.waiter?.resume(returning: nil)
        namespace.remove(self)
    }

    // MARK: - inbound

    /// Queues an event for the handlers. Returns false, queueing nothing, when the queue would
    /// exceed its limits: the caller disconnects the client (`overflowed()`). One event alone is
    /// always admitted, whatever its size (maxPayload bounds it).
    func received(event: String, args: [JSONValue], ackId: Int?, bytes: Int) -> Bool {
        let item = InboundEvent(name: event, args: args, ackId: ackId, bytes: bytes)
        let (admitted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<InboundEvent?, Never>?) in
            guard state.disconnected == nil else { return (true, nil) }  // too late: dropped
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            let count = state.inbound.count &+ 1
            let queuedBytes = state.inbound.bytes &+ max(0, bytes)
            if count > limits.maximumEvents || (count > 1 && queuedBytes > limits.maximumBytes) { return (false, nil) }
            state.inbound.append(item)
            return (true, nil)
        }
        waiter?.resume(returning: item)
        return admitted
    }

    /// What is queued now (count, bytes): for the overflow log line and the tests.
    var queued: (events: Int, bytes: Int) { state.withLock { ($0.inbound.count, $0.inbound.bytes) } }

    /// The client outran its handlers: the queued events are dropped (their memory freed now,
    /// not after the handler in progress returns), the client is told DISCONNECT and the engine
    /// session closes. Disconnect handlers run with `.inboundOverflow` once the handler in
    /// progress returns.
    func overflowed() {
        let wasConnected = state.withLock { state -> Bool in
            state.inbound.removeAll()
            return state.disconnected == nil
        }
        if wasConnected { send(SocketIOPacket(type: .disconnect, namespace: namespace.name)) }
        finish(.inboundOverflow)
        connection.close()
    }

    /// The next queued event; nil once the socket is disconnected and the queue is empty (or the
    /// task is cancelled).
    func nextEvent() async -> InboundEvent? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<InboundEvent?, Never>) in
                let ready = state.withLock { state -> InboundEvent?? in
                    if let event = state.inbound.popFirst() { return .some(event) }
                    if state.disconnected != nil || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    func receivedAck(id: Int, args: [JSONValue]) {
        let pending = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
        pending?.resume(returning: args)
    }

    /// Delivers events to handlers one at a time until the socket disconnects, then runs the
    /// disconnect handlers. Runs as a child task of the connection.
    func runEvents(logger: Logger) async {
        while let next = await nextEvent() {
            let (event, args, ackId) = (next.name, next.args, next.ackId)
            let (handler, anyHandler) = state.withLock { ($0.handlers[event], $0.anyHandler) }
            var ack: Ack?
            if let ackId {
                let once = Mutex(false)
                // Holds the socket strongly: a weak capture would give every socket that was
                // ever asked for an ack a side table, and every retain of it (one per
                // broadcast it receives) the runtime's slow path. An ack lives as long as the
                // handler keeps it, and a disconnected socket's ack sends nothing.
                ack = Ack { reply in
                    let first = once.withLock { sent -> Bool in
                        defer { sent = true }
                        return !sent
                    }
                    guard first, self.connected else { return }
                    self.send(SocketIOPacket(type: .ack, namespace: self.namespace.name, id: ackId, data: .array(reply)))
                }
            }
            if let handler {
                await handler(args, ack)
            } else if let anyHandler {
                await anyHandler(event, args)
            } else {
                logger.debug("socket.io event without handler", metadata: ["event": "\(event)", "sio.nsp": "\(namespace.name)"])
            }
        }
        let (reason, handlers) = state.withLock { ($0.disconnected ?? .transportClose, $0.disconnectHandlers) }
        for handler in handlers { await handler(reason) }
        state.withLock { state in
            state.handlers.removeAll()
            state.anyHandler = nil
            state.disconnectHandlers.removeAll()
        }
    }
}

/// Bounds on the events of one socket waiting for their handler.
public struct InboundLimits: Sendable, Hashable {
    /// The most events queued.
    public var maximumEvents: Int
    /// The most bytes queued (the packets' wire size: text plus attachments).
    public var maximumBytes: Int

    public init(maximumEvents: Int = 256, maximumBytes: Int = 1_000_000) {
        self.maximumEvents = maximumEvents
        self.maximumBytes = maximumBytes
    }
}

/// One received event waiting for its handler.
struct InboundEvent: Sendable {
    var name: String
    var args: [JSONValue]
    var ackId: Int?
    /// Its size on the wire, counted against `InboundLimits.maximumBytes`.
    var bytes: Int
}

/// A FIFO of events (a ring buffer: each is freed as it is taken) with a running byte count.
struct InboundQueue {
    private var items = CircularBuffer<InboundEvent>()
    private(set) var bytes = 0

    var count: Int { items.count }

    mutating func append(_ event: InboundEvent) {
        items.append(event)
        bytes &+= max(0, event.bytes)
    }

    mutating func popFirst() -> InboundEvent? {
        guard let event = items.popFirst() else { return nil }
        bytes &-= max(0, event.bytes)
        return event
    }

    mutating func removeAll() {
        items = CircularBuffer()
        bytes = 0
    }
}
