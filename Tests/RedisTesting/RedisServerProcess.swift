import Foundation
import Logging
import Redis
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A private `redis-server` on a free 127.0.0.1 port, for one test. Started under `timeout` so a
/// test process that dies cannot leave it running for more than two minutes.
///
/// Spawned with posix_spawn and an empty signal mask rather than Foundation's Process: children
/// of the test process otherwise inherit a mask that blocks nearly every signal, so `timeout`
/// would never see its SIGALRM and redis-server would never act on SIGTERM (orphans that outlive
/// the tests).
package final class RedisServerProcess: Sendable {
    package static let path = "/usr/bin/redis-server"
    package static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: path) }

    package let port: Int
    package let extraArguments: [String]
    /// Certificate files when the port speaks TLS only.
    package let tls: TestCertificates?
    /// The `timeout` wrapper's pid while it runs.
    private let wrapper: Mutex<pid_t?>

    package init(_ extraArguments: [String] = [], tls: TestCertificates? = nil) throws {
        self.extraArguments = extraArguments
        self.tls = tls
        // The free port is released before redis-server binds it, so another test may take it in
        // between; redis-server then exits at once and another port is tried.
        var attempt = 0
        while true {
            let port = try Self.freePort()
            do {
                let pid = try Self.launch(port: port, extraArguments: extraArguments, tls: tls)
                self.port = port
                self.wrapper = Mutex(pid)
                return
            } catch ServerError.exited where attempt < 3 {
                attempt += 1
            }
        }
    }

    /// Starts again on the same port (after `stop`) and waits until it accepts connections.
    package func start() throws {
        let pid = try Self.launch(port: port, extraArguments: extraArguments, tls: tls)
        wrapper.withLock { $0 = pid }
    }

    private static func launch(port: Int, extraArguments: [String], tls: TestCertificates?) throws -> pid_t {
        let pidFile = pidFile(port: port)
        try? FileManager.default.removeItem(atPath: pidFile)
        var listen = ["--port", String(port)]
        if let tls {
            listen = [
                "--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.serverCertificate, "--tls-key-file", tls.serverKey,
                "--tls-ca-cert-file", tls.caCertificate, "--tls-auth-clients", "no",
            ]
        }
        let pid = try spawn(
            ["/usr/bin/timeout", "-s", "KILL", "120", Self.path] + listen
                + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--pidfile", pidFile] + extraArguments)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            // Ready once it accepts connections and has written its pid (so stop can kill it).
            if canConnect(port: port), FileManager.default.fileExists(atPath: pidFile) { return pid }
            if let status = reap(pid) { throw ServerError.exited(status) }
            usleep(10_000)
        }
        terminate(wrapper: pid, pidFile: pidFile)
        throw ServerError.notReady
    }

    /// Where redis-server writes its pid (it does so in the foreground too when asked).
    package var pidFile: String { Self.pidFile(port: port) }

    package static func pidFile(port: Int) -> String { NSTemporaryDirectory() + "msab-redis-test-\(port).pid" }

    /// SIGKILL to redis-server (a SIGTERM shutdown takes redis 7 about two seconds), which also
    /// ends `timeout`; the kernel closes every client connection, as in a crash.
    package func stop() {
        guard
            let pid = wrapper.withLock({ pid in
                defer { pid = nil }
                return pid
            })
        else { return }
        Self.terminate(wrapper: pid, pidFile: pidFile)
    }

    private static func terminate(wrapper: pid_t, pidFile: String) {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            pid > 0
        {
            kill(pid, SIGKILL)
        } else {
            kill(wrapper, SIGTERM)  // forwarded to redis-server by timeout
        }
        try? FileManager.default.removeItem(atPath: pidFile)
        for _ in 0..<300 {
            if reap(wrapper) != nil { return }
            usleep(10_000)
        }
        kill(wrapper, SIGKILL)
        var status: Int32 = 0
        waitpid(wrapper, &status, 0)
    }

    /// The exit status once the child has exited (and is reaped), nil while it runs.
    private static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        return status
    }

    /// posix_spawn with an empty signal mask and default handlers, stdio on /dev/null.
    package static func spawn(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw ServerError.spawnFailed(result) }
        return pid
    }

    deinit { stop() }

    package enum ServerError: Error {
        case spawnFailed(Int32)
        case exited(Int32)
        case notReady
        case noPort
    }

    /// Binds 127.0.0.1:0, reads the port the kernel chose, and releases it.
    package static func freePort() throws -> Int {
        guard let (fd, port) = bindLoopback(Int32(SOCK_STREAM.rawValue)) else { throw ServerError.noPort }
        close(fd)
        return Int(port)
    }

    package static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// Test logging: quiet unless REDIS_TEST_LOG names a level (reconnect warnings are expected here).
package let testLogger: Logger = {
    var logger = Logger(label: "redis-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["REDIS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
package func eventually(within timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

extension RedisConfiguration {
    package static func local(_ port: Int, database: Int = 0) -> RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: port, database: database, connectTimeout: .seconds(2), commandTimeout: .seconds(3))
    }
}

package struct NotConnectedInTime: Error {}

/// Runs a client for the duration of `body`; `body` starts once it is connected (unless
/// `waitForConnection` is false). The client is cancelled and its `run()` awaited afterwards.
package func withClient<T: Sendable>(
    _ configuration: RedisConfiguration,
    waitForConnection: Bool = true,
    _ body: @Sendable (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(configuration: configuration, logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        defer { group.cancelAll() }
        if waitForConnection {
            // Generous: on a loaded 2-core machine (a parallel test run plus builds) a first connect
            // can time out and be retried; the tests time what they test, not this.
            guard await eventually(within: .seconds(15), { client.isConnected }) else { throw NotConnectedInTime() }
        }
        return try await body(client)
    }
}

/// Runs a subscriber for the duration of `body`, like `withClient`; messages are collected.
package func withSubscriber<T: Sendable>(
    _ configuration: RedisConfiguration,
    bufferSize: Int = 65_536,
    consume: Bool = true,
    _ body: @Sendable (RedisSubscriber, MessageCollector) async throws -> T
) async throws -> T {
    let subscriber = RedisSubscriber(configuration: configuration, logger: testLogger, bufferSize: bufferSize)
    let collector = MessageCollector()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await subscriber.run() }
        if consume {
            group.addTask {
                for await message in subscriber.messages { collector.append(message) }
            }
        }
        defer { group.cancelAll() }
        return try await body(subscriber, collector)
    }
}

/// Messages seen by a subscriber, readable from the test.
package final class MessageCollector: Sendable {
    package init() {}
    private let messages = Mutex<[RedisPubSubMessage]>([])

    package func append(_ message: RedisPubSubMessage) {
        messages.withLock { $0.append(message) }
    }

    package var all: [RedisPubSubMessage] { messages.withLock { $0 } }

    package func waitFor(count: Int, within timeout: Duration = .seconds(5)) async -> [RedisPubSubMessage]? {
        guard await eventually(within: timeout, { self.all.count >= count }) else { return nil }
        return all
    }
}

/// Records every value a connection-state stream yields.
package final class StateRecorder: Sendable {
    package init() {}
    private let states = Mutex<[Bool]>([])
    package var all: [Bool] { states.withLock { $0 } }

    package func record(_ stream: AsyncStream<Bool>) -> Task<Void, Never> {
        Task {
            for await state in stream { self.states.withLock { $0.append(state) } }
        }
    }
}
