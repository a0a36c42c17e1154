import Logging
import MediasoupWire

/// `speaker:active` (contract §5.5, HEAD's AudioLevelObserver form with `activeSpeakers`).
///
/// Stand-alone, the router's observers see every producer of the room and their events go to the
/// room as they come (unchanged from before clusters).
///
/// In a cluster (issue 13 item 3), a node's observers hear its own producers first-hand (and the
/// copies of other nodes' producers that its listeners consume, which are not reported here: the
/// origin reports them). So each node reports its own speakers' levels to the room's other nodes
/// (``PipeMessage/speakerLevels(from:room:sequence:levels:)`` on their pipe channels), every node
/// merges all reports in a ``RoomSpeakerView`` and decides identically, and each emits to its own
/// sockets only: every client of the room sees the same sequence, whichever node it is on. The
/// per-node ActiveSpeakerObserver is not used there: its dominant speaker is chosen among one
/// node's producers only (its challenge compares per-packet speech scores that are not shared),
/// so the room-wide dominant speaker is the loudest of the merged levels (AudioLevelObserver's
/// `volumes[0]`), as HEAD's `speaker:active` already reports it.
///
/// Which nodes take part comes from the store's members (node → its users), read when this
/// node has speakers or hears reports, at most every ``speakerNodesRefreshMs`` (or sooner, rate
/// limited, when a report names a node or user not known yet). A report is accepted only from a
/// node with members in the room, and only for users who are that node's members.
extension Room {
    /// How often the room's nodes are read again while anyone speaks.
    static let speakerNodesRefreshMs: Int64 = 2_000
    /// An unknown sender or user makes the nodes be read again, but not more often than this.
    static let speakerNodesMinRereadMs: Int64 = 500

    /// The router's speaker events.
    func handleSpeakerEvent(_ event: MediaRouterEvent) async {
        guard services.pipeLink != nil else { return handleStandAloneSpeakerEvent(event) }
        switch event {
        case .audioLevels(let levels):
            var mine: [RoomSpeakerView.Level] = []
            for level in levels {
                if let owner = producerOwner[level.producerId], let user = participants[owner]?.user.id {
                    mine.append(RoomSpeakerView.Level(userId: user, volume: level.volume))
                }
            }
            await localSpeakerLevels(mine)
        case .silence:
            await localSpeakerLevels([])
        case .dominantSpeaker, .transportClosed, .producerClosed, .consumerClosed:
            // One node's dominant speaker is not the room's (see the extension's comment).
            break
        }
    }

    private func handleStandAloneSpeakerEvent(_ event: MediaRouterEvent) {
        switch event {
        case .dominantSpeaker(let producerId, let volume):
            guard let owner = producerOwner[producerId], let participant = participants[owner] else { return }
            outbox.send(
                "speaker:active",
                SpeakerActiveEvent(
                    userId: participant.user.id, volume: volume, timestamp: services.now(),
                    activeSpeakers: activeSpeakers.isEmpty ? [participant.user.id] : activeSpeakers),
                to: .room(id, except: nil))
        case .audioLevels(let levels):
            var users: [Int] = []
            for level in levels {
                if let owner = producerOwner[level.producerId], let user = participants[owner]?.user.id, !users.contains(user) { users.append(user) }
            }
            if users != activeSpeakers {
                activeSpeakers = users
                if let loudest = levels.first, let owner = producerOwner[loudest.producerId], let user = participants[owner]?.user.id {
                    outbox.send(
                        "speaker:active", SpeakerActiveEvent(userId: user, volume: loudest.volume, timestamp: services.now(), activeSpeakers: users),
                        to: .room(id, except: nil))
                }
            }
        case .silence:
            activeSpeakers = []
        case .transportClosed, .producerClosed, .consumerClosed:
            break
        }
    }

    // MARK: - Cluster

    /// This node's observer reported: decide, then tell the other nodes if it changed.
    private func localSpeakerLevels(_ levels: [RoomSpeakerView.Level]) async {
        let now = services.now()
        let normalized = RoomSpeakerView.normalized(levels, limit: speakerView.maxEntries)
        emit(speakerView.localLevels(normalized, now: now))
        await shareSpeakerLevels(now: now)
    }

    /// Sends this node's levels to the room's other nodes when they changed since the last
    /// report, or when an unchanged non-empty report is due again (so the others keep it).
    func shareSpeakerLevels(now: Int64) async {
        guard let link = services.pipeLink, !isClosed else { return }
        let levels = speakerView.localReport
        let due: Bool
        if let sent = speakerShared {
            due = sent.levels != levels || (!levels.isEmpty && now - sent.atMs >= speakerView.refreshMs)
        } else {
            due = !levels.isEmpty
        }
        guard due else { return }
        if !levels.isEmpty { await refreshSpeakerNodes(now: now, force: false) }
        speakerSequence &+= 1
        speakerShared = (levels, now)
        let message = PipeMessage.speakerLevels(from: services.node, room: id, sequence: speakerSequence, levels: levels)
        for node in speakerNodes.keys.sorted() { await link.send(message, to: node) }
    }

    /// A report of another node: accepted when that node serves members of this room and the
    /// users it names are among them (the nodes are read again, rate limited, when not).
    func receivedSpeakerLevels(_ levels: [RoomSpeakerView.Level], from node: String, sequence: UInt64) async {
        guard !isClosed, node != services.node else { return }
        if !knows(node, levels) {
            await refreshSpeakerNodes(now: services.now(), force: true)
            guard !isClosed, knows(node, levels) else {
                services.logger.debug("speaker levels dropped", metadata: ["room": "\(id)", "node": "\(node)"])
                return
            }
        }
        emit(speakerView.receivedLevels(levels, from: node, sequence: sequence, now: services.now()))
    }

    private func knows(_ node: String, _ levels: [RoomSpeakerView.Level]) -> Bool {
        guard let users = speakerNodes[node] else { return false }
        return levels.allSatisfy { users.contains($0.userId) }
    }

    /// Every tick: other nodes' reports that were not refreshed expire, and ours is repeated when due.
    func speakerTick(now: Int64) async {
        guard services.pipeLink != nil else { return }
        emit(speakerView.tick(now: now))
        await shareSpeakerLevels(now: now)
    }

    /// Nodes found dead: their reports go.
    func speakerNodesGone(_ nodes: Set<String>) {
        for node in nodes { speakerNodes[node] = nil }
        emit(speakerView.nodesGone(nodes, now: services.now()))
    }

    /// Reads which other nodes serve members of this room (and which users), when due or forced
    /// (rate limited either way). A node that newly appears gets our report at the next send.
    private func refreshSpeakerNodes(now: Int64, force: Bool) async {
        if let readAt = speakerNodesReadAtMs {
            let age = now - readAt
            guard age >= (force ? Self.speakerNodesMinRereadMs : Self.speakerNodesRefreshMs) else { return }
        }
        speakerNodesReadAtMs = now
        guard let members = try? await store.members(room: id) else { return }
        var nodes: [String: Set<Int>] = [:]
        for member in members where member.node != services.node && !member.node.isEmpty {
            guard nodes[member.node] != nil || nodes.count < RoomSpeakerView.maxNodes else { continue }
            nodes[member.node, default: []].insert(member.userId)
        }
        // A node new to the room has not had our report: it gets it at the next send.
        if !Set(nodes.keys).isSubset(of: Set(speakerNodes.keys)) { speakerShared = nil }
        speakerNodes = nodes
    }

    private func emit(_ decision: RoomSpeakerView.Decision?) {
        guard let decision, !isClosed else { return }
        outbox.sendLocally(
            "speaker:active",
            SpeakerActiveEvent(
                userId: decision.userId, volume: decision.volume, timestamp: services.now(),
                activeSpeakers: decision.activeSpeakers),
            to: .room(id, except: nil))
    }
}
