import Foundation

/// Everything `msab serve` reads from its environment, validated once at start.
///
/// Names are the reference server's (contract §8.2) wherever one exists, so an MSAB deployment can
/// switch binaries without rewriting its environment; settings that are new in msab are `MSAB_*`.
/// A bad value stops the process with one line naming the variable (design.md §3).
public struct Configuration: Sendable {
    // MARK: HTTP / signalling
    /// Address the HTTP server binds (`MSAB_HOST`, default all interfaces as the reference does).
    public var host: String = "0.0.0.0"
    /// `PORT` (3030).
    public var port: Int = 3030
    /// `CORS_ORIGINS`: the allowed `Origin` values; `*` allows any.
    public var corsOrigins: [String] = ["https://flyliveapp.com", "https://www.flyliveapp.com"]
    /// `MSAB_PING_INTERVAL_MS` / `MSAB_PING_TIMEOUT_MS` (Socket.IO defaults 25000 / 20000).
    public var pingIntervalMs: Int = 25_000
    public var pingTimeoutMs: Int = 20_000
    /// `MSAB_MAX_PAYLOAD` (Socket.IO's maxHttpBufferSize, 1 MB).
    public var maxPayload: Int = 1_000_000
    /// `MSAB_CONNECT_TIMEOUT_MS`: time an Engine.IO session has to connect a namespace (45000).
    public var connectTimeoutMs: Int = 45_000
    /// `MSAB_MAX_REFUSED_CONNECTS`: refused Socket.IO connects (bad token, bad origin) one Engine.IO
    /// connection may make before msab closes it (5).
    public var maxRefusedConnects: Int = 5
    /// `SSL_KEY_PATH` + `SSL_CERT_PATH` (PEM; both or neither): serve HTTPS and WSS on `PORT`.
    public var sslKeyPath: String?
    public var sslCertPath: String?
    /// `MSAB_SHUTDOWN_TIMEOUT_MS`: the cap on a graceful shutdown (30000, the reference's).
    public var shutdownTimeoutMs: Int = 30_000
    /// `MSAB_SOCKET_QUEUE_EVENTS` / `MSAB_SOCKET_QUEUE_BYTES`: events of one socket waiting for
    /// their handler (256 / 1 MB); a client that queues more is disconnected.
    public var socketQueueEvents: Int = 256
    public var socketQueueBytes: Int = 1_000_000
    /// `MSAB_MAX_SESSIONS` / `MSAB_MAX_SESSIONS_PER_IP`: concurrent Engine.IO sessions in total and
    /// per remote address (10000 / 256; 0 = no limit). Over it a handshake gets 403 code 4.
    public var maxSessions: Int = 10_000
    public var maxSessionsPerIP: Int = 256
    /// `LOG_LEVEL` (info).
    public var logLevel: String = "info"

    // MARK: identity and backend
    /// `MSAB_DATA_DIR` (`.msab` under the working directory): dev secret, gift ledger and queue.
    public var dataDirectory: String = ".msab"
    /// `MSAB_JWT_SECRET`: HS256 secret of stand-alone mode (≥ 32 bytes). Nil → a development
    /// secret is created in the data directory.
    public var jwtSecret: String?
    /// `LARAVEL_API_URL` + `LARAVEL_INTERNAL_KEY`: the FlyLive backend mode (contract §7.1).
    public var laravelAPIURL: String?
    public var laravelInternalKey: String?
    /// `MSAB_INTERNAL_KEY`: the key for `POST /internal/events` in stand-alone mode
    /// (in Laravel mode the Laravel internal key is used). Nil → created in the data directory.
    public var internalKey: String?

    // MARK: Redis (scale-out mode; off unless REDIS_HOST is set)
    public var redisHost: String?
    public var redisPort: Int = 6379
    public var redisUsername: String?
    public var redisPassword: String?
    public var redisDB: Int = 3
    public var redisTLS: Bool = false
    public var eventsChannel: String = "flylive:msab:events"
    public var eventsEnabled: Bool = true
    /// How long a node's presence key lives without a refresh (`MSAB_NODE_TTL_MS`): a node killed
    /// without a goodbye has its sockets removed from their rooms this long after it died (plus
    /// a third of it, the sweep period).
    public var nodePresenceTTLMs: Int = 15_000

    // MARK: media
    /// `MEDIASOUP_LISTEN_IP` (0.0.0.0) and `MEDIASOUP_ANNOUNCED_IP` (the address put in ICE candidates).
    public var mediaListenIP: String = "0.0.0.0"
    public var mediaAnnouncedIP: String?
    /// `MSAB_PIPE_IP`: the address this node's pipe transports give other nodes (and other
    /// workers) to send to, i.e. the address they see our pipe datagrams come from (issue 13).
    /// Unset: the listen IP, or loopback when listening on a wildcard — enough for nodes on one
    /// host; nodes on several hosts need an address of this host they can reach (not a NAT's
    /// public address: the pipe's demultiplexing checks the datagrams' source).
    public var pipeIP: String?
    /// `MEDIASOUP_RTC_MIN_PORT` / `MEDIASOUP_RTC_MAX_PORT`: worker k listens on min + k.
    public var rtcMinPort: Int = 10_000
    public var rtcMaxPort: Int = 59_999
    /// `MEDIASOUP_NUM_WORKERS` (one per core).
    public var numWorkers: Int = ProcessInfo.processInfo.activeProcessorCount
    /// `MSAB_MAX_CONSUMERS_PER_TRANSPORT` (32): a listener needs one per seat (at most 15).
    public var maxConsumersPerTransport: Int = 32
    /// `MSAB_MAX_CONSUMERS_PER_WORKER` (1000): once the worker of a room's router holds this many
    /// consumers, the room's new transports go to a router on the least-loaded worker, which
    /// gets the room's producers through pipe transports. Reasoned, not yet measured: the
    /// loopback bench loses 32–87 % at 5,000 consumers on one worker; 1,000 is its next lower
    /// point, a fifth of that.
    public var maxConsumersPerWorker: Int = 1_000

    // MARK: rooms
    public var rateLimitMessagesPerMinute: Int = 60
    /// `MAX_ROOMS_PER_WORKER` (100): with `MEDIASOUP_NUM_WORKERS`, the rooms this node opens at once
    /// (the reference reads it and ignores it); a join that would open one more is refused "Room limit reached".
    public var maxRoomsPerWorker: Int = 100
    /// `MSAB_ROOM_EVENTS_PER_MINUTE`: per user, the events that broadcast to a whole room (`seat:*`,
    /// `gift:prepare`, `audio:produce`, `audio:selfMute`/`selfUnmute`, `room:join`); beyond it they are
    /// refused "Too many requests". Generous (20/s on average): a person never reaches it, a script does.
    public var roomEventsPerMinute: Int = 1_200
    public var roomInactivityTimeoutMs: Int = 30_000
    public var roomAutoClosePollIntervalMs: Int = 30_000
    public var giftBufferFlushIntervalMs: Int = 500
    public var giftMaxRetries: Int = 3
    public var defaultSeatCount: Int = 15
    /// `MSAB_SEAT_RETENTION_MS`: a dropped speaker gets the seat back within this grace (45000).
    public var seatRetentionMs: Int = 45_000
    /// `MSAB_INVITE_TTL_MS`: seat invite lifetime (30000; settable so tests need not wait 30 s).
    public var inviteTTLMs: Int = 30_000
    /// `MSAB_SEATED_SPEAKERS_ONLY` (true): the room hears seat holders only; false restores the
    /// reference's "anyone with a producer is heard" (see `StagePolicy`).
    public var seatedSpeakersOnly = true

    public init() {}

    /// The rooms this node may hold at once: `MAX_ROOMS_PER_WORKER` × `MEDIASOUP_NUM_WORKERS`.
    public var maxRooms: Int {
        let (product, overflow) = maxRoomsPerWorker.multipliedReportingOverflow(by: numWorkers)
        return overflow ? .max : product
    }

    /// HTTPS and WSS (both TLS files given).
    public var usesTLS: Bool { sslKeyPath != nil && sslCertPath != nil }

    /// Settings that work but deserve a line in the log at start.
    public var warnings: [String] {
        var warnings: [String] = []
        if let text = laravelAPIURL, let url = URL(string: text), url.scheme == "http", let host = url.host, !Self.isLoopback(host) {
            warnings.append(
                "LARAVEL_API_URL is plain http to \(host), not a loopback address: user tokens and the internal key cross the network in clear; use https"
            )
        }
        if usesRedis, pipeIP == nil, ["0.0.0.0", "::", "127.0.0.1", "::1"].contains(mediaListenIP) {
            warnings.append(
                "MSAB_PIPE_IP is unset: other nodes are given a loopback address for this node's speakers, which only nodes on this host can reach")
        }
        return warnings
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare.hasSuffix(".localhost") || bare == "::1" || bare.hasPrefix("127.")
    }

    /// Stand-alone unless the Laravel backend is configured.
    public var usesLaravel: Bool { laravelAPIURL != nil }
    /// In memory unless Redis is configured.
    public var usesRedis: Bool { redisHost != nil }
}

/// A configuration value that cannot be used; `description` is the one line printed at start.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var variable: String
    public var problem: String
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "invalid configuration: \(variable): \(problem)" }
}

extension Configuration {
    /// Reads and validates the environment. Unknown variables are ignored, as the reference does.
    public init(environment env: [String: String]) throws(ConfigurationError) {
        self.init()
        let reader = EnvironmentReader(env: env)
        host = try reader.string("MSAB_HOST", default: host, nonEmpty: true)
        port = try reader.int("PORT", default: port, in: 0...65_535)
        corsOrigins = try reader.list("CORS_ORIGINS", default: corsOrigins)
        pingIntervalMs = try reader.int("MSAB_PING_INTERVAL_MS", default: pingIntervalMs, in: 1...3_600_000)
        pingTimeoutMs = try reader.int("MSAB_PING_TIMEOUT_MS", default: pingTimeoutMs, in: 1...3_600_000)
        maxPayload = try reader.int("MSAB_MAX_PAYLOAD", default: maxPayload, in: 1_024...100_000_000)
        connectTimeoutMs = try reader.int("MSAB_CONNECT_TIMEOUT_MS", default: connectTimeoutMs, in: 1...3_600_000)
        shutdownTimeoutMs = try reader.int("MSAB_SHUTDOWN_TIMEOUT_MS", default: shutdownTimeoutMs, in: 1...3_600_000)
        maxRefusedConnects = try reader.int("MSAB_MAX_REFUSED_CONNECTS", default: maxRefusedConnects, in: 1...1_000_000)
        socketQueueEvents = try reader.int("MSAB_SOCKET_QUEUE_EVENTS", default: socketQueueEvents, in: 1...1_000_000)
        socketQueueBytes = try reader.int("MSAB_SOCKET_QUEUE_BYTES", default: socketQueueBytes, in: 1_024...1_000_000_000)
        maxSessions = try reader.int("MSAB_MAX_SESSIONS", default: maxSessions, in: 0...10_000_000)
        maxSessionsPerIP = try reader.int("MSAB_MAX_SESSIONS_PER_IP", default: maxSessionsPerIP, in: 0...10_000_000)
        logLevel = try reader.oneOf(
            "LOG_LEVEL", default: logLevel,
            ["trace", "debug", "info", "notice", "warning", "warn", "error", "critical", "fatal", "silent"])
        _ = try reader.oneOf("NODE_ENV", default: "development", ["development", "production", "test"])

        dataDirectory = try reader.string("MSAB_DATA_DIR", default: dataDirectory, nonEmpty: true)
        jwtSecret = try reader.optionalString("MSAB_JWT_SECRET")
        if let secret = jwtSecret, secret.utf8.count < 32 {
            throw ConfigurationError(variable: "MSAB_JWT_SECRET", problem: "must be at least 32 bytes (HS256 key), got \(secret.utf8.count)")
        }
        laravelAPIURL = try reader.optionalURL("LARAVEL_API_URL")
        laravelInternalKey = try reader.optionalString("LARAVEL_INTERNAL_KEY")
        if laravelAPIURL != nil, laravelInternalKey == nil {
            throw ConfigurationError(variable: "LARAVEL_INTERNAL_KEY", problem: "required when LARAVEL_API_URL is set")
        }
        if laravelInternalKey != nil, laravelAPIURL == nil {
            throw ConfigurationError(variable: "LARAVEL_API_URL", problem: "required when LARAVEL_INTERNAL_KEY is set")
        }
        if let key = laravelInternalKey, key.count < 32 {
            throw ConfigurationError(variable: "LARAVEL_INTERNAL_KEY", problem: "must be at least 32 characters")
        }
        internalKey = try reader.optionalString("MSAB_INTERNAL_KEY")
        if let key = internalKey, key.count < 16 {
            throw ConfigurationError(variable: "MSAB_INTERNAL_KEY", problem: "must be at least 16 characters")
        }

        redisHost = try reader.optionalString("REDIS_HOST")
        redisPort = try reader.int("REDIS_PORT", default: redisPort, in: 1...65_535)
        redisUsername = try reader.optionalString("REDIS_USERNAME")
        redisPassword = try reader.optionalString("REDIS_PASSWORD")
        redisDB = try reader.int("REDIS_DB", default: redisDB, in: 0...15)
        redisTLS = try reader.bool("REDIS_TLS", default: redisTLS)
        eventsChannel = try reader.string("MSAB_EVENTS_CHANNEL", default: eventsChannel, nonEmpty: true)
        eventsEnabled = try reader.bool("MSAB_EVENTS_ENABLED", default: eventsEnabled)
        nodePresenceTTLMs = try reader.int("MSAB_NODE_TTL_MS", default: nodePresenceTTLMs, in: 1_500...600_000)

        mediaListenIP = try reader.ipAddress("MEDIASOUP_LISTEN_IP", default: mediaListenIP)
        mediaAnnouncedIP = try reader.optionalString("MEDIASOUP_ANNOUNCED_IP")
        if reader.raw("MSAB_PIPE_IP") != nil {
            let ip = try reader.ipAddress("MSAB_PIPE_IP", default: "")
            guard ip != "0.0.0.0", ip != "::" else {
                throw ConfigurationError(variable: "MSAB_PIPE_IP", problem: "must be an address other nodes can send to, not a wildcard")
            }
            pipeIP = ip
        }
        rtcMinPort = try reader.int("MEDIASOUP_RTC_MIN_PORT", default: rtcMinPort, in: 1...65_535)
        rtcMaxPort = try reader.int("MEDIASOUP_RTC_MAX_PORT", default: rtcMaxPort, in: 1...65_535)
        if rtcMaxPort < rtcMinPort {
            throw ConfigurationError(variable: "MEDIASOUP_RTC_MAX_PORT", problem: "must not be below MEDIASOUP_RTC_MIN_PORT (\(rtcMinPort))")
        }
        numWorkers = try reader.int("MEDIASOUP_NUM_WORKERS", default: numWorkers, in: 1...256)
        maxConsumersPerTransport = try reader.int("MSAB_MAX_CONSUMERS_PER_TRANSPORT", default: maxConsumersPerTransport, in: 1...10_000)
        maxConsumersPerWorker = try reader.int("MSAB_MAX_CONSUMERS_PER_WORKER", default: maxConsumersPerWorker, in: 1...1_000_000)
        if rtcMaxPort - rtcMinPort + 1 < numWorkers {
            throw ConfigurationError(
                variable: "MEDIASOUP_RTC_MAX_PORT", problem: "the port range has fewer ports than MEDIASOUP_NUM_WORKERS (\(numWorkers))")
        }
        maxRoomsPerWorker = try reader.int("MAX_ROOMS_PER_WORKER", default: maxRoomsPerWorker, in: 1...1_000_000)
        roomEventsPerMinute = try reader.int("MSAB_ROOM_EVENTS_PER_MINUTE", default: roomEventsPerMinute, in: 1...1_000_000)
        _ = try reader.int("MAX_CLIENTS_PER_ROOM", default: 50, in: 1...1_000_000)

        rateLimitMessagesPerMinute = try reader.int("RATE_LIMIT_MESSAGES_PER_MINUTE", default: rateLimitMessagesPerMinute, in: 1...1_000_000)
        roomInactivityTimeoutMs = try reader.int("ROOM_INACTIVITY_TIMEOUT_MS", default: roomInactivityTimeoutMs, in: 1...86_400_000)
        roomAutoClosePollIntervalMs = try reader.int("ROOM_AUTO_CLOSE_POLL_INTERVAL_MS", default: roomAutoClosePollIntervalMs, in: 1...86_400_000)
        giftBufferFlushIntervalMs = try reader.int("GIFT_BUFFER_FLUSH_INTERVAL_MS", default: giftBufferFlushIntervalMs, in: 1...3_600_000)
        giftMaxRetries = try reader.int("GIFT_MAX_RETRIES", default: giftMaxRetries, in: 1...1_000)
        defaultSeatCount = try reader.int("DEFAULT_SEAT_COUNT", default: defaultSeatCount, in: 1...15)
        seatRetentionMs = try reader.int("MSAB_SEAT_RETENTION_MS", default: seatRetentionMs, in: 0...86_400_000)
        inviteTTLMs = try reader.int("MSAB_INVITE_TTL_MS", default: inviteTTLMs, in: 1...86_400_000)
        seatedSpeakersOnly = try reader.bool("MSAB_SEATED_SPEAKERS_ONLY", default: seatedSpeakersOnly)

        sslKeyPath = try reader.optionalString("SSL_KEY_PATH")
        sslCertPath = try reader.optionalString("SSL_CERT_PATH")
        if sslKeyPath != nil, sslCertPath == nil {
            throw ConfigurationError(variable: "SSL_CERT_PATH", problem: "required when SSL_KEY_PATH is set")
        }
        if sslCertPath != nil, sslKeyPath == nil {
            throw ConfigurationError(variable: "SSL_KEY_PATH", problem: "required when SSL_CERT_PATH is set")
        }
    }
}

/// Typed reads of environment variables; every failure names its variable.
private struct EnvironmentReader {
    var env: [String: String]

    /// Empty values count as unset, as Zod's coercion in the reference effectively does.
    func raw(_ name: String) -> String? {
        guard let value = env[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func optionalString(_ name: String) throws(ConfigurationError) -> String? { raw(name) }

    func string(_ name: String, default value: String, nonEmpty: Bool) throws(ConfigurationError) -> String {
        raw(name) ?? value
    }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = raw(name) else { return value }
        guard let number = Int(text) else {
            throw ConfigurationError(variable: name, problem: "expected a whole number, got \"\(text)\"")
        }
        guard range.contains(number) else {
            throw ConfigurationError(variable: name, problem: "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func bool(_ name: String, default value: Bool) throws(ConfigurationError) -> Bool {
        guard let text = env[name] else { return value }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1": return true
        case "false", "0", "": return false
        default: throw ConfigurationError(variable: name, problem: "expected true, false, 1 or 0, got \"\(text)\"")
        }
    }

    func oneOf(_ name: String, default value: String, _ allowed: [String]) throws(ConfigurationError) -> String {
        guard let text = raw(name) else { return value }
        guard allowed.contains(text) else {
            throw ConfigurationError(variable: name, problem: "expected one of \(allowed.joined(separator: ", ")), got \"\(text)\"")
        }
        return text
    }

    func list(_ name: String, default value: [String]) throws(ConfigurationError) -> [String] {
        guard let text = raw(name) else { return value }
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ConfigurationError(variable: name, problem: "no entries") }
        return items
    }

    func optionalURL(_ name: String) throws(ConfigurationError) -> String? {
        guard let text = raw(name) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: name, problem: "expected an http(s) URL, got \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    func ipAddress(_ name: String, default value: String) throws(ConfigurationError) -> String {
        guard let text = raw(name) else { return value }
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1 else {
            throw ConfigurationError(variable: name, problem: "expected an IPv4 or IPv6 address, got \"\(text)\"")
        }
        return text
    }
}
