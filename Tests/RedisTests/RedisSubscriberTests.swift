import Foundation
import NIOCore
import Redis
import RedisTesting
import TestSupport
import Testing

@Suite(.enabled(if: RedisServerProcess.isAvailable, "/usr/bin/redis-server is not installed (make deps)"), .timeLimit(.minutes(1)))
struct RedisSubscriberTests {
    static let binary = ByteBuffer(bytes: Array(0...255))

    @Test func subscribeAndPsubscribeReceiveBinaryPayloads() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            try await withSubscriber(.local(server.port)) { subscriber, collector async throws in
                await subscriber.subscribe(["room:1"])
                await subscriber.psubscribe(["rooms:*"])
                #expect(await eventually { subscriber.isConnected })
                // Subscriptions made while connected are sent at once; wait until Redis counts them.
                #expect(await eventually { (try? await client.send("PUBSUB", "NUMPAT"))?.int == 1 })
                #expect(try await client.send("PUBLISH", "room:1", .bytes(Self.binary)) == .integer(1))
                #expect(try await client.send("PUBLISH", "rooms:7", "hi") == .integer(1))
                let messages = await collector.waitFor(count: 2) ?? []
                #expect(
                    messages == [
                        RedisPubSubMessage(channel: "room:1", pattern: nil, payload: Self.binary),
                        RedisPubSubMessage(channel: "rooms:7", pattern: "rooms:*", payload: ByteBuffer(string: "hi")),
                    ])
                await subscriber.unsubscribe(["room:1"])
                await subscriber.punsubscribe(["rooms:*"])
                #expect(await eventually { (try? await client.send("PUBLISH", "room:1", "x"))?.int == 0 })
                #expect(try await client.send("PUBLISH", "rooms:7", "x") == .integer(0))
                #expect(subscriber.droppedMessages == 0)
            }
        }
    }

    /// The interceptor takes messages on the event loop only while the stream is idle: a message
    /// behind one its consumer has not finished goes through the stream, in order.
    @Test func anInterceptorTakesMessagesOnlyWhileTheStreamIsIdle() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            try await withSubscriber(.local(server.port)) { subscriber, collector async throws in
                let intercepted = MessageCollector()
                subscriber.intercept { message in
                    guard message.channel == "fast" else { return false }
                    intercepted.append(message)
                    return true
                }
                await subscriber.subscribe(["fast", "slow"])
                #expect(await eventually { (try? await client.send("PUBSUB", "NUMSUB", "slow"))?.array?.last?.int == 1 })
                #expect(try await client.send("PUBLISH", "fast", "1") == .integer(1))
                #expect(await intercepted.waitFor(count: 1)?.map { String(buffer: $0.payload) } == ["1"])
                // The collector never reports a message handled: from now on the stream has one pending.
                #expect(try await client.send("PUBLISH", "slow", "2") == .integer(1))
                #expect(try await client.send("PUBLISH", "fast", "3") == .integer(1))
                #expect(await collector.waitFor(count: 2)?.map { String(buffer: $0.payload) } == ["2", "3"])
                #expect(intercepted.all.count == 1)
                subscriber.messageHandled()
                subscriber.messageHandled()
                #expect(try await client.send("PUBLISH", "fast", "4") == .integer(1))
                #expect(await intercepted.waitFor(count: 2)?.map { String(buffer: $0.payload) } == ["1", "4"])
                #expect(collector.all.count == 2)
            }
        }
    }

    @Test func subscriptionsMadeBeforeConnectingAreSentOnConnect() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let subscriber = RedisSubscriber(configuration: .local(server.port), logger: testLogger)
        await subscriber.subscribe(["early"])
        let collector = MessageCollector()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            group.addTask { for await message in subscriber.messages { collector.append(message) } }
            defer { group.cancelAll() }
            // Connected means subscribed: a publish right after reaches it.
            #expect(await eventually { subscriber.isConnected })
            try await withClient(.local(server.port)) { client async throws in
                #expect(try await client.send("PUBLISH", "early", "1") == .integer(1))
            }
            #expect(await collector.waitFor(count: 1)?.first?.channel == "early")
        }
    }

    @Test func bothConnectionsRecoverFromAServerRestart() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            try await withSubscriber(.local(server.port)) { subscriber, collector async throws in
                await subscriber.subscribe(["ch"])
                await subscriber.psubscribe(["p.*"])
                #expect(await eventually { subscriber.isConnected })
                let recorder = StateRecorder()
                let recording = recorder.record(subscriber.connectionStates())
                defer { recording.cancel() }
                #expect(await eventually { (try? await client.send("PUBLISH", "ch", "before"))?.int == 1 })

                server.stop()
                #expect(await eventually { !client.isConnected && !subscriber.isConnected })
                try server.start()
                let clock = ContinuousClock()
                let restarted = clock.now
                #expect(await eventually { client.isConnected && subscriber.isConnected })
                #expect(clock.now - restarted < .seconds(5))
                // Resubscribed without any call from us: both the channel and the pattern.
                #expect(try await client.send("PUBLISH", "ch", .bytes(Self.binary)) == .integer(1))
                #expect(try await client.send("PUBLISH", "p.x", "after") == .integer(1))
                let messages = await collector.waitFor(count: 3) ?? []
                #expect(messages.map(\.channel) == ["ch", "ch", "p.x"])
                #expect(messages.dropFirst().first?.payload == Self.binary)
                #expect(messages.last?.pattern == "p.*")
                #expect(await eventually { recorder.all == [true, false, true] })
            }
        }
    }

    @Test func resubscribesAfterClientKillTypePubsub() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            try await withSubscriber(.local(server.port)) { subscriber, collector async throws in
                await subscriber.subscribe(["ch"])
                #expect(await eventually { subscriber.isConnected })
                let recorder = StateRecorder()
                let recording = recorder.record(subscriber.connectionStates())
                defer { recording.cancel() }
                #expect(await eventually { (try? await client.send("PUBSUB", "NUMSUB", "ch"))?.array?.last == .integer(1) })
                #expect(try await client.send("CLIENT", "KILL", "TYPE", "pubsub") == .integer(1))
                // Lost and back within 5 s, subscribed again.
                #expect(await eventually { recorder.all.count >= 3 })
                #expect(recorder.all.prefix(3) == [true, false, true])
                #expect(try await client.send("PUBLISH", "ch", "again") == .integer(1))
                #expect(await collector.waitFor(count: 1)?.first?.payload == ByteBuffer(string: "again"))
                // The command connection was not a pub/sub client and was left alone.
                #expect(client.isConnected)
            }
        }
    }

    @Test func unansweredPingReplacesTheConnection() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let subscriber = RedisSubscriber(configuration: .local(server.port), logger: testLogger, pingInterval: .milliseconds(200))
        await subscriber.subscribe(["ch"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            defer { group.cancelAll() }
            #expect(await eventually { subscriber.isConnected })
            try await withClient(.local(server.port)) { client async throws in
                // Pings are answered while all is well.
                try await Task.sleep(for: .milliseconds(500))
                #expect(subscriber.isConnected)
                // Paused long enough that a slow test machine still sees the unanswered PING.
                #expect(try await client.send("CLIENT", "PAUSE", 3000) == .simpleString("OK"))
                #expect(await eventually(within: .milliseconds(2500)) { !subscriber.isConnected })
                #expect(await eventually { subscriber.isConnected })
                #expect(try await client.send("PUBSUB", "NUMSUB", "ch").array?.last == .integer(1))
            }
        }
    }

    @Test func subscriberAuthenticates() async throws {
        let server = try RedisServerProcess(["--requirepass", "s3cret"])
        defer { server.stop() }
        var configuration = RedisConfiguration.local(server.port)
        configuration.password = "s3cret"
        let authenticated = configuration
        try await withClient(authenticated) { client async throws in
            try await withSubscriber(authenticated) { subscriber, collector async throws in
                await subscriber.subscribe(["secret"])
                #expect(await eventually { subscriber.isConnected })
                #expect(try await client.send("PUBLISH", "secret", "x") == .integer(1))
                #expect(await collector.waitFor(count: 1)?.first?.channel == "secret")
            }
        }
    }

    @Test func slowConsumerDropsAreCounted() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await withClient(.local(server.port)) { client async throws in
            try await withSubscriber(.local(server.port), bufferSize: 4, consume: false) { subscriber, _ async throws in
                await subscriber.subscribe(["flood"])
                #expect(await eventually { subscriber.isConnected })
                let results = try await client.pipeline((0..<20).map { ["PUBLISH", "flood", .int($0)] })
                #expect(results.allSatisfy { (try? $0.get()) == .integer(1) })
                #expect(await eventually { subscriber.droppedMessages == 16 })
                // The oldest four were kept.
                var kept: [String] = []
                for await message in subscriber.messages {
                    kept.append(String(buffer: message.payload))
                    if kept.count == 4 { break }
                }
                #expect(kept == ["0", "1", "2", "3"])
            }
        }
    }
}
