import Foundation
import Synchronization

/// Stand-alone gift settlement: an append-only JSON-lines ledger in the data directory, one line
/// per settled gift, fsync'd per batch. Idempotent by `transaction_id`, so a batch re-settled
/// after a crash between "written" and "marked done" is not counted twice.
public final class GiftLedger: Sendable {
    private let path: String
    private let settled: Mutex<Set<String>>

    public init(path: String) throws {
        self.path = path
        var ids = Set<String>()
        if let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let gift = try? JSONDecoder().decode(GiftTransaction.self, from: Data(line)) { ids.insert(gift.transaction_id) }
            }
        }
        settled = Mutex(ids)
    }

    public func contains(_ transactionId: String) -> Bool { settled.withLock { $0.contains(transactionId) } }

    /// Appends the gifts not already in the ledger and syncs the file.
    public func append(_ batch: [GiftTransaction]) throws {
        try settled.withLock { ids in
            let fresh = batch.filter { !ids.contains($0.transaction_id) }
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
            try JournalFile.append(data, to: path, sync: true)
            for gift in fresh { ids.insert(gift.transaction_id) }
        }
    }
}

/// Appending to a file with O_APPEND (+ fsync when asked); the building block of the ledger and queue.
enum JournalFile {
    struct WriteFailed: Error { var path: String; var errno: Int32 }

    static func append(_ data: Data, to path: String, sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteFailed(path: path, errno: errno) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteFailed(path: path, errno: errno)
                }
                offset += written
            }
        }
        if sync, fsync(fd) != 0 { throw WriteFailed(path: path, errno: errno) }
    }
}
