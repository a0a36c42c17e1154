import Testing

@testable import AudioRooms

/// The room-wide speaker view (issue 13 item 3): two nodes fed the same reports decide the same
/// `speaker:active` sequence; a dead node's levels expire; ties and silence are deterministic.
@Suite struct RoomSpeakerViewTests {
    typealias Level = RoomSpeakerView.Level
    typealias Decision = RoomSpeakerView.Decision

    static func levels(_ pairs: (Int, Int)...) -> [Level] { pairs.map { Level(userId: $0.0, volume: $0.1) } }

    @Test func twoNodesMergeTheirLevelsAndAgree() {
        var node1 = RoomSpeakerView()
        var node2 = RoomSpeakerView()
        // A (user 1) on node 1 at -20 dBov, B (user 2) on node 2 at -35.
        let a = Self.levels((1, -20))
        let b = Self.levels((2, -35))
        #expect(node1.localLevels(a, now: 1_000) == Decision(userId: 1, volume: -20, activeSpeakers: [1]))
        #expect(node2.receivedLevels(a, from: "n1", sequence: 1, now: 1_001) == Decision(userId: 1, volume: -20, activeSpeakers: [1]))
        // B's report: node 2 first (its own tick), then node 1 when it arrives; the same list on both.
        #expect(node2.localLevels(b, now: 1_200) == Decision(userId: 1, volume: -20, activeSpeakers: [1, 2]))
        #expect(node1.receivedLevels(b, from: "n2", sequence: 1, now: 1_201) == Decision(userId: 1, volume: -20, activeSpeakers: [1, 2]))
        // Unchanged lists say nothing more, even when the volumes move.
        #expect(node1.localLevels(Self.levels((1, -21)), now: 1_500) == nil)
        #expect(node2.receivedLevels(Self.levels((1, -21)), from: "n1", sequence: 2, now: 1_501) == nil)
        // B becomes the louder: both say so.
        #expect(node2.localLevels(Self.levels((2, -10)), now: 1_700) == Decision(userId: 2, volume: -10, activeSpeakers: [2, 1]))
        #expect(
            node1.receivedLevels(Self.levels((2, -10)), from: "n2", sequence: 2, now: 1_701)
                == Decision(userId: 2, volume: -10, activeSpeakers: [2, 1]))
        // A stops (silence on node 1): B alone, on both.
        #expect(node1.localLevels([], now: 2_000) == Decision(userId: 2, volume: -10, activeSpeakers: [2]))
        #expect(node2.receivedLevels([], from: "n1", sequence: 3, now: 2_001) == Decision(userId: 2, volume: -10, activeSpeakers: [2]))
        #expect(node1.activeSpeakers == node2.activeSpeakers)
    }

    @Test func aLateOlderReportIsIgnored() {
        var view = RoomSpeakerView()
        _ = view.receivedLevels(Self.levels((5, -30)), from: "n2", sequence: 10, now: 0)
        #expect(view.receivedLevels(Self.levels((6, -5)), from: "n2", sequence: 9, now: 10) == nil)
        #expect(view.receivedLevels(Self.levels((6, -5)), from: "n2", sequence: 10, now: 10) == nil)
        #expect(view.activeSpeakers == [5])
    }

    @Test func aDeadNodesLevelsExpireUnlessRefreshed() {
        var view = RoomSpeakerView(refreshMs: 1_000, expiryMs: 2_500)
        _ = view.localLevels(Self.levels((1, -40)), now: 0)
        #expect(view.receivedLevels(Self.levels((2, -20)), from: "n2", sequence: 1, now: 0)?.activeSpeakers == [2, 1])
        // Refreshed (the same report again) within the expiry: kept.
        #expect(view.tick(now: 2_000) == nil)
        #expect(view.receivedLevels(Self.levels((2, -20)), from: "n2", sequence: 2, now: 2_000) == nil)
        #expect(view.tick(now: 4_400) == nil)
        // Not refreshed for 2.5 s: gone, and the list says so.
        #expect(view.tick(now: 4_500) == Decision(userId: 1, volume: -40, activeSpeakers: [1]))
        #expect(view.reportingNodes.isEmpty)
    }

    @Test func aNodeFoundDeadLosesItsLevelsAtOnce() {
        var view = RoomSpeakerView()
        _ = view.receivedLevels(Self.levels((2, -20)), from: "n2", sequence: 1, now: 0)
        _ = view.receivedLevels(Self.levels((3, -30)), from: "n3", sequence: 1, now: 0)
        #expect(view.nodesGone(["n9"], now: 10) == nil)
        #expect(view.nodesGone(["n2"], now: 10) == Decision(userId: 3, volume: -30, activeSpeakers: [3]))
    }

    @Test func tiesGoToTheLowerUserIdOnEveryNode() {
        var node1 = RoomSpeakerView()
        var node2 = RoomSpeakerView()
        // Equal volumes reported in different orders on each node.
        _ = node1.localLevels(Self.levels((9, -20), (4, -25)), now: 0)
        #expect(
            node1.receivedLevels(Self.levels((3, -20)), from: "n2", sequence: 1, now: 1)
                == Decision(userId: 3, volume: -20, activeSpeakers: [3, 9, 4]))
        _ = node2.localLevels(Self.levels((3, -20)), now: 0)
        #expect(
            node2.receivedLevels(Self.levels((4, -25), (9, -20)), from: "n1", sequence: 1, now: 1)
                == Decision(userId: 3, volume: -20, activeSpeakers: [3, 9, 4]))
    }

    @Test func aSilentRoomSaysNothing() {
        var view = RoomSpeakerView()
        #expect(view.localLevels([], now: 0) == nil)
        #expect(view.receivedLevels([], from: "n2", sequence: 1, now: 0) == nil)
        #expect(view.tick(now: 10_000) == nil)
        // Speech, then silence everywhere: the list empties without an event (as stand-alone).
        #expect(view.localLevels(Self.levels((1, -30)), now: 10_000) != nil)
        #expect(view.localLevels([], now: 10_500) == nil)
        #expect(view.activeSpeakers.isEmpty)
        // The next speech is news again.
        #expect(view.localLevels(Self.levels((1, -30)), now: 11_000) == Decision(userId: 1, volume: -30, activeSpeakers: [1]))
    }

    @Test func reportsAreBoundedAndClamped() {
        var view = RoomSpeakerView(maxEntries: 4)
        let many = (1...100).map { Level(userId: $0, volume: -$0) }
        #expect(view.receivedLevels(many, from: "n2", sequence: 1, now: 0)?.activeSpeakers == [1, 2, 3, 4])
        // A user reported twice counts once, with the louder level; levels outside dBov are clamped.
        #expect(
            RoomSpeakerView.normalized(Self.levels((7, -50), (7, -10), (8, 40), (9, -400)), limit: 4)
                == Self.levels((8, 0), (7, -10), (9, -127)))
        // At most maxNodes other nodes are kept.
        var crowded = RoomSpeakerView()
        for node in 0..<RoomSpeakerView.maxNodes { _ = crowded.receivedLevels([], from: "n\(node)", sequence: 1, now: 0) }
        #expect(crowded.receivedLevels(Self.levels((1, -1)), from: "extra", sequence: 1, now: 0) == nil)
        #expect(crowded.reportingNodes.count == RoomSpeakerView.maxNodes)
    }
}
