/// What `msab loadtest --sockets N --room-messages M` was asked to do (issue 12's cluster
/// benchmark): connect N signalling-only clients to one room, spread round-robin over the nodes of
/// a cluster, have the first client (on the first node) send M `chat:message`s at `rate` per
/// second and then `burst` back to back, and measure when each client received each one: the
/// latency per node, so what crossing nodes through Redis adds is the difference.
public struct RoomFanoutOptions: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The cluster's nodes; clients go round-robin over them, the sender to the first.
    public var nodes: [Node]
    public var room: String
    public var sockets: Int
    /// Connects in flight at once.
    public var concurrency: Int
    /// Messages sent at `rate` per second (latency: a rate the machine sustains, so the figures are
    /// delivery, not queueing).
    public var messages: Int
    public var rate: Double
    /// Messages sent back to back afterwards (throughput). Each client's server-side queue is
    /// bounded, so this is bounded too.
    public var burst: Int
    /// Seconds to wait for the last message to reach everyone.
    public var timeout: Double

    public static let maximumNodes = 16
    public static let maximumMessages = 10_000
    public static let maximumBurst = 200
    /// Latency samples kept at most (8 bytes each); beyond it deliveries are counted, not timed.
    public static let maximumSamples = 4_000_000

    public init(
        nodes: [Node], room: String, sockets: Int, concurrency: Int, messages: Int, rate: Double = 5, burst: Int = 100, timeout: Double = 30
    ) {
        self.nodes = nodes
        self.room = room
        self.sockets = sockets
        self.concurrency = concurrency
        self.messages = messages
        self.rate = rate
        self.burst = burst
        self.timeout = timeout
    }
}
