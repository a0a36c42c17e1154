import Redis
import RedisTesting
import Testing

@testable import AudioRooms

/// The Redis store against a private redis-server: seat changes atomic across nodes (each
/// "node" here is its own store with its own connection), membership counts, user indexes.
@Suite(.enabled(if: RedisServerProcess.isAvailable, "needs /usr/bin/redis-server (make deps installs it)"))
struct RedisRoomStateStoreTests {
    /// Runs `body` with `count` stores, each on its own connection to one fresh redis-server.
    func withNodes(_ count: Int, _ body: @Sendable ([RedisRoomStateStore]) async throws -> Void) async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let clients = (0..<count).map { _ in RedisClient(configuration: .local(server.port), logger: testLogger) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { try await client.run() } }
            // Generous: with every suite running in parallel on two cores, the poll itself can wait seconds for a thread.
            #expect(await eventually(within: .seconds(30)) { clients.allSatisfy(\.isConnected) })
            let stores = clients.enumerated().map { RedisRoomStateStore(redis: $1, node: "n\($0)", inactivityTimeoutMs: 30_000, now: { 2_000 }) }
            try await body(stores)
            group.cancelAll()
        }
    }

    @Test func aRaceForOneSeatAcrossThreeNodesHasExactlyOneWinner() async throws {
        try await withNodes(3) { stores in
            for round in 0..<20 {
                let room = "race-\(round)"
                // Nine users, three per node, all take seat 4 at once.
                let results = await withTaskGroup(of: Bool.self, returning: [Bool].self) { group in
                    for user in 1...9 {
                        let store = stores[user % 3]
                        group.addTask {
                            let outcome = try? await store.updateSeats(room: room, seatCount: 15) { $0.take(4, by: user) }
                            if case .success? = outcome?.result { return true }
                            return false
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.filter { $0 }.count == 1, "round \(round): \(results)")
                let seats = try await stores[0].loadSeats(room: room, seatCount: 15).seats
                #expect(seats.occupied.count == 1 && seats.occupied[0].seatIndex == 4)
            }
        }
    }

    @Test func seatsReadBackAsWrittenAndVersionsOnlyGrow() async throws {
        try await withNodes(2) { stores in
            let first = try await stores[0].updateSeats(room: "r", seatCount: 15) { seats -> Void in
                _ = seats.take(2, by: 7)
                _ = seats.setMuted(7, true)
                _ = seats.lock(9)
                _ = seats.invite(3, target: 8, by: 7, now: 1_000, ttlMs: 30_000)
            }
            let loaded = try await stores[1].loadSeats(room: "r", seatCount: 15)
            #expect(loaded.seats == first.seats)
            #expect(loaded.version == first.version)
            // A no-op writes nothing (the version stays); a change moves it on.
            let unchanged = try await stores[1].updateSeats(room: "r", seatCount: 15) { $0.take(2, by: 8) }
            #expect(unchanged.version == first.version)
            let moved = try await stores[1].updateSeats(room: "r", seatCount: 15) { $0.leave(7) }
            #expect(moved.version > first.version)
            // Closed for good: state gone, and the next version is still newer than any before.
            #expect(try await stores[0].closeRoom("r", localSockets: []))
            let reopened = try await stores[0].updateSeats(room: "r", seatCount: 15) { $0.take(0, by: 1) }
            #expect(reopened.version > moved.version)
            #expect(reopened.seats.locked.isEmpty && !reopened.seats.isMuted(7))
        }
    }

    @Test func membershipCountsDistinctUsersAcrossNodes() async throws {
        try await withNodes(2) { stores in
            let ann = UserProfile(id: 1, fields: [("name", .string("Ann")), ("email", .string("ann@example.com"))])
            let first = try await stores[0].addMember(RoomMember(socketId: "a1", profile: ann, joinedAtMs: 1, node: "n0"), room: "m")
            let second = try await stores[1].addMember(RoomMember(socketId: "a2", profile: ann, joinedAtMs: 2, node: "n1"), room: "m")
            let bob = try await stores[1].addMember(RoomMember(socketId: "b1", profile: UserProfile(id: 2), joinedAtMs: 3, node: "n1"), room: "m")
            #expect(first == MembershipChange(userChanged: true, participantCount: 1))
            #expect(second == MembershipChange(userChanged: false, participantCount: 1))
            #expect(bob == MembershipChange(userChanged: true, participantCount: 2))
            try await stores[1].setProducer("p1", socket: "b1", room: "m")
            let members = try await stores[0].members(room: "m")
            #expect(members.map(\.socketId) == ["a1", "a2", "b1"])
            #expect(members[2].producerId == "p1" && members[1].node == "n1")
            // Only public fields travel (design.md fix 12).
            #expect(members[0].profile.fields.map(\.key) == ["name"])
            // The same socket removed by two nodes: one of them did it.
            let removals = await [
                try? stores[0].removeMember(socket: "a1", userId: 1, room: "m"),
                try? stores[1].removeMember(socket: "a1", userId: 1, room: "m"),
            ]
            #expect(removals.compactMap { $0 } == [MembershipChange(userChanged: false, participantCount: 2)])
            #expect(try await stores[0].removeMember(socket: "a2", userId: 1, room: "m") == MembershipChange(userChanged: true, participantCount: 1))
            // A room with members on another node is not closed by this one.
            #expect(try await stores[0].closeRoom("m", localSockets: []) == false)
            #expect(try await stores[1].closeRoom("m", localSockets: ["b1"]))
            #expect(try await stores[0].members(room: "m").isEmpty)
        }
    }

    @Test func userIndexesAndRateLimits() async throws {
        try await withNodes(1) { stores in
            let store = stores[0]
            try await store.userConnected(5, socket: "s1")
            try await store.userConnected(5, socket: "s2")
            #expect(try await store.sockets(ofUser: 5) == ["s1", "s2"])
            try await store.userDisconnected(5, socket: "s1")
            #expect(try await store.sockets(ofUser: 5) == ["s2"])
            try await store.setRoom("x", ofUser: 5)
            try await store.clearRoom("y", ofUser: 5)  // another room: kept
            #expect(try await store.room(ofUser: 5) == "x")
            try await store.clearRoom("x", ofUser: 5)
            #expect(try await store.room(ofUser: 5) == nil)
            var allowed = 0
            for _ in 0..<5 where try await store.allow("chat:5", limit: 3, windowMs: 60_000, now: 0) { allowed += 1 }
            #expect(allowed == 3)
        }
    }
}
