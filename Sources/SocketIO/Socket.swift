import EngineIO
public import SocketIOParser
import Logging
import Synchronization

/// A client connected to one namespace (socket.io's server-side `Socket`).
///
/// Events of one socket reach their handlers in arrival order, one at a time: the next handler
/// starts when the previous one returns (so `transport:connect` is handled before the `audio:produce`
/// the client sent after it). Different sockets run concurrently.
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
    }

    let state = Mutex(State())
    let events: AsyncStream<(String, [JSONValue], Int?)>
    let eventsContinuation: AsyncStream<(String, [JSONValue], Int?)>.Continuation

    init(id: String, handshake: SocketHandshake, data: (any Sendable)?, namespace: Namespace, connection: any EngineConnection) {
        self.id = id
        self.handshake = handshake
        self.data = data
        self.namespace = namespace
        self.connection = connection
        (events, eventsContinuation) = AsyncStream.makeStream(of: (String, [JSONValue], Int?).self)
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
            defer { state.nextAckId += 1 }
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

    /// Marks the socket gone; the event loop then runs the disconnect handlers and cleans up.
    func finish(_ reason: DisconnectReason) {
        let pending = state.withLock { state -> [CheckedContinuation<[JSONValue], any Error>]? in
            guard state.disconnected == nil else { return nil }
            state.disconnected = reason
            defer { state.pendingAcks.removeAll() }
            return Array(state.pendingAcks.values)
        }
        guard let pending else { return }
        for continuation in pending { continuation.resume(throwing: AckTimeoutError()) }
        namespace.remove(self)
        eventsContinuation.finish()
    }

    // MARK: - inbound

    func received(event: String, args: [JSONValue], ackId: Int?) {
        eventsContinuation.yield((event, args, ackId))
    }

    func receivedAck(id: Int, args: [JSONValue]) {
        let pending = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
        pending?.resume(returning: args)
    }

    /// Delivers events to handlers one at a time until the socket disconnects, then runs the
    /// disconnect handlers. Runs as a child task of the connection.
    func runEvents(logger: Logger) async {
        for await (event, args, ackId) in events {
            let (handler, anyHandler) = state.withLock { ($0.handlers[event], $0.anyHandler) }
            var ack: Ack?
            if let ackId {
                let once = Mutex(false)
                ack = Ack { [weak self] reply in
                    guard let self else { return }
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
