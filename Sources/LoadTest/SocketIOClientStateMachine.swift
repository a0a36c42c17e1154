import EngineIOParser
public import SocketIOParser

/// A Socket.IO v5 client on Engine.IO v4 over a WebSocket, sans-I/O: WebSocket text messages go
/// in, frames to send and application events come out (socket.io-protocol v5, engine.io-protocol v4).
///
/// ```
///   awaitingOpen ──0{sid,…}──▶ awaitingConnect ──40{sid}──▶ connected ──1 / 41 / close──▶ closed
///        │                          │  (we sent 40{auth})        │
///        └──────────────── 44{message} / garbage ────────────────┴──────────────────────▶ closed
/// ```
///
/// Over a WebSocket the server pings (`2`) and we pong (`3`); acks are matched by id and at most
/// ``maximumPendingAcks`` may be outstanding, so a server that never answers cannot grow the table.
public struct SocketIOClientStateMachine: Sendable {
    /// Where the connection is.
    public enum State: Sendable, Hashable {
        /// Waiting for the Engine.IO open packet.
        case awaitingOpen
        /// Socket.IO CONNECT (with auth) sent, waiting for the server's CONNECT.
        case awaitingConnect
        /// The namespace is connected.
        case connected(sid: String)
        /// Closed, with the reason; terminal.
        case closed(reason: String)
    }

    /// What the caller must do or learns.
    public enum Output: Sendable, Hashable {
        /// Send this text as one WebSocket text message.
        case send(String)
        /// The Socket.IO connection is up.
        case connected(sid: String)
        /// The answer to an ``emit(_:_:)`` with this id (its arguments).
        case ack(id: Int, args: [JSONValue])
        /// A server event.
        case event(name: String, args: [JSONValue])
        /// The connection ended (connect_error message, close packet, protocol error).
        case closed(reason: String)
    }

    /// At most this many emits may wait for their ack.
    public static let maximumPendingAcks = 64

    // MARK: - Stored properties

    public private(set) var state: State = .awaitingOpen
    private let auth: JSONValue
    private var nextAckID = 0
    private var pendingAcks: Set<Int> = []

    // MARK: - Init

    /// - Parameter auth: the CONNECT payload, e.g. `{"token": "…"}`.
    public init(auth: JSONValue) {
        self.auth = auth
    }

    // MARK: - API

    /// How many emits wait for an ack.
    public var pendingAckCount: Int { pendingAcks.count }

    /// Handles one WebSocket text message.
    public mutating func receive(text: String) -> [Output] {
        if case .closed = state { return [] }
        let packet: EnginePacket
        do {
            packet = try EngineIOCodec.decodeText(text)
        } catch {
            return close("Engine.IO: \(error.reason)")
        }
        switch packet.type {
        case .open:
            guard case .awaitingOpen = state else { return close("second Engine.IO open") }
            state = .awaitingConnect
            let connect = SocketIOCodec.encode(SocketIOPacket(type: .connect, data: auth)).text
            return [.send("4" + connect)]
        case .ping:
            // v4: the server pings, the client answers with the same payload.
            if case .text(let probe) = packet.payload { return [.send("3" + probe)] }
            return [.send("3")]
        case .close:
            return close("Engine.IO close")
        case .pong, .upgrade, .noop:
            return []
        case .message:
            guard case .text(let body) = packet.payload else { return close("unexpected binary message") }
            return receive(socketIO: body)
        }
    }

    /// A binary WebSocket message: the load test's server never sends attachments, so this is
    /// a protocol error.
    public mutating func receiveBinary() -> [Output] {
        if case .closed = state { return [] }
        return close("unexpected binary attachment")
    }

    /// The transport went away.
    public mutating func transportClosed() -> [Output] {
        if case .closed = state { return [] }
        return close("transport closed")
    }

    /// Emits `name` with one payload and an ack id. Nil when not connected or when
    /// ``maximumPendingAcks`` acks are outstanding.
    public mutating func emit(_ name: String, _ payload: JSONValue) -> (id: Int, frame: String)? {
        guard case .connected = state, pendingAcks.count < Self.maximumPendingAcks else { return nil }
        let id = nextAckID
        nextAckID = nextAckID == SocketIOCodec.maximumAckId ? 0 : nextAckID + 1
        pendingAcks.insert(id)
        let text = SocketIOCodec.encode(SocketIOPacket(type: .event, id: id, data: .array([.string(name), payload]))).text
        return (id, "4" + text)
    }

    /// Emits without an ack (nil when not connected).
    public func emitWithoutAck(_ name: String, _ payload: JSONValue) -> String? {
        guard case .connected = state else { return nil }
        return "4" + SocketIOCodec.encode(SocketIOPacket(type: .event, data: .array([.string(name), payload]))).text
    }

    // MARK: - Private

    private mutating func receive(socketIO body: String) -> [Output] {
        let header: SocketIOCodec.Header
        do {
            header = try SocketIOCodec.decode(body)
        } catch {
            return close("Socket.IO: \(error.reason)")
        }
        guard header.attachments == 0 else { return close("unexpected binary attachment") }
        let packet = header.packet
        guard packet.namespace == "/" else { return [] }
        switch packet.type {
        case .connect:
            guard case .awaitingConnect = state else { return close("unexpected CONNECT") }
            let sid = packet.data?["sid"]?.stringValue ?? ""
            state = .connected(sid: sid)
            return [.connected(sid: sid)]
        case .connectError:
            let message = packet.data?["message"]?.stringValue ?? packet.data?.stringValue ?? "connect_error"
            return close(message)
        case .disconnect:
            return close("server disconnect")
        case .event:
            guard case .connected = state, case .array(let items)? = packet.data, let name = packet.eventName else { return [] }
            return [.event(name: name, args: Array(items.dropFirst()))]
        case .ack:
            guard let id = packet.id, pendingAcks.remove(id) != nil, case .array(let items)? = packet.data else { return [] }
            return [.ack(id: id, args: items)]
        case .binaryEvent, .binaryAck:
            return close("unexpected binary packet")
        }
    }

    private mutating func close(_ reason: String) -> [Output] {
        state = .closed(reason: reason)
        pendingAcks.removeAll()
        return [.closed(reason: reason)]
    }
}
