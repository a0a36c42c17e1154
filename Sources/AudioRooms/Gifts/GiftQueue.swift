import Foundation
import Logging
import Synchronization

/// Gifts accepted but not yet settled, kept in the data directory until settled (design.md §3): a
/// journal of `add` / `retry` / `done` records replayed at start, so a SIGKILL loses no gift.
/// Writes go through write(2) at once (they survive the process); the settlement loop fsyncs.
///
/// The journal files are written on the queue's own `JournalThread`; the in-memory state is
/// behind a lock that is never held across I/O. Each operation changes memory on that thread
/// right after (or before) its write, so the two never disagree about what compaction may drop.
public final class GiftQueue: Sendable {
    struct Record: Codable {
        var add: GiftTransaction?
        var retry: GiftTransaction?
        var done: String?
    }

    struct State {
        /// Pending gifts in arrival order.
        var pending: [GiftTransaction] = []
        /// Settled gifts whose `done` record could not be written yet (a full disk): no longer
        /// pending here, written with the next `markDone`. Bounded by what was pending.
        var doneNotRecorded: [String] = []
        var journalRecords = 0
    }

    /// Compaction threshold: once nothing is pending and the journal has this many records, it is emptied.
    static let compactAfterRecords = 1_000

    private let journal: JournalFile
    private let deadLetters: JournalFile
    private let thread = JournalThread()
    private let state: Mutex<State>
    private let logger: Logger

    public init(directory: DataDirectory, logger: Logger = Logger(label: "msab.gifts")) throws {
        self.logger = logger
        let (journal, lines) = try JournalFile.open(path: directory.file("gift-queue.jsonl"), logger: logger)
        (deadLetters, _) = try JournalFile.open(path: directory.file("gift-dead-letter.jsonl"), logger: logger)
        self.journal = journal
        var restored = State()
        var byId: [String: GiftTransaction] = [:]
        var order: [String] = []
        var unreadable = 0
        for line in lines {
            // Torn tails were moved aside by `JournalFile.open`; a line that still does not
            // decode was damaged some other way and is reported, not guessed at.
            guard let record = try? JSONDecoder().decode(Record.self, from: line) else {
                unreadable += 1
                continue
            }
            restored.journalRecords += 1
            if let gift = record.add ?? record.retry {
                if byId[gift.transaction_id] == nil { order.append(gift.transaction_id) }
                byId[gift.transaction_id] = gift
            }
            if let id = record.done { byId[id] = nil }
        }
        if unreadable > 0 { logger.warning("gift queue journal has unreadable lines; skipped", metadata: ["lines": "\(unreadable)"]) }
        restored.pending = order.compactMap { byId[$0] }
        state = Mutex(restored)
    }

    public var count: Int { state.withLock { $0.pending.count } }

    /// Queues a gift: durable against a process kill when this returns; when it throws (a full
    /// disk), nothing of it was written and it is not queued.
    public func enqueue(_ gift: GiftTransaction) async throws {
        let line = try Self.encode([Record(add: gift)])
        try await thread.run {
            try self.journal.append(line, sync: false)
            self.state.withLock {
                $0.pending.append(gift)
                $0.journalRecords += 1
            }
        }
    }

    /// A snapshot of what is pending.
    public func pending() -> [GiftTransaction] { state.withLock { $0.pending } }

    /// Settled (or reported failed by the backend): drop from the queue. The gifts leave the
    /// pending list even when writing their `done` records fails (this throws then): a settled
    /// gift is never sent again by this process; the records are retried with the next call.
    public func markDone(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let set = Set(ids)
        let toRecord = self.state.withLock { state -> [String] in
            state.pending.removeAll { set.contains($0.transaction_id) }
            state.doneNotRecorded.append(contentsOf: ids)
            return state.doneNotRecorded
        }
        let lines = try Self.encode(toRecord.map { Record(done: $0) })
        try await thread.run {
            try self.journal.append(lines, sync: false)
            let written = Set(toRecord)
            let compact = self.state.withLock { state -> Bool in
                state.doneNotRecorded.removeAll { written.contains($0) }
                state.journalRecords += toRecord.count
                return state.pending.isEmpty && state.journalRecords > Self.compactAfterRecords
            }
            if compact { try self.compact() }
        }
    }

    /// A failed attempt: bump `retryCount`; returns the gifts that have now exhausted `maxRetries`
    /// and were moved to the dead-letter file (they stay pending if that file cannot be written).
    public func recordFailure(_ ids: [String], maxRetries: Int) async throws -> [GiftTransaction] {
        let set = Set(ids)
        return try await thread.run {
            let (retried, dead) = self.state.withLock { state -> ([GiftTransaction], [GiftTransaction]) in
                var retried: [GiftTransaction] = []
                var dead: [GiftTransaction] = []
                for index in state.pending.indices where set.contains(state.pending[index].transaction_id) {
                    let count = (state.pending[index].retryCount ?? 0) &+ 1
                    state.pending[index].retryCount = count
                    if count >= maxRetries { dead.append(state.pending[index]) } else { retried.append(state.pending[index]) }
                }
                return (retried, dead)
            }
            // The retry count is advisory: if it cannot be written, a restart just counts from
            // the last one written.
            if !retried.isEmpty, (try? self.journal.append(try Self.encode(retried.map { Record(retry: $0) }), sync: false)) != nil {
                self.state.withLock { $0.journalRecords += retried.count }
            }
            guard !dead.isEmpty else { return [] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var data = Data()
            for gift in dead {
                data.append(try encoder.encode(gift))
                data.append(UInt8(ascii: "\n"))
            }
            try self.deadLetters.append(data, sync: true)
            let deadIds = Set(dead.map(\.transaction_id))
            self.state.withLock { state in
                state.pending.removeAll { deadIds.contains($0.transaction_id) }
                state.doneNotRecorded.append(contentsOf: deadIds.sorted())
            }
            let toRecord = self.state.withLock { $0.doneNotRecorded }
            do {
                try self.journal.append(try Self.encode(toRecord.map { Record(done: $0) }), sync: false)
                let written = Set(toRecord)
                self.state.withLock {
                    $0.doneNotRecorded.removeAll { written.contains($0) }
                    $0.journalRecords += toRecord.count
                }
            } catch {
                // Dead-lettered already: not pending, so not retried; the done records follow later.
            }
            return dead
        }
    }

    /// fsyncs the journal (called once per settlement tick: group commit).
    public func sync() async {
        _ = try? await thread.run { try self.journal.sync() }
    }

    /// Once nothing is pending the journal's history is worthless: start it afresh. Runs on the
    /// journal thread, so no `add` can slip in between the check and the truncation.
    private func compact() throws {
        guard state.withLock({ $0.pending.isEmpty }) else { return }
        try journal.truncate()
        state.withLock {
            $0.journalRecords = 0
            $0.doneNotRecorded = []
        }
    }

    private static func encode(_ records: [Record]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}
