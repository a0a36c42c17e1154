import Foundation

/// The directory where msab keeps what must survive a restart (design.md §3): the development
/// JWT secret, the stand-alone internal key, the gift ledger and the gift queue.
public struct DataDirectory: Sendable {
    public let path: String

    /// Creates the directory (mode 0700) if needed.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Reads a secret file, or creates it with `bytes` random bytes (hex) readable by the owner only.
    /// Used for the development JWT secret, so that `msab serve` and `msab token` agree without setup.
    public func secret(named name: String, bytes: Int = 32) throws -> String {
        let path = file(name)
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.utf8.count >= 32 { return trimmed }
        }
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        // Write to a temporary file then rename, so a concurrent reader never sees half a secret.
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data((hex + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        if link(temporary, path) != 0 {
            // Someone else created it first: use theirs.
            unlink(temporary)
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        unlink(temporary)
        return hex
    }
}
