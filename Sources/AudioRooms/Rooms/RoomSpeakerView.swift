/// The room-wide speaker view of a room that spans nodes (issue 13 item 3): every node runs it
/// for the room with the same inputs and so takes the same decisions, each emitting
/// `speaker:active` to its own sockets only.
///
/// Inputs are *reports*: one node's AudioLevelObserver result for its own producers (mediasoup
/// `AudioLevelObserver` `volumes`: users whose average level over the last interval is at or above
/// the threshold; empty after `silence`). Each node keeps the latest report of every node of the
/// room, its own included, and decides after each change from the union of those reports:
/// - `activeSpeakers`: every reported user (a user reported twice counts with the louder level),
///   loudest first, ties by ascending user id (deterministic on every node, where mediasoup's
///   order among equals is the producers' insertion order, which differs per node), at most
///   ``maxEntries`` (the observer's own `maxEntries`);
/// - `userId`: the first of them, its level as `volume` (mediasoup's `volumes[0]`);
/// - an event only when that list changes, and none when it becomes empty (silence is quiet,
///   as in stand-alone mode).
///
/// Agreement: a node sends its report to the room's other nodes whenever it changes (volumes
/// included) and repeats an unchanged non-empty one every ``refreshMs``; a node decides on its
/// own ticks and on every report received, so after each report has crossed, all nodes decide
/// from the same set of reports and reach the same list. Reports carry a per-sender sequence
/// number (an older one arriving late is ignored). A remote report not refreshed within
/// ``expiryMs`` is dropped (its node died or lost Redis), as is every report of a node found
/// dead; the time is told (`now`, milliseconds), never read.
public struct RoomSpeakerView: Sendable {
    /// One user's level in a report (dBov, 0 loudest … -127). Public: ``PipeMessage`` carries it.
    public struct Level: Sendable, Hashable {
        public var userId: Int
        public var volume: Int

        public init(userId: Int, volume: Int) {
            self.userId = userId
            self.volume = volume
        }
    }

    /// What `speaker:active` says.
    struct Decision: Sendable, Hashable {
        var userId: Int
        var volume: Int
        var activeSpeakers: [Int]
    }

    private struct Report: Sendable {
        var levels: [Level]
        var sequence: UInt64
        var receivedAtMs: Int64
    }

    // MARK: - Stored properties

    /// The most entries a report and a decision hold (the AudioLevelObserver's `maxEntries`).
    let maxEntries: Int
    /// A node repeats an unchanged non-empty report this often (so others can expire it).
    let refreshMs: Int64
    /// Other nodes' reports older than this are dropped.
    let expiryMs: Int64
    /// Most other nodes a room keeps reports of.
    static let maxNodes = 64

    private var local: [Level] = []
    private var remote: [String: Report] = [:]
    /// The last list decided (nothing is emitted while it stays the same).
    private(set) var activeSpeakers: [Int] = []

    /// `maxEntries` 16: the AudioLevelObserver's (SFU `SpeakerObserverSettings`).
    init(maxEntries: Int = 16, refreshMs: Int64 = 1_000, expiryMs: Int64 = 2_500) {
        self.maxEntries = max(1, maxEntries)
        self.refreshMs = refreshMs
        self.expiryMs = expiryMs
    }

    // MARK: - Events

    /// This node's observer reported (`[]` on silence). Returns what to emit, if anything.
    mutating func localLevels(_ levels: [Level], now: Int64) -> Decision? {
        local = Self.normalized(levels, limit: maxEntries)
        return decide(now: now)
    }

    /// A report of another node arrived (already checked: it is a node of this room and its
    /// users are its members). Older-than-known reports are ignored.
    mutating func receivedLevels(_ levels: [Level], from node: String, sequence: UInt64, now: Int64) -> Decision? {
        if let known = remote[node], known.sequence >= sequence { return nil }
        guard remote[node] != nil || remote.count < Self.maxNodes else { return nil }
        remote[node] = Report(levels: Self.normalized(levels, limit: maxEntries), sequence: sequence, receivedAtMs: now)
        return decide(now: now)
    }

    /// Time passed: reports not refreshed in time go.
    mutating func tick(now: Int64) -> Decision? {
        let before = remote.count
        remote = remote.filter { now - $0.value.receivedAtMs < expiryMs }
        return remote.count == before ? nil : decide(now: now)
    }

    /// Nodes found dead: their reports go at once.
    mutating func nodesGone(_ nodes: Set<String>, now: Int64) -> Decision? {
        let before = remote.count
        for node in nodes { remote[node] = nil }
        return remote.count == before ? nil : decide(now: now)
    }

    /// This node's latest report (normalized), as it is sent to the others.
    var localReport: [Level] { local }

    /// The other nodes whose reports are held (for tests and the sweep).
    var reportingNodes: Set<String> { Set(remote.keys) }

    // MARK: - Decision

    /// The merged list, loudest first (see the type's comment), and an event when it changed.
    private mutating func decide(now: Int64) -> Decision? {
        var loudest: [Int: Int] = [:]
        for level in local { loudest[level.userId] = max(loudest[level.userId] ?? Int.min, level.volume) }
        for report in remote.values where now - report.receivedAtMs < expiryMs {
            for level in report.levels { loudest[level.userId] = max(loudest[level.userId] ?? Int.min, level.volume) }
        }
        let merged = Self.normalized(loudest.map { Level(userId: $0.key, volume: $0.value) }, limit: maxEntries)
        let users = merged.map(\.userId)
        guard users != activeSpeakers else { return nil }
        activeSpeakers = users
        guard let first = merged.first else { return nil }
        return Decision(userId: first.userId, volume: first.volume, activeSpeakers: users)
    }

    /// Levels clamped to dBov, one per user (the louder), loudest first, ties by user id, bounded.
    static func normalized(_ levels: [Level], limit: Int) -> [Level] {
        var byUser: [Int: Int] = [:]
        for level in levels.prefix(4 * limit) {
            let volume = min(0, max(-127, level.volume))
            byUser[level.userId] = max(byUser[level.userId] ?? Int.min, volume)
        }
        let sorted = byUser.map { Level(userId: $0.key, volume: $0.value) }.sorted {
            $0.volume != $1.volume ? $0.volume > $1.volume : $0.userId < $1.userId
        }
        return Array(sorted.prefix(limit))
    }
}
