import Foundation
import Logging
import NIOPosix

/// The thread that does a journal's file I/O. Writes and fsyncs block: they must not run on the
/// shared cooperative pool (one slow disk would stall every room), nor under a lock that pool's
/// threads wait on. One thread also serializes every operation on the files it owns, so a
/// journal needs no lock around its I/O.
final class JournalThread: Sendable {
    private let pool: NIOThreadPool

    init() {
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    deinit { pool.shutdownGracefully { _ in } }

    /// Runs `body` on the journal thread, after everything submitted before it.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}

/// An append-only file of JSON lines (the gift queue's journal, the dead letters, the stand-alone
/// ledger). Every record is one line; the file only ever holds whole lines:
/// - at open, a torn last line (the process killed mid-write, a full disk) is moved to
///   `<path>.corrupt` with a log line and cut off, so it never merges with the next record;
/// - an append that fails (ENOSPC, EFBIG under RLIMIT_FSIZE, EIO) is cut back to the size the
///   file had before it: nothing partial stays, and the next append starts on a fresh line.
///
/// Not thread-safe by itself: after `open`, it is only used on its owner's `JournalThread`
/// (that confinement is what the `@unchecked Sendable` stands for).
final class JournalFile: @unchecked Sendable {
    struct IOFailed: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var errno: Int32
        var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
    }

    let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Opens (creating) the file, repairs a torn tail and returns the complete lines it holds.
    static func open(path: String, logger: Logger) throws -> (JournalFile, [Data]) {
        _ = ignoreFileSizeSignal
        let fd = Foundation.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOFailed(operation: "open", path: path, errno: errno) }
        let file = JournalFile(path: path, fd: fd)
        var data = try file.readAll()
        if let last = data.last, last != UInt8(ascii: "\n") {
            let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? data.startIndex
            var torn = Data(data[keep...])
            torn.append(UInt8(ascii: "\n"))
            // Kept for a human to look at (it may be most of a gift), then cut off.
            try JournalFile.appendOnce(torn, to: path + ".corrupt")
            guard ftruncate(fd, off_t(keep)) == 0, fsync(fd) == 0 else { throw IOFailed(operation: "truncate", path: path, errno: errno) }
            logger.warning(
                "journal had a torn last line; moved it aside",
                metadata: [
                    "journal": "\(path)", "bytes": "\(torn.count - 1)", "movedTo": "\(path).corrupt",
                ])
            data = Data(data[..<keep])
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map { Data($0) }
        return (file, lines)
    }

    /// Appends whole lines (`lines` must end with a newline), fsync'd when `sync`. On failure the
    /// file is cut back to its previous size and the error thrown.
    func append(_ lines: Data, sync: Bool) throws {
        precondition(lines.last == UInt8(ascii: "\n"), "journal records are whole lines")
        // The size from lseek, not fstat: with MemberImportVisibility, `struct stat` and its
        // fields resolve to CoreFoundation or Glibc depending on which module a build happens to
        // load first, and from-scratch builds failed. (The fd is O_APPEND: the offset is unused.)
        let before = lseek(fd, 0, SEEK_END)
        guard before >= 0 else { throw IOFailed(operation: "lseek", path: path, errno: errno) }
        var record = Data()
        // Every append starts on a fresh line, whatever happened to the file since it was opened.
        if before > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, before - 1) == 1, last != UInt8(ascii: "\n") { record.append(UInt8(ascii: "\n")) }
        }
        record.append(lines)
        do {
            try writeAll(record)
            if sync, fsync(fd) != 0 { throw IOFailed(operation: "fsync", path: path, errno: errno) }
        } catch {
            // Nothing partial: the record is either whole or absent. (If even this fails, the
            // next open moves the torn tail aside.)
            _ = ftruncate(fd, before)
            throw error
        }
    }

    func sync() throws {
        guard fsync(fd) == 0 else { throw IOFailed(operation: "fsync", path: path, errno: errno) }
    }

    /// Empties the file (compaction once nothing in it matters any more).
    func truncate() throws {
        guard ftruncate(fd, 0) == 0, fsync(fd) == 0 else { throw IOFailed(operation: "truncate", path: path, errno: errno) }
    }

    private func readAll() throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOFailed(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer[0..<count])
            offset += off_t(count)
        }
    }

    private func writeAll(_ data: Data) throws {
        let failure = data.withUnsafeBytes { AudioRooms.writeAll(fd, $0) }
        guard failure == 0 else { throw IOFailed(operation: "write", path: path, errno: failure) }
    }

    private static func appendOnce(_ data: Data, to path: String) throws {
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOFailed(operation: "open", path: path, errno: errno) }
        let file = JournalFile(path: path, fd: fd)
        try file.writeAll(data)
        try file.sync()
    }

    /// A file-size limit (`ulimit -f`) must surface as EFBIG on the write, which the journal
    /// handles (nothing partial, `gift:error`), instead of SIGXFSZ killing the server.
    private static let ignoreFileSizeSignal: Void = { _ = signal(SIGXFSZ, SIG_IGN) }()
}
