import Foundation
import Synchronization

/// Gifts accepted but not yet settled, kept in the data directory until settled (design.md §3): a
/// journal of `add` / `retry` / `done` records replayed at start, so a SIGKILL loses no gift.
/// Writes go through write(2) at once (they survive the process); the settlement loop fsyncs.
public final class GiftQueue: Sendable {
    struct Record: Codable {
        var add: GiftTransaction?
        var retry: GiftTransaction?
        var done: String?
    }

    private struct State {
        /// Pending gifts in arrival order.
        var pending: [GiftTransaction] = []
        var journalRecords = 0
    }

    private let path: String
    private let deadLetterPath: String
    private let state: Mutex<State>

    public init(directory: DataDirectory) throws {
        path = directory.file("gift-queue.jsonl")
        deadLetterPath = directory.file("gift-dead-letter.jsonl")
        var restored = State()
        if let data = FileManager.default.contents(atPath: path) {
            var byId: [String: GiftTransaction] = [:]
            var order: [String] = []
            for line in data.split(separator: UInt8(ascii: "\n")) {
                // A torn last line (killed mid-write) is skipped; everything before it is intact.
                guard let record = try? JSONDecoder().decode(Record.self, from: Data(line)) else { continue }
                restored.journalRecords += 1
                if let gift = record.add ?? record.retry {
                    if byId[gift.transaction_id] == nil { order.append(gift.transaction_id) }
                    byId[gift.transaction_id] = gift
                }
                if let id = record.done { byId[id] = nil }
            }
            restored.pending = order.compactMap { byId[$0] }
        }
        state = Mutex(restored)
    }

    public var count: Int { state.withLock { $0.pending.count } }

    /// Queues a gift (durable against a process kill when this returns).
    public func enqueue(_ gift: GiftTransaction) throws {
        try state.withLock { state in
            try write(Record(add: gift), &state)
            state.pending.append(gift)
        }
    }

    /// A snapshot of what is pending.
    public func pending() -> [GiftTransaction] { state.withLock { $0.pending } }

    /// Settled (or reported failed by the backend): drop from the queue.
    public func markDone(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try state.withLock { state in
            let set = Set(ids)
            for id in ids { try write(Record(done: id), &state, sync: false) }
            state.pending.removeAll { set.contains($0.transaction_id) }
            try compactIfEmpty(&state)
        }
    }

    /// A failed attempt: bump `retryCount`; returns the gifts that have now exhausted `maxRetries`
    /// and were moved to the dead-letter file.
    public func recordFailure(_ ids: [String], maxRetries: Int) throws -> [GiftTransaction] {
        try state.withLock { state in
            let set = Set(ids)
            var dead: [GiftTransaction] = []
            for index in state.pending.indices where set.contains(state.pending[index].transaction_id) {
                state.pending[index].retryCount = (state.pending[index].retryCount ?? 0) + 1
                if state.pending[index].retryCount! >= maxRetries {
                    dead.append(state.pending[index])
                } else {
                    try write(Record(retry: state.pending[index]), &state, sync: false)
                }
            }
            if !dead.isEmpty {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                var data = Data()
                for gift in dead { data.append(try encoder.encode(gift)); data.append(UInt8(ascii: "\n")) }
                try JournalFile.append(data, to: deadLetterPath, sync: true)
                for gift in dead { try write(Record(done: gift.transaction_id), &state, sync: false) }
                let deadIds = Set(dead.map(\.transaction_id))
                state.pending.removeAll { deadIds.contains($0.transaction_id) }
            }
            try compactIfEmpty(&state)
            return dead
        }
    }

    /// fsyncs the journal (called once per settlement tick: group commit).
    public func sync() {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    private func write(_ record: Record, _ state: inout State, sync: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(record)
        data.append(UInt8(ascii: "\n"))
        try JournalFile.append(data, to: path, sync: sync)
        state.journalRecords += 1
    }

    /// Once nothing is pending the journal's history is worthless: start it afresh.
    private func compactIfEmpty(_ state: inout State) throws {
        guard state.pending.isEmpty, state.journalRecords > 1_000 else { return }
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        state.journalRecords = 0
    }
}
