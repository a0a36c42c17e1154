import AudioRooms
import Foundation
import Testing

@Suite struct DataDirectoryTests {
    func temporaryDirectory() throws -> DataDirectory {
        try DataDirectory(path: NSTemporaryDirectory() + "msab-datadir-\(UUID().uuidString)")
    }

    @Test func createsAPrivateSecretOnceAndReadsItBack() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let first = try directory.secret(named: "jwt-secret")
        #expect(first.utf8.count == 64)  // 32 random bytes, hex
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("jwt-secret"))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try directory.secret(named: "jwt-secret") == first)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["jwt-secret"])
    }

    @Test(arguments: ["", "\n", "short-secret", String(repeating: "x", count: 31)])
    func anUnusableSecretFileIsAConfigurationErrorNamingIt(contents: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let path = directory.file("internal-key")
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        #expect {
            _ = try directory.secret(named: "internal-key")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.variable == "MSAB_DATA_DIR" && error.problem.contains(path) && !error.description.contains("\n")
        }
        // Never replaced: the operator decides.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
    }

    @Test func anUnreadableSecretFileIsAConfigurationError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        try FileManager.default.createDirectory(atPath: directory.file("jwt-secret"), withIntermediateDirectories: false)
        #expect(throws: ConfigurationError.self) { _ = try directory.secret(named: "jwt-secret") }
    }

    @Test func aThirtyTwoByteFileIsAccepted() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let secret = String(repeating: "k", count: 32)
        try (secret + "\n").write(toFile: directory.file("jwt-secret"), atomically: false, encoding: .utf8)
        #expect(try directory.secret(named: "jwt-secret") == secret)
    }
}
