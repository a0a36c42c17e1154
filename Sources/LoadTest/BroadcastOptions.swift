/// What `msab loadtest --sockets N` was asked to do: connect N signalling-only clients, then have
/// the server broadcast `events` backend events to all of them (`POST /internal/events` with
/// no user and no room: contract §7.2's `io.emit`), one at a time, and measure what each
/// delivery cost the server.
public struct BroadcastOptions: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// Clients to connect.
    public var sockets: Int
    /// Connects in flight at once.
    public var concurrency: Int
    /// Events broadcast after every client connected.
    public var events: Int
    /// The server's `MSAB_INTERNAL_KEY`.
    public var internalKey: String
    /// Payload bytes of each event (padding in its JSON payload; at least the `seq`).
    public var payloadBytes: Int
    /// The server's process id, for its CPU time per recipient (from /proc).
    public var serverPID: Int32?
    /// Seconds to wait for every client to receive one event before counting the rest missing.
    public var eventTimeout: Double

    /// Events in one run at most (each is a request and a wait).
    public static let maximumEvents = 10_000
    /// Padding at most (the server's default message limit is 1 MB).
    public static let maximumPayloadBytes = 64 * 1024

    public init(
        host: String, port: Int, sockets: Int, concurrency: Int, events: Int, internalKey: String, payloadBytes: Int = 100,
        serverPID: Int32? = nil, eventTimeout: Double = 10
    ) {
        self.host = host
        self.port = port
        self.sockets = sockets
        self.concurrency = concurrency
        self.events = events
        self.internalKey = internalKey
        self.payloadBytes = payloadBytes
        self.serverPID = serverPID
        self.eventTimeout = eventTimeout
    }
}
