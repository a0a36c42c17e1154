import Foundation
import Logging
import Synchronization

/// Stand-alone gift settlement: an append-only JSON-lines ledger in the data directory, one line
/// per settled gift, fsync'd per batch. Idempotent by `transaction_id`, so a batch re-settled
/// after a crash between "written" and "marked done" is not counted twice. Its I/O runs on its
/// own `JournalThread`, which also makes "not yet in the ledger → append" one step.
public final class GiftLedger: Sendable {
    private let file: JournalFile
    private let thread = JournalThread()
    /// Settled transaction ids; read from any thread, written on `thread` after the append.
    private let settled: Mutex<Set<String>>

    public init(path: String, logger: Logger = Logger(label: "msab.gifts")) throws {
        let (file, lines) = try JournalFile.open(path: path, logger: logger)
        self.file = file
        var ids = Set<String>()
        var unreadable = 0
        for line in lines {
            if let gift = try? JSONDecoder().decode(GiftTransaction.self, from: line) { ids.insert(gift.transaction_id) } else { unreadable += 1 }
        }
        if unreadable > 0 { logger.warning("gift ledger has unreadable lines; skipped", metadata: ["path": "\(path)", "lines": "\(unreadable)"]) }
        settled = Mutex(ids)
    }

    public func contains(_ transactionId: String) -> Bool { settled.withLock { $0.contains(transactionId) } }

    /// Appends the gifts not already in the ledger and syncs the file; on failure nothing of the
    /// batch is in the ledger.
    public func append(_ batch: [GiftTransaction]) async throws {
        try await thread.run {
            var seen = Set<String>()
            let fresh = self.settled.withLock { known in
                batch.filter { !known.contains($0.transaction_id) && seen.insert($0.transaction_id).inserted }
            }
            guard !fresh.isEmpty else { return }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var data = Data()
            for var gift in fresh {
                gift.sender_socket_id = nil
                gift.retryCount = nil
                data.append(try encoder.encode(gift))
                data.append(UInt8(ascii: "\n"))
            }
            try self.file.append(data, sync: true)
            self.settled.withLock { ids in for gift in fresh { ids.insert(gift.transaction_id) } }
        }
    }
}
