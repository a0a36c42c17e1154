import EngineIO
import Metrics
public import NIOCore
public import SocketIOParser
import Synchronization

/// A Socket.IO namespace: its middlewares, connection handler, sockets and rooms.
public final class Namespace: Sendable {
    public let name: String
    public let adapter: any SocketIOAdapter

    struct State {
        var middlewares: [@Sendable (SocketHandshake) async -> MiddlewareResult] = []
        var connectionHandler: (@Sendable (Socket) async -> Void)?
        var sockets: [String: Socket] = [:]
    }

    let state = Mutex(State())
    let packetsOut = Counter(label: "msab_socketio_packets_total", dimensions: [("direction", "out")])
    let socketsGauge: Gauge

    init(name: String, adapter: any SocketIOAdapter = InMemoryAdapter()) {
        self.name = name
        self.adapter = adapter
        self.socketsGauge = Gauge(label: "msab_socketio_sockets", dimensions: [("nsp", name)])
    }

    /// Adds a middleware run for every connection to this namespace, in order; the first refusal wins.
    public func use(_ middleware: @escaping @Sendable (SocketHandshake) async -> MiddlewareResult) {
        state.withLock { $0.middlewares.append(middleware) }
    }

    /// Called for every accepted socket, after the client was told it is connected.
    public func onConnection(_ handler: @escaping @Sendable (Socket) async -> Void) {
        state.withLock { $0.connectionHandler = handler }
    }

    public func to(_ room: String) -> BroadcastOperator { BroadcastOperator(namespace: self, rooms: [room], except: []) }
    public func except(_ room: String) -> BroadcastOperator { BroadcastOperator(namespace: self, rooms: [], except: [room]) }
    /// Every socket of the namespace (on every node).
    public var everyone: BroadcastOperator { BroadcastOperator(namespace: self, rooms: [], except: []) }

    /// Emits to every socket of the namespace.
    public func emit(_ event: String, _ args: JSONValue...) {
        everyone.emit(event, args: args)
    }

    public func socket(id: String) -> Socket? { state.withLock { $0.sockets[id] } }
    public var socketCount: Int { state.withLock { $0.sockets.count } }
    public var allSockets: [Socket] { state.withLock { Array($0.sockets.values) } }

    /// Writes a packet to this node's sockets in any of `rooms` (all when empty) and in none of
    /// `except`, encoding it once. Broadcasts end here; a cluster adapter calls it for the
    /// broadcasts other nodes publish. With `gate`, the sockets' frames are queued now (their
    /// order stays) and their writes start from a task on `gate` (the adapter's publish first).
    public func deliverLocally(_ packet: SocketIOPacket, rooms: Set<String>, except: Set<String>, after gate: (any EventLoop)? = nil) {
        let (text, attachments) = SocketIOCodec.encode(packet)
        // Encoded once down to the Engine.IO frames: every socket queues the same ones.
        let broadcast = EngineBroadcastMessage([.text(text)] + attachments.map { .binary($0) })
        // To everyone (`io.emit`): the namespace's own sockets, without building a set of
        // 10,000 ids from the adapter only to look each of them up again. The adapter knows
        // the same sockets (`add`/`remove` update both, this namespace first).
        let sockets =
            rooms.isEmpty && except.isEmpty
            ? state.withLock { Array($0.sockets.values) }
            : sockets(ids: adapter.sockets(in: rooms, except: except))
        // One event-loop hop per loop for the whole fan-out, not one per socket.
        EngineWriteBatch.collect(after: gate) {
            let count = sockets.count
            for index in 0..<count {
                // With thousands of recipients their objects are out of cache: ask for the
                // next ones' (the socket, then its session) while this one is served.
                if index &+ 2 < count { enginePrefetch(sockets[index &+ 2], lines: 4) }
                if index &+ 1 < count { enginePrefetch(sockets[index &+ 1].connection, lines: 4) }
                sockets[index].connection.send(broadcast: broadcast)
            }
        }
        countOut(sockets.count)
    }

    func sockets(ids: Set<String>) -> [Socket] {
        state.withLock { state in ids.compactMap { state.sockets[$0] } }
    }

    func countOut(_ n: Int = 1) { packetsOut.increment(by: n) }

    func admit(_ handshake: SocketHandshake) async -> MiddlewareResult {
        let middlewares = state.withLock { $0.middlewares }
        var data: (any Sendable)?
        for middleware in middlewares {
            switch await middleware(handshake) {
            case .refuse(let message, let extra): return .refuse(message, data: extra)
            case .accept(let attached): if let attached { data = attached }
            }
        }
        return .accept(data)
    }

    func add(_ socket: Socket) {
        let count = state.withLock { state in
            state.sockets[socket.id] = socket
            return state.sockets.count
        }
        adapter.add(socket.id, to: socket.id)
        socketsGauge.record(count)
    }

    func remove(_ socket: Socket) {
        let count = state.withLock { state in
            if state.sockets[socket.id] === socket { state.sockets[socket.id] = nil }
            return state.sockets.count
        }
        adapter.removeAll(socket.id)
        socketsGauge.record(count)
    }

    var connectionHandler: (@Sendable (Socket) async -> Void)? { state.withLock { $0.connectionHandler } }
}
