import Foundation
import NIOCore
import Redis
import RedisTesting
import TestSupport
import Testing

/// Against a real redis-server (the Debian package `make deps` installs), one private server per test.
@Suite(.enabled(if: RedisServerProcess.isAvailable, "/usr/bin/redis-server is not installed (make deps)"), .timeLimit(.minutes(1)))
struct RedisClientTests {
    @Test func basicCommands() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            #expect(try await client.send("SET", "greeting", "hello") == .simpleString("OK"))
            #expect(try await client.send("GET", "greeting").string == "hello")
            #expect(try await client.send("GET", "missing") == .null)
            #expect(try await client.send("INCR", "counter") == .integer(1))
            #expect(try await client.send("INCRBY", "counter", 41) == .integer(42))
            #expect(try await client.send("GET", "counter").int == 42)
            #expect(try await client.send("HSET", "h", "a", "1", "b", "2") == .integer(2))
            let pairs = try await client.send("HGETALL", "h").pairs ?? []
            let hash = Dictionary(uniqueKeysWithValues: pairs.compactMap { pair in pair.key.string.map { ($0, pair.value.string ?? "") } })
            #expect(hash == ["a": "1", "b": "2"])
            await #expect(throws: RedisError.self) { try await client.send("INCR", "greeting") }
            do {
                _ = try await client.send("HGET", "greeting", "x")
                Issue.record("WRONGTYPE expected")
            } catch {
                guard case .server(let message) = error as? RedisError else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(message.hasPrefix("WRONGTYPE"))
            }
            // Commands that would break the reply order are refused before they are sent.
            for command: [RESPArgument] in [[], ["SUBSCRIBE", "x"], ["psubscribe", "x*"], ["MONITOR"], ["CLIENT", "reply", "off"]] {
                await #expect(throws: RedisError.self) { try await client.send(command) }
            }
            await #expect(throws: RedisError.self) { try await client.pipeline([["PING"], []]) }
            // The connection is still in step after error replies.
            try await client.ping()
            #expect(try await client.send(["EXISTS", "greeting", "h", "nope"]) == .integer(2))
        }
    }

    @Test func evalFallsBackFromNoscriptToEval() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            let script = RedisScript("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
            #expect(try await client.send("SCRIPT", "EXISTS", .string(script.sha1)) == .array([.integer(0)]))
            let first = try await client.eval(script, keys: ["n"], args: ["arg"])
            #expect(first.array?.map { $0.string ?? $0.int.map(String.init) } == ["n", "arg", "1"])
            // EVAL loaded it: the server knows the sha we computed, and EVALSHA now works directly.
            #expect(try await client.send("SCRIPT", "EXISTS", .string(script.sha1)) == .array([.integer(1)]))
            #expect(try await client.send("SCRIPT", "LOAD", .string(script.source)).string == script.sha1)
            let second = try await client.eval(script, keys: ["n"], args: ["arg"])
            #expect(second.array?.last == .integer(2))
            // A script error is a server error, not a fallback loop.
            await #expect(throws: RedisError.self) { try await client.eval(RedisScript("return redis.call('NOPE')"), keys: [], args: []) }
        }
    }

    @Test func thousandPipelinedCommandsReturnInOrder() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            let results = try await client.pipeline((0..<1_000).map { ["ECHO", .int($0)] })
            #expect(results.count == 1_000)
            #expect(results.enumerated().allSatisfy { index, result in (try? result.get())?.string == String(index) })
            // An error in the middle of a pipeline fails only that command.
            let mixed = try await client.pipeline([["SET", "k", "v"], ["NOSUCHCOMMAND"], ["GET", "k"]])
            #expect((try? mixed[0].get()) == .simpleString("OK"))
            guard case .failure(.server) = mixed[1] else {
                Issue.record("expected a server error, got \(mixed[1])")
                return
            }
            #expect((try? mixed[2].get())?.string == "v")
            // Concurrent callers share the connection and each gets its own reply.
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<500 {
                    group.addTask { try await client.send("ECHO", .string("caller-\(index)")).string == "caller-\(index)" }
                }
                for try await ok in group { #expect(ok) }
            }
        }
    }

    @Test func megabyteValueRoundTrips() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            var generator = SeededGenerator(seed: 3)
            let bytes = (0..<(1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(try await client.send("SET", "big", .bytes(bytes)) == .simpleString("OK"))
            let reply = try await client.send("GET", "big")
            #expect(reply.bytes.map { Array($0.readableBytesView) } == bytes)
            #expect(try await client.send("STRLEN", "big") == .integer(1024 * 1024))
        }
    }

    @Test func authWithRequirepass() async throws {
        let server = try RedisServerProcess(["--requirepass", "s3cret"])
        defer { server.stop() }
        var configuration = RedisConfiguration.local(server.port)
        configuration.password = "s3cret"
        try await withClient(configuration) { client async throws in
            try await client.ping()
            #expect(try await client.send("ACL", "WHOAMI").string == "default")
        }
        // Without the password, or with a wrong one, the handshake fails and nothing is offered.
        for password in [nil, "wrong"] as [String?] {
            var bad = RedisConfiguration.local(server.port)
            bad.password = password
            try await withClient(bad, waitForConnection: false) { client async throws in
                try await Task.sleep(for: .milliseconds(300))
                #expect(!client.isConnected)
                await #expect(throws: RedisError.notConnected) { try await client.send("PING") }
            }
        }
    }

    @Test func passwordForAServerWithoutOneIsTolerated() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisConfiguration.local(server.port)
        configuration.password = "unneeded"
        try await withClient(configuration) { client async throws in
            try await client.ping()
        }
    }

    @Test func authWithACLUser() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { admin async throws in
            #expect(try await admin.send("ACL", "SETUSER", "alice", "on", ">wonderland", "~*", "&*", "+@all") == .simpleString("OK"))
        }
        var configuration = RedisConfiguration.local(server.port)
        configuration.username = "alice"
        configuration.password = "wonderland"
        try await withClient(configuration) { client async throws in
            #expect(try await client.send("ACL", "WHOAMI").string == "alice")
        }
        configuration.password = "looking-glass"
        try await withClient(configuration, waitForConnection: false) { client async throws in
            try await Task.sleep(for: .milliseconds(300))
            #expect(!client.isConnected)
        }
    }

    @Test func selectsTheConfiguredDatabase() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port, database: 5)) { client async throws in
            #expect(try await client.send("SET", "where", "five") == .simpleString("OK"))
            #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=5 ") == true)
        }
        try await withClient(.local(server.port, database: 0)) { client async throws in
            #expect(try await client.send("GET", "where") == .null)
            #expect(try await client.send("SELECT", 5) == .simpleString("OK"))
            #expect(try await client.send("GET", "where").string == "five")
        }
        // The contract's default is database 3.
        var configuration = RedisConfiguration(port: server.port)
        #expect(configuration.database == 3)
        configuration.connectTimeout = .seconds(2)
        try await withClient(configuration) { client async throws in
            #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=3 ") == true)
        }
    }

    @Test func timedOutCommandDoesNotDesynchroniseTheConnection() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisConfiguration.local(server.port)
        configuration.commandTimeout = .milliseconds(300)
        try await withClient(configuration) { client async throws in
            try await withClient(.local(server.port)) { other async throws in
                #expect(try await client.send("SET", "k1", "stale") == .simpleString("OK"))
                #expect(try await client.send("SET", "k2", "fresh") == .simpleString("OK"))
                #expect(try await other.send("CLIENT", "PAUSE", 2000) == .simpleString("OK"))
                let clock = ContinuousClock()
                let start = clock.now
                await #expect(throws: RedisError.timeout) { try await client.send("GET", "k1") }
                let waited = clock.now - start
                #expect(waited >= .milliseconds(250) && waited < .milliseconds(1500))
                // After the pause the stale reply ("stale") arrives first and is discarded.
                try await Task.sleep(for: .milliseconds(2_000))
                #expect(try await client.send("GET", "k2").string == "fresh")
                #expect(try await client.send("GET", "k1").string == "stale")
                #expect(client.isConnected)
            }
        }
    }

    @Test func tooManyPendingCommandsFailWithBusy() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisConfiguration.local(server.port)
        configuration.maxPendingCommands = 5
        try await withClient(configuration) { client async throws in
            try await withClient(.local(server.port)) { other async throws in
                #expect(try await other.send("CLIENT", "PAUSE", 700) == .simpleString("OK"))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<5 {
                        group.addTask { () async throws in #expect(try await client.send("PING") == .simpleString("PONG")) }
                    }
                    // Let the five reach the connection, then one more is refused at once.
                    try await Task.sleep(for: .milliseconds(200))
                    await #expect(throws: RedisError.busy) { try await client.send("PING") }
                    try await group.waitForAll()
                }
                // Afterwards there is room again.
                try await client.ping()
            }
        }
    }

    @Test func unresponsiveConnectionIsReplaced() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisConfiguration.local(server.port)
        configuration.commandTimeout = .milliseconds(200)
        configuration.deadConnectionTimeout = .milliseconds(600)
        try await withClient(configuration) { client async throws in
            try await withClient(.local(server.port)) { other async throws in
                #expect(try await other.send("CLIENT", "PAUSE", 3000) == .simpleString("OK"))
                await #expect(throws: RedisError.timeout) { try await client.send("PING") }
                // The oldest reply is 600 ms late: the link is taken for dead and replaced...
                #expect(await eventually(within: .milliseconds(2500)) { !client.isConnected })
                // ...by a new connection once the server answers again.
                #expect(await eventually { client.isConnected })
                try await client.ping()
            }
        }
    }

    @Test func notConnectedFailsFast() async throws {
        let port = try RedisServerProcess.freePort()
        let idle = RedisClient(configuration: .local(port), logger: testLogger)
        await #expect(throws: RedisError.notConnected) { try await idle.send("PING") }
        await #expect(throws: RedisError.notConnected) { try await idle.pipeline([["PING"]]) }
        #expect(!idle.isConnected)
        // Running, but nothing listens on the port: still immediate, never queued.
        try await withClient(.local(port), waitForConnection: false) { client async throws in
            try await Task.sleep(for: .milliseconds(200))
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: RedisError.notConnected) { try await client.send("PING") }
            #expect(clock.now - start < .milliseconds(100))
        }
    }

    @Test func clientReconnectsAfterServerRestart() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            let recorder = StateRecorder()
            let recording = recorder.record(client.connectionStates())
            defer { recording.cancel() }
            #expect(try await client.send("SET", "k", "v") == .simpleString("OK"))
            server.stop()
            #expect(await eventually { !client.isConnected })
            await #expect(throws: RedisError.notConnected) { try await client.send("PING") }
            try server.start()
            #expect(await eventually { client.isConnected })
            try await client.ping()
            #expect(try await client.send("GET", "k") == .null)  // a fresh server without persistence
            #expect(await eventually { recorder.all == [true, false, true] })
        }
    }

    @Test func gracefulShutdownClosesTheConnection() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let client = RedisClient(configuration: .local(server.port), logger: testLogger)
        let states = client.connectionStates()
        let run = Task { try await client.run() }
        #expect(await eventually { client.isConnected })
        run.cancel()
        try await run.value
        #expect(!client.isConnected)
        // The state stream saw false, true, false and finished.
        var seen: [Bool] = []
        for await state in states { seen.append(state) }
        #expect(seen == [false, true, false])
        await #expect(throws: RedisError.notConnected) { try await client.send("PING") }
    }
}
