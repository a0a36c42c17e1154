import Foundation
import Logging
import MediasoupWire
import SFU
import SFUServer
import Synchronization
import Testing

@testable import AudioRooms

/// The origin's side of cross-node pipes: who may ask for a pipe and close it, and what closes
/// one. (Both sides end to end, with real nodes, are in Tests/python/test_cluster_media.py.)
@Suite struct RoomPipesTests {
    static func room() async throws -> (Room, RecordingRouter) {
        try await RoomFixture.room(node: "nodeA")
    }

    static func request(_ producerId: String, from node: String = "nodeB", id: UInt64 = 1) -> PipeMessage {
        .request(PipeRequest(id: id, from: node, room: "42", producerId: producerId, end: PipeEnd(ip: "127.0.0.1", port: 5000, srtpParameters: nil)))
    }

    @Test func onlyAProducerOfThisNodeIsPiped() async throws {
        let (room, router) = try await Self.room()
        let answer = await room.handlePipeMessage(Self.request("10000000-0000-4000-8000-000000000099", id: 5))
        #expect(answer == .failed(id: 5, from: "nodeA", error: "unknown producer"))
        #expect(router.exported.withLock { $0 }.isEmpty)
    }

    @Test func aPipeAnswersWithTheStageStateAndClosesOnlyForItsNode() async throws {
        let (room, router) = try await Self.room()
        _ = await room.join(socket: "s", user: RoomFixture.user(2))
        let producer = try await RoomFixture.produce(room, socket: "s")
        guard case .reply(let reply)? = await room.handlePipeMessage(Self.request(producer, id: 7)) else {
            Issue.record("no reply")
            return
        }
        #expect(reply.id == 7 && reply.from == "nodeA" && reply.paused)  // unseated: paused by the stage rules
        #expect(await room.pipePeers() == ["nodeB"])

        // Another node cannot close nodeB's pipe; nodeB can.
        #expect(await room.handlePipeMessage(.unpipe(from: "mallory", room: "42", producerId: producer)) == nil)
        #expect(router.closedExports.withLock { $0 }.isEmpty)
        _ = await room.handlePipeMessage(.unpipe(from: "nodeB", room: "42", producerId: producer))
        #expect(router.closedExports.withLock { $0 } == ["pipe-3"])
        #expect(await room.pipePeers().isEmpty)

        // Asked again: a new pipe; asked once more by the same node: the previous one closes.
        _ = await room.handlePipeMessage(Self.request(producer, id: 8))
        _ = await room.handlePipeMessage(Self.request(producer, id: 9))
        #expect(router.exported.withLock { $0 } == ["pipe-3", "pipe-4", "pipe-5"])
        #expect(router.closedExports.withLock { $0 } == ["pipe-3", "pipe-4"])

        // Notices about producers this node does not import are ignored.
        #expect(await room.handlePipeMessage(.producerClosed(from: "nodeB", room: "42", producerId: producer)) == nil)
        #expect(await room.handlePipeMessage(.producerPaused(from: "nodeB", room: "42", producerId: producer, paused: false)) == nil)
        #expect(router.paused.withLock { $0[producer] } == true)

        // The speaker leaves: the pipe closes with the producer.
        await room.leave(socket: "s", retainSeat: false)
        #expect(router.closedExports.withLock { $0 } == ["pipe-3", "pipe-4", "pipe-5"])
        #expect(await room.pipePeers().isEmpty)
    }

    @Test func aDeadNodesPipesClose() async throws {
        let (room, router) = try await Self.room()
        _ = await room.join(socket: "s", user: RoomFixture.user(2))
        let producer = try await RoomFixture.produce(room, socket: "s")
        _ = await room.handlePipeMessage(Self.request(producer, from: "nodeB", id: 1))
        _ = await room.handlePipeMessage(Self.request(producer, from: "nodeC", id: 2))
        #expect(await room.pipePeers() == ["nodeB", "nodeC"])
        await room.nodesGone(["nodeC"])
        #expect(await room.pipePeers() == ["nodeB"])
        #expect(router.closedExports.withLock { $0 } == ["pipe-4"])
    }
}
