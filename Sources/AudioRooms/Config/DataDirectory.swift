import Foundation

/// The directory where msab keeps what must survive a restart (design.md §3): the development
/// JWT secret, the stand-alone internal key, the gift ledger and the gift queue.
public struct DataDirectory: Sendable {
    public let path: String

    /// The shortest secret msab accepts from a file, in bytes (an HS256 key; the internal key).
    public static let minimumSecretBytes = 32

    /// Creates the directory (mode 0700) if needed.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Reads a secret file, or creates it with `bytes` random bytes (hex) readable by the owner only.
    /// Used for the development JWT secret and the stand-alone internal key, so that `msab serve`
    /// and `msab token` agree without setup.
    ///
    /// An existing file is never replaced: one that is unreadable, empty or shorter than
    /// ``minimumSecretBytes`` is a configuration error naming the file (a silently regenerated
    /// secret would invalidate every token; an empty one would authenticate nothing — or anything).
    public func secret(named name: String, bytes: Int = 32) throws(ConfigurationError) -> String {
        let path = file(name)
        if let existing = try Self.readSecret(path) { return existing }
        let hex = Self.randomHex(max(bytes, Self.minimumSecretBytes))
        switch Self.createExclusively(path, contents: hex + "\n") {
        case .created:
            return hex
        case .exists:
            // Another process (`msab token` beside `msab serve`) created it first: use theirs.
            if let theirs = try Self.readSecret(path) { return theirs }
            throw ConfigurationError(variable: "MSAB_DATA_DIR", problem: "secret file \(path) disappeared while it was being read")
        case .failed(let reason):
            throw ConfigurationError(variable: "MSAB_DATA_DIR", problem: "cannot create secret file \(path): \(reason)")
        }
    }

    /// The trimmed contents of an existing secret file; nil when there is no file.
    static func readSecret(_ path: String) throws(ConfigurationError) -> String? {
        guard access(path, F_OK) == 0 else {
            if errno == ENOENT { return nil }
            throw ConfigurationError(variable: "MSAB_DATA_DIR", problem: "secret file \(path) is unreadable: \(String(cString: strerror(errno)))")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(variable: "MSAB_DATA_DIR", problem: "secret file \(path) is unreadable (not a readable UTF-8 file)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ConfigurationError(variable: "MSAB_DATA_DIR", problem: "secret file \(path) is empty; delete it to have a new one created")
        }
        guard trimmed.utf8.count >= minimumSecretBytes else {
            throw ConfigurationError(
                variable: "MSAB_DATA_DIR",
                problem:
                    "secret file \(path) holds \(trimmed.utf8.count) bytes, at least \(minimumSecretBytes) are required; delete it to have a new one created"
            )
        }
        return trimmed
    }

    static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    enum Creation: Equatable { case created, exists, failed(String) }

    /// Writes a new file that no reader can see half-written and no writer can replace: the bytes go
    /// to a private temporary file (O_CREAT|O_EXCL, mode 0600, fsync), which `link(2)` then publishes
    /// under its name — failing with EEXIST if the name is taken — and the directory is fsynced so
    /// the name survives a crash.
    static func createExclusively(_ path: String, contents: String) -> Creation {
        let temporary = path + ".tmp-\(getpid())-\(randomHex(4))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failed(String(cString: strerror(errno))) }
        let published = writeAndLink(fd, temporary, path, Array(contents.utf8))
        unlink(temporary)
        guard published == .created else { return published }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
        return .created
    }

    private static func writeAndLink(_ fd: Int32, _ temporary: String, _ path: String, _ bytes: [UInt8]) -> Creation {
        let failure = bytes.withUnsafeBytes { writeAll(fd, $0) }
        guard failure == 0 else {
            close(fd)
            return .failed(String(cString: strerror(failure)))
        }
        let synced = fsync(fd) == 0
        let syncError = errno
        close(fd)
        guard synced else { return .failed("fsync: \(String(cString: strerror(syncError)))") }
        guard link(temporary, path) == 0 else {
            return errno == EEXIST ? .exists : .failed(String(cString: strerror(errno)))
        }
        return .created
    }
}
