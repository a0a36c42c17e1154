/// What `msab loadtest` was asked to do.
public struct LoadTestOptions: Sendable, Hashable {
    /// The server kind driven: msab (Socket.IO + mediasoup JSON) or Janus's VideoRoom plugin
    /// (Janus WebSocket API + SDP), with the same media legs either way.
    public enum Target: String, Sendable, Hashable, CaseIterable {
        case msab
        case janus
    }

    public var target: Target = .msab
    /// Server host and port (from `--url`).
    public var host: String
    public var port: Int
    /// The room every participant joins.
    public var room: String
    /// Speakers (each takes seat 0, 1, …; at most 15 seats exist) and listeners.
    public var speakers: Int
    public var listeners: Int
    /// Listener joins in flight at once.
    public var concurrency: Int
    /// Seconds of audio measured after the last join settled.
    public var duration: Double
    /// A join that has not reached audio after this many seconds fails.
    public var joinTimeout: Double
    /// User ids are `firstUserID + index` (speakers first).
    public var firstUserID: Int
    /// The server's process id, when it runs on this machine: its CPU time is then reported per
    /// join and per forwarded packet.
    public var serverPID: Int32?
    /// `--churn`: keep the room changing for `duration` seconds after the first joins (nil: the
    /// default, a room that sits still while the audio is measured).
    public var churn: ChurnOptions?
    /// Janus: the VideoRoom room id (numeric), and the source address of the media legs (the
    /// address Janus will see; nil: the one the kernel routes toward `host`).
    public var janusRoom: UInt64 = 1234
    public var mediaAddress: String?

    /// Seats in a room (contract §1: 15).
    public static let maximumSpeakers = 15
    /// Participants one process drives at most (two sockets each: keep clear of fd limits).
    public static let maximumParticipants = 20_000

    public init(
        host: String, port: Int, room: String, speakers: Int, listeners: Int, concurrency: Int, duration: Double,
        joinTimeout: Double = 30, firstUserID: Int = 100_000, serverPID: Int32? = nil, churn: ChurnOptions? = nil
    ) {
        self.host = host
        self.port = port
        self.room = room
        self.speakers = speakers
        self.listeners = listeners
        self.concurrency = concurrency
        self.duration = duration
        self.joinTimeout = joinTimeout
        self.firstUserID = firstUserID
        self.serverPID = serverPID
        self.churn = churn
    }

    /// Tokens the run needs: one per participant, and the churn's extra users.
    public var tokenCount: Int { speakers + listeners + (churn?.extraUsers ?? 0) }

    /// Parses `http://host:port`, `ws://host:port` (path ignored; https/wss are not supported).
    public static func parseURL(_ url: String) -> (host: String, port: Int)? {
        var rest = Substring(url)
        var defaultPort = 80
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("ws://") {
            rest = rest.dropFirst(5)
        } else if rest.contains("://") {
            return nil
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard !rest.isEmpty else { return nil }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            let host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty { return (host, defaultPort) }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), (1...65_535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty else { return nil }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
            defaultPort = port
        }
        return (String(parts[0]), defaultPort)
    }
}
