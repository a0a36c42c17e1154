public import EngineIO
public import Logging
public import ServiceLifecycle
import Metrics
import NIOCore
import SocketIOParser
import Synchronization

/// A Socket.IO v5 server on top of Engine.IO sessions (socket.io's `Server` + `Client`): one
/// engine session can carry sockets on several namespaces; packets are decoded (with their binary
/// attachments), CONNECT goes through the namespace's middlewares, events reach the socket.
///
/// A `Service`: `run()` serves every session from `connections`, one child task per session.
public final class SocketIOServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// How long an engine session may stay without connecting to a namespace.
        public var connectTimeout: Duration
        /// Refused CONNECTs one engine session may make; the last refusal is sent, then the session
        /// is closed (a client cannot try token after token on one connection). Unlimited by default.
        public var maxRefusedConnects: Int
        public init(connectTimeout: Duration = .seconds(45), maxRefusedConnects: Int = .max) {
            self.connectTimeout = connectTimeout
            self.maxRefusedConnects = maxRefusedConnects
        }
    }

    public let configuration: Configuration
    let connections: AsyncStream<any EngineConnection>
    let logger: Logger
    let namespaces = Mutex<[String: Namespace]>([:])
    /// The main namespace, "/".
    public let main: Namespace
    let packetsIn = Counter(label: "msab_socketio_packets_total", dimensions: [("direction", "in")])

    public init(configuration: Configuration = .init(), connections: AsyncStream<any EngineConnection>,
                logger: Logger = Logger(label: "msab.socketio")) {
        self.configuration = configuration
        self.connections = connections
        self.logger = logger
        let main = Namespace(name: "/")
        self.main = main
        namespaces.withLock { $0["/"] = main }
    }

    /// The namespace named `name` (created on first use).
    public func of(_ name: String) -> Namespace {
        namespaces.withLock { namespaces in
            if let existing = namespaces[name] { return existing }
            let namespace = Namespace(name: name)
            namespaces[name] = namespace
            return namespace
        }
    }

    func namespace(_ name: String) -> Namespace? { namespaces.withLock { $0[name] } }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.enforceConnectTimeouts() }
            for await connection in connections.cancelOnGracefulShutdown() {
                group.addTask { await self.serve(connection) }
            }
            group.cancelAll()
        }
    }

    /// Engine sessions that have not connected to a namespace yet, with their deadline. One sweeper
    /// for all of them: a per-connection sleeping task would keep a timer (and its memory) alive
    /// until its deadline even after the session is gone.
    let awaitingConnect = Mutex<[ObjectIdentifier: (connection: any EngineConnection, deadline: ContinuousClock.Instant)]>([:])

    func enforceConnectTimeouts() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            let now = ContinuousClock.now
            let expired = awaitingConnect.withLock { waiting -> [any EngineConnection] in
                let due = waiting.filter { $0.value.deadline <= now }
                for key in due.keys { waiting[key] = nil }
                return due.values.map(\.connection)
            }
            for connection in expired {
                Self.connectCounter("timeout").increment()
                connection.close()
            }
        }
    }

    static func connectCounter(_ result: String) -> Counter {
        Counter(label: "msab_socketio_connect_total", dimensions: [("result", result)])
    }

    static func makeSocketId() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        return String(decoding: (0..<20).map { _ in alphabet[Int(generator.next() % 64)] }, as: UTF8.self)
    }

    /// Serves one engine session until it closes. Never throws: one bad client cannot take
    /// anything else down.
    public func serve(_ connection: any EngineConnection) async {
        let sockets = SocketTable()  // namespace → socket on this connection
        // Connect timeout: an engine session that joins no namespace in time is closed.
        let key = ObjectIdentifier(connection)
        awaitingConnect.withLock { $0[key] = (connection, .now + configuration.connectTimeout) }
        defer { awaitingConnect.withLock { $0[key] = nil } }
        await withDiscardingTaskGroup { group in
            var pending: (header: SocketIOCodec.Header, attachments: [ByteBuffer])?
            reading: for await message in connection.inbound {
                packetsIn.increment()
                let complete: (SocketIOPacket, [ByteBuffer])
                switch message {
                case .text(let text):
                    guard pending == nil else {
                        // A text packet while attachments are expected: protocol violation.
                        connection.close()
                        break reading
                    }
                    let header: SocketIOCodec.Header
                    do { header = try SocketIOCodec.decode(text) } catch {
                        logger.debug("socket.io parse error", metadata: ["error": "\(error)"])
                        connection.close()
                        break reading
                    }
                    if header.attachments > 0 {
                        pending = (header, [])
                        continue
                    }
                    complete = (header.packet, [])
                case .binary(let bytes):
                    guard var waiting = pending else {
                        connection.close()
                        break reading
                    }
                    waiting.attachments.append(bytes)
                    if waiting.attachments.count < waiting.header.attachments {
                        pending = waiting
                        continue
                    }
                    pending = nil
                    complete = (waiting.header.packet, waiting.attachments)
                }
                var packet = complete.0
                if !complete.1.isEmpty, let data = packet.data {
                    do { packet.data = try SocketIOCodec.reconstruct(data, attachments: complete.1) } catch {
                        connection.close()
                        break reading
                    }
                }
                await handle(packet, connection: connection, sockets: sockets, group: &group)
            }
            // The session is over: every socket on it disconnects.
            let reason = DisconnectReason(await connection.closed())
            for socket in sockets.map.withLock({ Array($0.values) }) { socket.finish(reason) }
            group.cancelAll()
        }
    }

    func handle(_ packet: SocketIOPacket, connection: any EngineConnection, sockets: SocketTable,
                group: inout DiscardingTaskGroup) async {
        switch packet.type {
        case .connect:
            guard let namespace = namespace(packet.namespace) else {
                Self.connectCounter("invalid_namespace").increment()
                send(connection, SocketIOPacket(type: .connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"]))
                return
            }
            if sockets.map.withLock({ $0[packet.namespace] != nil }) { return }  // already connected there
            let handshake = SocketHandshake(engine: connection.handshake, auth: packet.data, namespace: namespace.name)
            switch await namespace.admit(handshake) {
            case .refuse(let message, let data):
                Self.connectCounter("refused").increment()
                var error = JSONObject([("message", .string(message))])
                if let data { error["data"] = data }
                send(connection, SocketIOPacket(type: .connectError, namespace: namespace.name, data: .object(error)))
                if sockets.countRefusal() >= configuration.maxRefusedConnects {
                    Self.connectCounter("refusal_limit").increment()
                    connection.close()  // flushes the CONNECT_ERROR first
                }
            case .accept(let data):
                let socket = Socket(id: Self.makeSocketId(), handshake: handshake, data: data, namespace: namespace, connection: connection)
                sockets.map.withLock { $0[namespace.name] = socket }
                awaitingConnect.withLock { $0[ObjectIdentifier(connection)] = nil }
                namespace.add(socket)
                Self.connectCounter("ok").increment()
                send(connection, SocketIOPacket(type: .connect, namespace: namespace.name, data: ["sid": .string(socket.id)]))
                let handler = namespace.connectionHandler
                let logger = self.logger
                group.addTask {
                    await handler?(socket)
                    await socket.runEvents(logger: logger)
                }
            }
        case .disconnect:
            let socket = sockets.map.withLock { $0.removeValue(forKey: packet.namespace) }
            socket?.finish(.clientNamespaceDisconnect)
        case .event, .binaryEvent:
            guard let socket = sockets.map.withLock({ $0[packet.namespace] }), case .array(let items)? = packet.data, let first = items.first else { return }
            let name: String
            switch first {
            case .string(let s): name = s
            case .number(let n): name = String(Int(n))
            default: return
            }
            socket.received(event: name, args: Array(items.dropFirst()), ackId: packet.id)
        case .ack, .binaryAck:
            guard let socket = sockets.map.withLock({ $0[packet.namespace] }), let id = packet.id, case .array(let args)? = packet.data else { return }
            socket.receivedAck(id: id, args: args)
        case .connectError:
            // Only servers send CONNECT_ERROR.
            connection.close()
        }
    }

    func send(_ connection: any EngineConnection, _ packet: SocketIOPacket) {
        let (text, attachments) = SocketIOCodec.encode(packet)
        if attachments.isEmpty { connection.send(.text(text)) } else { connection.send(contentsOf: [.text(text)] + attachments.map { .binary($0) }) }
    }
}

/// The sockets of one engine session, by namespace.
final class SocketTable: Sendable {
    let map = Mutex<[String: Socket]>([:])
    let refusedConnects = Mutex(0)

    /// Counts one refused CONNECT; returns the count so far.
    func countRefusal() -> Int { refusedConnects.withLock { $0 &+= 1; return $0 } }
}
