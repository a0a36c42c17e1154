import EngineIO
import NIOCore
import SocketIOParser
import Testing

@testable import SocketIO

/// The Socket.IO server over in-memory Engine.IO sessions: namespaces and middlewares, acks both
/// ways, binary attachments, broadcasts with rooms and exceptions, disconnect lifetimes.
@Suite struct SocketIOServerTests {
    // MARK: - namespaces

    @Test func connectsToNamespacesOnOneSessionAndRefusesUnknownOnes() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let admin = harness.server.of("/admin")
        let connected = Recorder<String>()
        admin.onConnection { socket in connected.append(socket.namespace.name) }
        harness.server.main.onConnection { socket in connected.append(socket.namespace.name) }

        let connection = harness.open()
        connection.receive("0")
        let main = try await connection.nextPacket()
        #expect(main.type == .connect && main.namespace == "/" && main.data?["sid"]?.stringValue?.count == 20)
        connection.receive("0/admin,")
        let second = try await connection.nextPacket()
        #expect(second.type == .connect && second.namespace == "/admin")
        #expect(Set(try await connected.wait(count: 2)) == ["/", "/admin"])
        #expect(harness.server.main.socketCount == 1 && admin.socketCount == 1)

        connection.receive("0/nowhere,")
        let refused = try await connection.nextPacket()
        #expect(refused.type == .connectError && refused.namespace == "/nowhere")
        #expect(refused.data == ["message": "Invalid namespace"])
        // A CONNECT_ERROR is no reason to close the session.
        #expect(!connection.isClosed)
    }

    @Test func middlewaresRunInOrderAndTheFirstRefusalWins() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let main = harness.server.main
        main.use { handshake in
            handshake.auth?["token"]?.stringValue == "good" ? .accept("user-1") : .refuse("Authentication error", data: ["code": 401])
        }
        main.use { _ in .accept(nil) }
        let data = Recorder<String>()
        main.onConnection { socket in data.append(socket.data as? String ?? "none") }

        let refused = harness.open()
        refused.receive(#"0{"token":"bad"}"#)
        let error = try await refused.nextPacket()
        #expect(error.type == .connectError)
        #expect(error.data == ["message": "Authentication error", "data": ["code": 401]])
        #expect(main.socketCount == 0)

        let (_, _) = try await harness.connect(auth: #"{"token":"good"}"#)
        #expect(try await data.wait(count: 1) == ["user-1"])
    }

    @Test func aSessionThatJoinsNoNamespaceInTimeIsClosed() async throws {
        let harness = Harness(.init(connectTimeout: .milliseconds(100)))
        defer { harness.stop() }
        let idle = harness.open()
        try await idle.waitClosed(timeout: .seconds(15))
        let (connected, _) = try await harness.connect()
        try await Task.sleep(for: .milliseconds(250))
        #expect(!connected.isClosed)
    }

    // MARK: - events and acks

    @Test func clientEventsReachTheirHandlerInOrderAndAckBack() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let seen = Recorder<[JSONValue]>()
        harness.server.main.onConnection { socket in
            socket.on("add") { args, ack in
                seen.append(args)
                let sum = args.compactMap(\.doubleValue).reduce(0, +)
                ack?.reply([.number(sum)])
                ack?.reply([.string("ignored: an ack is sent once")])
            }
        }
        let (connection, _) = try await harness.connect()
        connection.receive(#"2["add",1,2]"#)  // no ack asked
        connection.receive(#"27["add",3,4]"#)
        let ack = try await connection.nextPacket()
        #expect(ack == SocketIOPacket(type: .ack, id: 7, data: [7]))
        #expect(try await seen.wait(count: 2) == [[1, 2], [3, 4]])
        #expect(try await connection.sentNothingMore())
    }

    @Test func serverEmitsWithAckAndTheClientAnswers() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let results = Recorder<[JSONValue]>()
        let failures = Recorder<String>()
        harness.server.main.onConnection { socket in
            Task {
                do { results.append(try await socket.emitWithAck("ping", [1], timeout: .seconds(30))) } catch { failures.append("\(error)") }
                do { _ = try await socket.emitWithAck("ping", [2], timeout: .milliseconds(50)) } catch { failures.append("timeout") }
            }
        }
        let (connection, _) = try await harness.connect()
        let first = try await connection.nextPacket()
        #expect(first.type == .event && first.data == ["ping", 1])
        let id = try #require(first.id)
        connection.receive("3\(id)[\"pong\",{\"n\":1}]")
        #expect(try await results.wait(count: 1) == [["pong", ["n": 1]]])
        let second = try await connection.nextPacket()
        #expect(second.data == ["ping", 2] && second.id != id)
        #expect(try await failures.wait(count: 1) == ["timeout"])
        // A late ack for a timed-out id, or one for an id never sent, is ignored.
        connection.receive("3\(second.id ?? 0)[]")
        connection.receive("3999[]")
        #expect(try await connection.sentNothingMore())
        #expect(!connection.isClosed)
    }

    @Test func pendingAcksFailWhenTheSocketDisconnects() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let failures = Recorder<String>()
        harness.server.main.onConnection { socket in
            Task {
                do { _ = try await socket.emitWithAck("question", [], timeout: .seconds(30)) } catch { failures.append("\(type(of: error))") }
            }
        }
        let (connection, _) = try await harness.connect()
        _ = try await connection.nextPacket()
        connection.clientClose()
        #expect(try await failures.wait(count: 1) == ["AckTimeoutError"])
    }

    // MARK: - numeric event names (socket.io-parser accepts a number as the event name)

    @Test(arguments: [
        ("1e300", "1e+300"), ("-1e19", "-10000000000000000000"), ("1.5e308", "1.5e+308"),
        ("9223372036854775808", "9223372036854776000"), ("-0.5", "-0.5"), ("3", "3"), ("-0", "0"), ("1e400", "Infinity"),
    ])
    func numericEventNamesAreTheirJavaScriptString(wire: String, name: String) async throws {
        let harness = Harness()
        defer { harness.stop() }
        let names = Recorder<String>()
        harness.server.main.onConnection { socket in
            socket.on(name) { args, ack in
                names.append(name)
                ack?.reply(args)
            }
        }
        let (connection, _) = try await harness.connect()
        connection.receive("25[\(wire),\"x\"]")
        #expect(try await names.wait(count: 1) == [name])
        #expect(try await connection.nextPacket() == SocketIOPacket(type: .ack, id: 5, data: ["x"]))
        #expect(!connection.isClosed)
    }

    @Test(arguments: ["299999999999999999999[\"x\"]", "29007199254740992[\"x\"]", "3" + String(repeating: "9", count: 100_000) + "[]"])
    func ackIdsBeyondTheSafeIntegersCloseTheSession(packet: String) async throws {
        let harness = Harness()
        defer { harness.stop() }
        let (connection, _) = try await harness.connect()
        connection.receive(packet)
        try await connection.waitClosed()
    }

    @Test func theLargestSafeAckIdIsAcceptedAndEchoed() async throws {
        let harness = Harness()
        defer { harness.stop() }
        harness.server.main.onConnection { socket in socket.on("x") { _, ack in ack?.reply([]) } }
        let (connection, _) = try await harness.connect()
        connection.receive(#"29007199254740991["x"]"#)
        guard case .text(let text) = try await connection.nextSent() else {
            Issue.record("not text")
            return
        }
        #expect(text == "39007199254740991[]")
    }

    // MARK: - binary attachments

    @Test func binaryEventsAreReassembledAndBinaryRepliesGoAsAttachments() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let received = Recorder<[JSONValue]>()
        harness.server.main.onConnection { socket in
            socket.on("upload") { args, ack in
                received.append(args)
                ack?.reply([.binary(ByteBuffer(bytes: [9, 8, 7]))])
            }
        }
        let (connection, _) = try await harness.connect()
        connection.receive(#"52-3["upload",{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]"#)
        connection.receive(binary: [1, 2])
        connection.receive(binary: [3])
        let args = try await received.wait(count: 1)[0]
        #expect(args == [["a": .binary(ByteBuffer(bytes: [1, 2]))], .binary(ByteBuffer(bytes: [3]))])
        let header = try await connection.nextSent()
        #expect(header == .text(#"61-3[{"_placeholder":true,"num":0}]"#))
        #expect(try await connection.nextSent() == .binary(ByteBuffer(bytes: [9, 8, 7])))
    }

    @Test(arguments: [
        // 11 attachments: socket.io-parser's limit is 10.
        (#"511-["x"]"#, [[UInt8]]()),
        // A text packet while attachments are expected.
        (#"52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, [[1]]),
        // A placeholder pointing nowhere.
        (#"51-["x",{"_placeholder":true,"num":3}]"#, [[1]]),
    ])
    func badBinaryPacketsCloseTheSession(text: String, attachments: [[UInt8]]) async throws {
        let harness = Harness()
        defer { harness.stop() }
        let (connection, _) = try await harness.connect()
        connection.receive(text)
        for attachment in attachments { connection.receive(binary: attachment) }
        if text.hasPrefix("52-") { connection.receive(#"2["x"]"#) }
        try await connection.waitClosed()
    }

    @Test func aBinaryMessageNobodyAnnouncedClosesTheSession() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let (connection, _) = try await harness.connect()
        connection.receive(binary: [1, 2, 3])
        try await connection.waitClosed()
    }

    @Test func attachmentsTotallingMoreThanMaxPayloadCloseTheSession() async throws {
        let harness = Harness(.init(maxPayload: 1_000))
        defer { harness.stop() }
        let reached = Recorder<String>()
        harness.server.main.onConnection { socket in socket.on("x") { _, _ in reached.append("x") } }
        let (connection, _) = try await harness.connect()
        // 600 + 400 fits.
        connection.receive(#"52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        connection.receive(binary: [UInt8](repeating: 1, count: 600))
        connection.receive(binary: [UInt8](repeating: 2, count: 400))
        #expect(try await reached.wait(count: 1) == ["x"])
        // 600 + 401 does not.
        connection.receive(#"52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        connection.receive(binary: [UInt8](repeating: 1, count: 600))
        connection.receive(binary: [UInt8](repeating: 2, count: 401))
        try await connection.waitClosed()
        #expect(reached.all.count == 1)
    }

    @Test func attachmentsThatNeverArriveCloseTheSessionAfterTheConnectTimeout() async throws {
        let harness = Harness(.init(connectTimeout: .milliseconds(150)))
        defer { harness.stop() }
        let (connection, _) = try await harness.connect()
        let (bystander, _) = try await harness.connect()
        let start = ContinuousClock.now
        connection.receive(#"53-["x",{"_placeholder":true,"num":0}]"#)
        connection.receive(binary: [1])
        try await connection.waitClosed(timeout: .seconds(30))
        #expect(ContinuousClock.now - start >= .milliseconds(150))
        #expect(!bystander.isClosed)
    }

    // MARK: - broadcasts

    @Test func broadcastsReachRoomsMinusExceptionsAndEncodeOnce() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let main = harness.server.main
        main.onConnection { socket in
            socket.on("join") { args, ack in
                for room in args.compactMap(\.stringValue) { socket.join(room) }
                ack?.reply([])
            }
            socket.on("shout") { args, _ in socket.to(args[0].stringValue ?? "").emit("heard", args[1]) }
        }
        var clients: [(MemoryConnection, String)] = []
        for rooms in [["red"], ["red", "blue"], ["blue"], []] {
            let (connection, sid) = try await harness.connect()
            let list = rooms.map { "\"\($0)\"" }.joined(separator: ",")
            connection.receive("21[\"join\"\(list.isEmpty ? "" : ",")\(list)]")
            _ = try await connection.nextPacket()  // the join ack
            clients.append((connection, sid))
        }
        #expect(main.to("red").socketIds == [clients[0].1, clients[1].1])
        #expect(main.to("red").to("blue").except("blue").socketIds == [clients[0].1])
        #expect(main.except(clients[3].1).socketIds == Set(clients[0...2].map(\.1)))

        main.to("blue").except(clients[1].1).emit("news", "b")
        #expect(try await clients[2].0.nextPacket().data == ["news", "b"])
        #expect(try await clients[1].0.sentNothingMore(settle: .milliseconds(10)))

        main.to("red").emit("file", .binary(ByteBuffer(bytes: [5])))
        for index in 0...1 {
            #expect(try await clients[index].0.nextSent() == .text(#"51-["file",{"_placeholder":true,"num":0}]"#))
            #expect(try await clients[index].0.nextSent() == .binary(ByteBuffer(bytes: [5])))
        }

        // socket.to(room) leaves the sender out.
        clients[1].0.receive(#"2["shout","red","hi"]"#)
        #expect(try await clients[0].0.nextPacket().data == ["heard", "hi"])
        #expect(try await clients[1].0.sentNothingMore())

        main.emit("all")
        for (connection, _) in clients { #expect(try await connection.nextPacket().data == ["all"]) }
    }

    // MARK: - disconnect lifetimes

    @Test func disconnectReasonsAndCleanup() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let main = harness.server.main
        let reasons = Recorder<DisconnectReason>()
        main.onConnection { socket in
            socket.join("room")
            socket.onDisconnect { reason in reasons.append(reason) }
            socket.on("bye") { _, _ in socket.disconnect() }
        }
        // The client leaves the namespace: the session stays open.
        let (first, firstSid) = try await harness.connect()
        first.receive("1")
        #expect(try await reasons.wait(count: 1) == [.clientNamespaceDisconnect])
        #expect(main.socket(id: firstSid) == nil && !first.isClosed)
        // The server disconnects the socket: the client is told.
        let (second, _) = try await harness.connect()
        second.receive(#"2["bye"]"#)
        #expect(try await second.nextPacket().type == .disconnect)
        #expect(try await reasons.wait(count: 2).last == .serverNamespaceDisconnect)
        // The transport closes.
        let (third, _) = try await harness.connect()
        third.clientClose()
        #expect(try await reasons.wait(count: 3).last == .transportClose)
        // The socket is gone from the namespace and from its rooms.
        #expect(main.socketCount == 0 && main.adapter.allRooms().isEmpty)
        // Events after a namespace disconnect reach nobody; emitting to a gone socket is a no-op.
        first.receive(#"2["bye"]"#)
        #expect(try await first.sentNothingMore())
    }

    @Test func eventsQueuedBeforeADisconnectAreStillHandledThenTheDisconnectHandlerRuns() async throws {
        let harness = Harness()
        defer { harness.stop() }
        let log = Recorder<String>()
        let gate = Gate()
        harness.server.main.onConnection { socket in
            socket.on("step") { args, _ in
                if args.first == "1" { await gate.wait() }
                log.append("step \(args.first?.stringValue ?? "")")
            }
            socket.onDisconnect { reason in log.append(reason.rawValue) }
        }
        let (connection, _) = try await harness.connect()
        connection.receive(#"2["step","1"]"#)
        connection.receive(#"2["step","2"]"#)
        connection.receive("1")
        try await Task.sleep(for: .milliseconds(20))
        gate.open()
        #expect(try await log.wait(count: 3) == ["step 1", "step 2", "client namespace disconnect"])
    }
}
