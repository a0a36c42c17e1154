import Foundation
import Logging
import Testing

@testable import AudioRooms

/// The gift journal's files only ever hold whole lines (issue 11 point 6).
@Suite struct GiftJournalTests {
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("msab-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func gift(_ n: Int) -> GiftTransaction {
        GiftTransaction(
            transaction_id: "g_\(n)", room_id: "42", sender_id: 1, recipient_id: 2, gift_id: n, quantity: 1,
            timestamp: Int64(n), retryCount: nil, sender_socket_id: "s")
    }

    @Test func aTornLastLineIsMovedAsideAndTheNextAppendStartsAFreshLine() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.jsonl").path
        try Data("{\"a\":1}\n{\"b\":2}\n{\"c\":".utf8).write(to: URL(fileURLWithPath: path))
        let (file, lines) = try JournalFile.open(path: path, logger: Logger(label: "test"))
        #expect(lines == [Data("{\"a\":1}".utf8), Data("{\"b\":2}".utf8)])
        #expect(FileManager.default.contents(atPath: path + ".corrupt") == Data("{\"c\":\n".utf8))
        try file.append(Data("{\"d\":4}\n".utf8), sync: true)
        #expect(FileManager.default.contents(atPath: path) == Data("{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n".utf8))
        // Something else left a partial line behind our back: the append still starts afresh.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"e\"".utf8))
        try handle.close()
        try file.append(Data("{\"f\":6}\n".utf8), sync: false)
        #expect(FileManager.default.contents(atPath: path) == Data("{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n{\"e\"\n{\"f\":6}\n".utf8))
    }

    @Test func aGiftQueuedAfterATornRecordSurvivesARestart() async throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try DataDirectory(path: dir.path)
        do {
            let queue = try GiftQueue(directory: data)
            try await queue.enqueue(Self.gift(1))
        }
        // A kill in the middle of the next record's write.
        let path = data.file("gift-queue.jsonl")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"add\":{\"gift_id\":2,\"quan".utf8))
        try handle.close()

        do {
            let queue = try GiftQueue(directory: data)
            #expect(queue.pending().map(\.transaction_id) == ["g_1"])
            try await queue.enqueue(Self.gift(3))
        }
        let queue = try GiftQueue(directory: data)
        #expect(queue.pending().map(\.transaction_id) == ["g_1", "g_3"])
        try await queue.markDone(["g_1"])
        #expect(try GiftQueue(directory: data).pending().map(\.transaction_id) == ["g_3"])
    }

    @Test func theLedgerIsIdempotentAndRepairsATornTail() async throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gift-ledger.jsonl").path
        do {
            let ledger = try GiftLedger(path: path)
            try await ledger.append([Self.gift(1), Self.gift(1), Self.gift(2)])
            try await ledger.append([Self.gift(2)])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"gift_id\":3".utf8))
        try handle.close()
        let ledger = try GiftLedger(path: path)
        #expect(ledger.contains("g_1") && ledger.contains("g_2"))
        try await ledger.append([Self.gift(3)])
        #expect(try GiftLedger(path: path).contains("g_3"))
        let lines = try #require(FileManager.default.contents(atPath: path)).split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 3)
    }
}
