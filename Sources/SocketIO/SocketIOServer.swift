public import EngineIO
public import Logging
import Metrics
import NIOCore
public import ServiceLifecycle
import SocketIOParser
import Synchronization

/// A Socket.IO v5 server on top of Engine.IO sessions (socket.io's `Server` + `Client`): one
/// engine session can carry sockets on several namespaces; packets are decoded (with their binary
/// attachments), CONNECT goes through the namespace's middlewares, events reach the socket.
///
/// A `Service`: `run()` serves every session from `connections`, one child task per session.
public final class SocketIOServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// How long an engine session may stay without connecting to a namespace, and how long
        /// the attachments a binary packet announced may take to arrive.
        public var connectTimeout: Duration
        /// The most bytes the attachments of one binary packet may total (Engine.IO's maxPayload).
        public var maxPayload: Int
        /// Bounds on each socket's events waiting for their handler.
        public var inboundLimits: InboundLimits

        /// Refused CONNECTs one engine session may make; the last refusal is sent, then the session
        /// is closed (a client cannot try token after token on one connection). Unlimited by default.
        public var maxRefusedConnects: Int

        public init(
            connectTimeout: Duration = .seconds(45), maxPayload: Int = 1_000_000, inboundLimits: InboundLimits = InboundLimits(),
            maxRefusedConnects: Int = .max
        ) {
            self.connectTimeout = connectTimeout
            self.maxPayload = maxPayload
            self.inboundLimits = inboundLimits
            self.maxRefusedConnects = maxRefusedConnects
        }
    }

    /// Why the Socket.IO layer closed an engine session (`msab_socketio_closed_total{reason}`).
    public enum CloseReason: String, Sendable, CaseIterable {
        /// A packet socket.io-parser would reject (bad type, id out of range, bad JSON, too many attachments).
        case parseError = "parse_error"
        /// A text packet while a binary packet's attachments were expected, a binary message
        /// nobody announced, a CONNECT_ERROR from a client (socket.io closes on each).
        case protocolViolation = "protocol_violation"
        /// A placeholder pointing to no attachment.
        case badAttachment = "bad_attachment"
        /// Attachments totalling more than maxPayload.
        case attachmentsTooLarge = "attachments_too_large"
        /// Announced attachments that did not arrive within connectTimeout.
        case attachmentTimeout = "attachment_timeout"
        /// A socket whose queued events exceeded `InboundLimits`.
        case inboundOverflow = "inbound_overflow"
    }

    public let configuration: Configuration
    let connections: AsyncStream<any EngineConnection>
    let logger: Logger
    let namespaces = Mutex<[String: Namespace]>([:])
    /// The main namespace, "/".
    public let main: Namespace
    let packetsIn = Counter(label: "msab_socketio_packets_total", dimensions: [("direction", "in")])
    let closedCounters: [CloseReason: Counter] = Dictionary(
        uniqueKeysWithValues: CloseReason.allCases.map { ($0, Counter(label: "msab_socketio_closed_total", dimensions: [("reason", $0.rawValue)])) })

    /// Makes each namespace's adapter (socket.io's `adapter` option): in memory by default.
    let makeAdapter: @Sendable (String) -> any SocketIOAdapter

    public init(
        configuration: Configuration = .init(), connections: AsyncStream<any EngineConnection>,
        adapter: @escaping @Sendable (_ namespace: String) -> any SocketIOAdapter = { _ in InMemoryAdapter() },
        logger: Logger = Logger(label: "msab.socketio")
    ) {
        self.configuration = configuration
        self.connections = connections
        self.logger = logger
        self.makeAdapter = adapter
        let main = Namespace(name: "/", adapter: adapter("/"))
        self.main = main
        namespaces.withLock { $0["/"] = main }
        main.adapter.attach(to: main)
    }

    /// The namespace named `name` (created on first use).
    public func of(_ name: String) -> Namespace {
        namespaces.withLock { namespaces in
            if let existing = namespaces[name] { return existing }
            let namespace = Namespace(name: name, adapter: makeAdapter(name))
            namespaces[name] = namespace
            namespace.adapter.attach(to: namespace)
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
    /// Engine sessions in the middle of a binary packet, with the deadline of its attachments.
    let awaitingAttachments = Mutex<[ObjectIdentifier: (connection: any EngineConnection, deadline: ContinuousClock.Instant)]>([:])

    func enforceConnectTimeouts() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            let now = ContinuousClock.now
            for connection in Self.takeExpired(awaitingConnect, now: now) {
                Self.connectCounter("timeout").increment()
                connection.close()
            }
            for connection in Self.takeExpired(awaitingAttachments, now: now) {
                closed(connection, .attachmentTimeout)
            }
        }
    }

    static func takeExpired(
        _ table: borrowing Mutex<[ObjectIdentifier: (connection: any EngineConnection, deadline: ContinuousClock.Instant)]>,
        now: ContinuousClock.Instant
    ) -> [any EngineConnection] {
        table.withLock { waiting -> [any EngineConnection] in
            let due = waiting.filter { $0.value.deadline <= now }
            for key in due.keys { waiting[key] = nil }
            return due.values.map(\.connection)
        }
    }

    /// Closes an engine session for a named reason: counted, logged at debug level.
    func closed(_ connection: any EngineConnection, _ reason: CloseReason, _ detail: String = "") {
        closedCounters[reason]?.increment()
        logger.debug(
            "socket.io closes the session", metadata: ["eio.sid": "\(connection.id)", "reason": "\(reason.rawValue)", "detail": "\(detail)"])
        connection.close()
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
        defer {
            awaitingConnect.withLock { $0[key] = nil }
            awaitingAttachments.withLock { $0[key] = nil }
        }
        await withDiscardingTaskGroup { group in
            // A binary packet whose attachments are arriving: at most `maximumAttachments` of
            // them, totalling at most maxPayload, within connectTimeout (else the session closes
            // and this is freed with it).
            var pending: (header: SocketIOCodec.Header, attachments: [ByteBuffer], bytes: Int, textBytes: Int)?
            reading: for await message in connection.inbound {
                packetsIn.increment()
                let complete: (SocketIOPacket, [ByteBuffer])
                let wireBytes: Int
                switch message {
                case .text(let text):
                    guard pending == nil else {
                        // A text packet while attachments are expected (socket.io-parser:
                        // "got plaintext data when reconstructing a packet").
                        closed(connection, .protocolViolation, "text while attachments were expected")
                        break reading
                    }
                    let header: SocketIOCodec.Header
                    do { header = try SocketIOCodec.decode(text) } catch {
                        closed(connection, .parseError, "\(error)")
                        break reading
                    }
                    if header.attachments > 0 {
                        pending = (header, [], 0, text.utf8.count)
                        awaitingAttachments.withLock { $0[key] = (connection, .now + configuration.connectTimeout) }
                        continue
                    }
                    complete = (header.packet, [])
                    wireBytes = text.utf8.count
                case .binary(let bytes):
                    guard var waiting = pending else {
                        closed(connection, .protocolViolation, "binary message nobody announced")
                        break reading
                    }
                    pending = nil  // no copy of the buffers stays behind while `waiting` grows
                    waiting.bytes = waiting.bytes &+ bytes.readableBytes  // ≤ maxPayload + one message: no overflow
                    guard waiting.bytes <= configuration.maxPayload else {
                        closed(connection, .attachmentsTooLarge, "\(waiting.bytes) bytes")
                        break reading
                    }
                    waiting.attachments.append(bytes)
                    if waiting.attachments.count < waiting.header.attachments {
                        pending = waiting
                        continue
                    }
                    awaitingAttachments.withLock { $0[key] = nil }
                    complete = (waiting.header.packet, waiting.attachments)
                    wireBytes = waiting.textBytes &+ waiting.bytes
                }
                var packet = complete.0
                if !complete.1.isEmpty, let data = packet.data {
                    do { packet.data = try SocketIOCodec.reconstruct(data, attachments: complete.1) } catch {
                        closed(connection, .badAttachment)
                        break reading
                    }
                }
                guard await handle(packet, wireBytes: wireBytes, connection: connection, sockets: sockets, group: &group) else { break reading }
            }
            pending = nil
            // The session is over: every socket on it disconnects.
            let reason = DisconnectReason(await connection.closed())
            for socket in sockets.map.withLock({ Array($0.values) }) { socket.finish(reason) }
            group.cancelAll()
        }
    }

    /// Acts on one complete packet; false when the session was closed and reading must stop.
    func handle(
        _ packet: SocketIOPacket, wireBytes: Int, connection: any EngineConnection, sockets: SocketTable,
        group: inout DiscardingTaskGroup
    ) async -> Bool {
        switch packet.type {
        case .connect:
            guard let namespace = namespace(packet.namespace) else {
                Self.connectCounter("invalid_namespace").increment()
                send(connection, SocketIOPacket(type: .connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"]))
                return true
            }
            if sockets.map.withLock({ $0[packet.namespace] != nil }) { return true }  // already connected there
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
                let socket = Socket(
                    id: Self.makeSocketId(), handshake: handshake, data: data, namespace: namespace, connection: connection,
                    limits: configuration.inboundLimits)
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
            guard let socket = sockets.map.withLock({ $0[packet.namespace] }), case .array(let items)? = packet.data,
                let name = packet.eventName
            else { return true }
            guard socket.received(event: name, args: Array(items.dropFirst()), ackId: packet.id, bytes: wireBytes) else {
                let queued = socket.queued
                logger.warning(
                    "socket.io client outran its handlers: disconnected",
                    metadata: [
                        "eio.sid": "\(connection.id)", "sio.nsp": "\(packet.namespace)", "sio.sid": "\(socket.id)",
                        "queued.events": "\(queued.events)", "queued.bytes": "\(queued.bytes)",
                        "limit.events": "\(configuration.inboundLimits.maximumEvents)",
                        "limit.bytes": "\(configuration.inboundLimits.maximumBytes)",
                    ])
                closedCounters[.inboundOverflow]?.increment()
                socket.overflowed()
                return false
            }
        case .ack, .binaryAck:
            guard let socket = sockets.map.withLock({ $0[packet.namespace] }), let id = packet.id, case .array(let args)? = packet.data else {
                return true
            }
            socket.receivedAck(id: id, args: args)
        case .connectError:
            // Only servers send CONNECT_ERROR.
            closed(connection, .protocolViolation, "CONNECT_ERROR from a client")
            return false
        }
        return true
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
    func countRefusal() -> Int {
        refusedConnects.withLock {
            $0 &+= 1
            return $0
        }
    }
}
