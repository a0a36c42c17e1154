import ArgumentParser
import AudioRooms
import Foundation
import LoadTest
import Logging

/// `msab`: the audio-rooms server. `msab serve` (the default) runs it; `msab token` mints a
/// stand-alone token for a user.
@main
struct MSAB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "msab",
        abstract: "Live audio rooms: Socket.IO signalling and a built-in SFU in one binary.",
        subcommands: [Serve.self, Token.self, LoadTestCommand.self],
        defaultSubcommand: Serve.self)
}

/// Reads the environment into a configuration, or exits with the one-line reason (design.md §3).
func loadConfiguration() -> Configuration {
    do {
        return try Configuration(environment: ProcessInfo.processInfo.environment)
    } catch {
        exitForConfiguration(error)
    }
}

/// The one line and exit status 78 (EX_CONFIG) of every configuration problem, including those
/// found after the environment was read (secret files, TLS files).
/// The token authority of a stand-alone server with this environment (MSAB_JWT_SECRET or the
/// data directory's development secret), for the commands that mint tokens.
func standaloneTokenAuthority(for command: String) async throws -> TokenAuthority {
    let configuration = loadConfiguration()
    guard configuration.laravelAPIURL == nil else {
        throw ValidationError("LARAVEL_API_URL is set: users come from the FlyLive backend, \(command) cannot mint tokens")
    }
    let parts: MSABApplication.Parts
    do {
        parts = try await MSABApplication.prepare(configuration)
    } catch let error as ConfigurationError {
        exitForConfiguration(error)
    }
    guard let authority = parts.tokenAuthority else { throw ValidationError("no token authority") }
    return authority
}

func exitForConfiguration(_ error: ConfigurationError) -> Never {
    FileHandle.standardError.write(Data("msab: \(error.description)\n".utf8))
    Foundation.exit(78)  // EX_CONFIG
}

func makeLogger(level: String) -> Logger {
    LoggingSystem.bootstrap(StreamLogHandler.standardError)
    var logger = Logger(label: "msab")
    switch level {
    case "silent": logger.logLevel = .critical
    case "fatal": logger.logLevel = .critical
    case "warn": logger.logLevel = .warning
    default: logger.logLevel = Logger.Level(rawValue: level) ?? .info
    }
    return logger
}

/// glibc's mallopt(3): M_ARENA_MAX (-8) caps the per-thread malloc arenas, so memory freed after a
/// connection storm is not stranded in many half-empty arenas (MALLOC_ARENA_MAX overrides it).
@_silgen_name("mallopt")
func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server (configured from the environment; see README).")

    func run() async throws {
        if ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil { _ = glibcMallopt(-8, 2) }
        let configuration = loadConfiguration()
        let logger = makeLogger(level: configuration.logLevel)
        do {
            try await serve(configuration, logger)
        } catch let error as ConfigurationError {
            exitForConfiguration(error)
        }
    }

    func serve(_ configuration: Configuration, _ logger: Logger) async throws {
        try await MSABApplication.run(configuration: configuration, logger: logger) { parts, port in
            let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
            var lines = ["msab listening on \(parts.tls == nil ? "http" : "https")://\(host):\(port) (Socket.IO path /socket.io/)"]
            if let authority = parts.tokenAuthority {
                lines.append(
                    "mode: stand-alone (tokens signed with the secret in \(configuration.jwtSecret == nil ? parts.dataDirectory.file("jwt-secret") : "MSAB_JWT_SECRET"))"
                )
                let base = "\(parts.tls == nil ? "http" : "https")://\(host):\(port)"
                if let token = try? await authority.mint(userID: 1, profile: ["name": "Test User"], rooms: ["demo": .owner]) {
                    // The demo page msab serves at `/` (issue 15): open it and the room works at once.
                    lines.append("open the demo room in a browser (user 1, owner of \"demo\"):")
                    lines.append("  \(base)/?room=demo&token=\(token)")
                    if let guest = try? await authority.mint(userID: 2, profile: ["name": "Guest"]) {
                        lines.append("and as a second user in another tab or browser (user 2):")
                        lines.append("  \(base)/?room=demo&token=\(guest)")
                    }
                    lines.append("a token for user 1 (owner of room \"demo\"), valid 24 h:")
                    lines.append("  \(token)")
                }
                lines.append("more tokens: msab token --user 7 --name Alice [--role 42=owner]")
            } else {
                lines.append("mode: FlyLive backend at \(configuration.laravelAPIURL ?? "")")
            }
            // Written straight to fd 1 (not buffered), so `make run` and test harnesses see it at once.
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint a stand-alone HS256 token (uses MSAB_JWT_SECRET, or the data directory's development secret).")

    @Option(help: "The user id (a positive integer).")
    var user: Int

    @Option(help: "The display name.")
    var name: String?

    @Option(help: "A room role, ROOM=owner or ROOM=admin; repeatable.")
    var role: [String] = []

    @Option(help: "A public profile field, KEY=VALUE (avatar, signature, frame, gender, country, wealth_xp, charm_xp); repeatable.")
    var field: [String] = []

    @Option(help: "Lifetime in seconds.")
    var ttl: Int = 86_400

    func validate() throws {
        guard user > 0 else { throw ValidationError("--user must be a positive integer") }
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
    }

    func run() async throws {
        let authority = try await standaloneTokenAuthority(for: "msab token")
        var rooms: [String: RoomRole] = [:]
        for entry in role {
            let pieces = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2, !pieces[0].isEmpty, let parsed = RoomRole(rawValue: pieces[1]), parsed != .member else {
                throw ValidationError("--role takes ROOM=owner or ROOM=admin, got \(entry)")
            }
            rooms[pieces[0]] = parsed
        }
        var profile: [String: String] = [:]
        if let name { profile["name"] = name }
        for entry in field {
            let pieces = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2, UserProfile.publicFieldNames.contains(pieces[0]) else {
                throw ValidationError("--field takes KEY=VALUE with KEY one of \(UserProfile.publicFieldNames.joined(separator: ", "))")
            }
            profile[pieces[0]] = pieces[1]
        }
        print(try await authority.mint(userID: user, profile: profile, rooms: rooms, lifetime: TimeInterval(ttl)))
    }
}

/// `msab loadtest`: drives a room on a running msab with simulated speakers and listeners, built
/// on msab's own protocol cores in client roles (README "Load test").
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Join M speakers and N listeners to a room of a running msab (or Janus) and measure join → audio, loss and jitter.")

    @Option(help: "The server kind: msab, or janus (Janus's VideoRoom plugin over its WebSocket API, same media legs).")
    var target: String = LoadTestOptions.Target.msab.rawValue

    @Option(help: "The server, http://HOST:PORT (ws:// also accepted); for --target msab.")
    var url: String?

    @Option(help: "Janus's WebSocket transport, ws://HOST:PORT; for --target janus.")
    var janusUrl: String?

    @Option(help: "Janus: the VideoRoom room id (numeric; created by the first speaker if missing).")
    var janusRoom: UInt64 = 1234

    @Option(help: "Janus: the local address the media sockets bind and announce (default: the one routed toward Janus).")
    var mediaAddress: String?

    @Option(help: "The room id.")
    var room: String = "loadtest"

    @Option(help: "Speakers (each takes a seat and sends Opus every 20 ms; at most 15).")
    var speakers: Int = 1

    @Option(help: "Listeners (each consumes every producer).")
    var listeners: Int = 10

    @Option(help: "Listener joins in flight at once.")
    var concurrency: Int = 50

    @Option(help: "Seconds of audio measured after the last join settled.")
    var duration: Double = 10

    @Option(help: "Seconds after which a join that has not reached audio fails.")
    var joinTimeout: Double = 30

    @Option(help: "User id of the first participant (the others follow).")
    var firstUser: Int = 100_000

    @Option(help: "The server's process id (same machine): report its CPU per join and per delivered packet, from /proc.")
    var serverPid: Int32?

    @Flag(help: "Print the result as one JSON object on the last line of stdout.")
    var json = false

    @Option(
        help: "Broadcast test instead of a room: connect this many signalling-only clients, then broadcast --events backend events to all of them.")
    var sockets: Int?

    @Option(help: "Broadcast test: events broadcast one after another (POST /internal/events, no user and no room).")
    var events: Int = 20

    @Option(help: "Broadcast test: bytes of each event's payload.")
    var payloadBytes: Int = 100

    @Option(help: "Broadcast test: the server's MSAB_INTERNAL_KEY (default: the MSAB_INTERNAL_KEY environment variable).")
    var internalKey: String?

    @Option(
        help:
            "Room fan-out test instead (with --sockets): the --sockets clients join --room, round-robin over --url and every --also-url (a cluster's nodes); the first sends this many chat messages at --room-rate, each timed to every client, per node."
    )
    var roomMessages: Int?

    @Option(help: "Room fan-out test: another node of the cluster, http://HOST:PORT (repeat for more).")
    var alsoUrl: [String] = []

    @Option(help: "Room fan-out test: chat messages per second (latency at a rate the machine sustains).")
    var roomRate: Double = 5

    @Option(help: "Room fan-out test: messages sent back to back afterwards, timed until the last reached everyone (throughput).")
    var roomBurst: Int = 100

    @Option(
        help:
            "Churn: membership changes per second for the whole --duration once the first joins settled (listeners leave and new ones join, speakers leave their seats and new ones take them, side rooms open and close; 0 = off)."
    )
    var churn: Double = 0

    @Option(help: "Churn: chat messages per second across the room (default: the churn rate).")
    var chatRate: Double?

    @Option(help: "Churn: seed of its choices (who leaves, what changes, who chats).")
    var seed: UInt64 = 1

    func validate() throws {
        switch LoadTestOptions.Target(rawValue: target) {
        case .msab:
            guard let url, LoadTestOptions.parseURL(url) != nil else { throw ValidationError("--url must look like http://HOST:PORT") }
        case .janus:
            guard let janusUrl, LoadTestOptions.parseURL(janusUrl) != nil else { throw ValidationError("--janus-url must look like ws://HOST:PORT") }
            guard speakers >= 1 || listeners == 0 else {
                throw ValidationError("--target janus: listeners subscribe to a speaker's feed, so --speakers ≥ 1")
            }
        case nil:
            throw ValidationError("--target must be one of \(LoadTestOptions.Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...LoadTestOptions.maximumSpeakers).contains(speakers) else {
            throw ValidationError("--speakers must be 0…\(LoadTestOptions.maximumSpeakers) (one seat each)")
        }
        guard listeners >= 0, speakers + listeners >= 1, speakers + listeners <= LoadTestOptions.maximumParticipants else {
            throw ValidationError("--speakers + --listeners must be 1…\(LoadTestOptions.maximumParticipants)")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard duration >= 0, duration <= 86_400, joinTimeout > 0, joinTimeout <= 3_600 else {
            throw ValidationError("--duration must be 0…86400 and --join-timeout 0…3600 seconds")
        }
        guard firstUser > 0, firstUser <= Int(Int32.max) else { throw ValidationError("--first-user must be a positive integer") }
        guard roomMessages == nil || sockets != nil else { throw ValidationError("--room-messages needs --sockets (the room's clients)") }
        if let sockets {
            guard LoadTestOptions.Target(rawValue: target) == .msab else {
                throw ValidationError("--sockets (the broadcast test) is for --target msab")
            }
            guard (1...LoadTestOptions.maximumParticipants).contains(sockets) else {
                throw ValidationError("--sockets must be 1…\(LoadTestOptions.maximumParticipants)")
            }
            if let roomMessages {
                guard (1...RoomFanoutOptions.maximumMessages).contains(roomMessages) else {
                    throw ValidationError("--room-messages must be 1…\(RoomFanoutOptions.maximumMessages)")
                }
                guard roomRate > 0, roomRate <= 1_000 else { throw ValidationError("--room-rate must be above 0 and at most 1000 per second") }
                guard (0...RoomFanoutOptions.maximumBurst).contains(roomBurst) else {
                    throw ValidationError("--room-burst must be 0…\(RoomFanoutOptions.maximumBurst)")
                }
                guard alsoUrl.count < RoomFanoutOptions.maximumNodes, alsoUrl.allSatisfy({ LoadTestOptions.parseURL($0) != nil }) else {
                    throw ValidationError("--also-url must look like http://HOST:PORT (at most \(RoomFanoutOptions.maximumNodes - 1))")
                }
                return
            }
            guard alsoUrl.isEmpty else { throw ValidationError("--also-url is for the room fan-out test (--room-messages)") }
            guard (1...BroadcastOptions.maximumEvents).contains(events) else {
                throw ValidationError("--events must be 1…\(BroadcastOptions.maximumEvents)")
            }
            guard (0...BroadcastOptions.maximumPayloadBytes).contains(payloadBytes) else {
                throw ValidationError("--payload-bytes must be 0…\(BroadcastOptions.maximumPayloadBytes)")
            }
            guard let key = internalKey ?? ProcessInfo.processInfo.environment["MSAB_INTERNAL_KEY"], !key.isEmpty else {
                throw ValidationError("the broadcast test needs --internal-key or MSAB_INTERNAL_KEY (the server's key for POST /internal/events)")
            }
        }
        guard churn >= 0, churn <= 100, (chatRate ?? 0) >= 0, (chatRate ?? 0) <= 100 else {
            throw ValidationError("--churn and --chat-rate must be 0…100 per second")
        }
        if churn > 0, LoadTestOptions.Target(rawValue: target) != .msab { throw ValidationError("--churn is for --target msab") }
        let extra = churn > 0 ? ChurnOptions.extraUsers(rate: churn, duration: duration) : 0
        guard firstUser + speakers + listeners + extra <= Int(Int32.max) else {
            throw ValidationError("--first-user is too large for the churn's users")
        }
    }

    func run() async throws {
        let target = LoadTestOptions.Target(rawValue: target) ?? .msab
        guard let (host, port) = LoadTestOptions.parseURL((target == .janus ? janusUrl : url) ?? "") else { throw ValidationError("bad server URL") }
        if let sockets, let roomMessages {
            try await runRoomFanout(host: host, port: port, sockets: sockets, messages: roomMessages)
            return
        }
        if let sockets {
            try await runBroadcast(host: host, port: port, sockets: sockets)
            return
        }
        var options = LoadTestOptions(
            host: host, port: port, room: room, speakers: speakers, listeners: listeners, concurrency: concurrency, duration: duration,
            joinTimeout: joinTimeout, firstUserID: firstUser, serverPID: serverPid,
            churn: churn > 0
                ? ChurnOptions(
                    rate: churn, chatRate: chatRate ?? churn, seed: seed, extraUsers: ChurnOptions.extraUsers(rate: churn, duration: duration))
                : nil)
        options.target = target
        options.janusRoom = janusRoom
        options.mediaAddress = mediaAddress
        // Janus's default configuration has no token check: only msab's participants carry one.
        var tokens: [String] = []
        if target == .msab { tokens = try await mintTokens(count: options.tokenCount, firstUser: firstUser) }
        let stderr = FileHandle.standardError
        let report = try await LoadTestRunner.run(options: options, tokens: tokens) { line in
            stderr.write(Data((line + "\n").utf8))
        }
        stderr.write(Data((report.summary + "\n").utf8))
        if json { FileHandle.standardOutput.write(Data((report.json + "\n").utf8)) }
    }

    /// `--sockets N`: one event to N clients, the server's CPU per recipient (issue 14).
    private func runBroadcast(host: String, port: Int, sockets: Int) async throws {
        let key = internalKey ?? ProcessInfo.processInfo.environment["MSAB_INTERNAL_KEY"] ?? ""
        let options = BroadcastOptions(
            host: host, port: port, sockets: sockets, concurrency: concurrency, events: events, internalKey: key, payloadBytes: payloadBytes,
            serverPID: serverPid)
        let tokens = try await mintTokens(count: sockets, firstUser: firstUser)
        let stderr = FileHandle.standardError
        let report = try await BroadcastRunner.run(options: options, tokens: tokens) { line in stderr.write(Data((line + "\n").utf8)) }
        stderr.write(Data((report.summary + "\n").utf8))
        if json { FileHandle.standardOutput.write(Data((report.json + "\n").utf8)) }
    }

    /// `--sockets N --room-messages M`: a room spread over a cluster's nodes, delivery latency per node (issue 12).
    private func runRoomFanout(host: String, port: Int, sockets: Int, messages: Int) async throws {
        let nodes =
            [RoomFanoutOptions.Node(host: host, port: port)]
            + alsoUrl.compactMap(LoadTestOptions.parseURL).map { RoomFanoutOptions.Node(host: $0.0, port: $0.1) }
        let options = RoomFanoutOptions(
            nodes: nodes, room: room, sockets: sockets, concurrency: concurrency, messages: messages, rate: roomRate, burst: roomBurst)
        let tokens = try await mintTokens(count: sockets, firstUser: firstUser)
        let stderr = FileHandle.standardError
        let report = try await RoomFanoutRunner.run(options: options, tokens: tokens) { line in stderr.write(Data((line + "\n").utf8)) }
        stderr.write(Data((report.summary + "\n").utf8))
        if json { FileHandle.standardOutput.write(Data((report.json + "\n").utf8)) }
    }

    /// Tokens from the same secret the server uses: MSAB_JWT_SECRET, or the data directory's
    /// development secret (as `msab token` does).
    private func mintTokens(count: Int, firstUser: Int) async throws -> [String] {
        let authority = try await standaloneTokenAuthority(for: "msab loadtest")
        var tokens: [String] = []
        tokens.reserveCapacity(count)
        for index in 0..<count {
            let user = firstUser + index
            tokens.append(try await authority.mint(userID: user, profile: ["name": "loadtest \(user)"], lifetime: 6 * 3600))
        }
        return tokens
    }
}
