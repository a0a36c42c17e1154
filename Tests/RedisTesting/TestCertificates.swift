import Foundation

/// A throw-away CA and a server certificate for localhost / 127.0.0.1, made with the openssl tool.
package struct TestCertificates: Sendable {
    package static let openssl: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    package let directory: String
    package var caCertificate: String { directory + "/ca.crt" }
    package var serverCertificate: String { directory + "/server.crt" }
    package var serverKey: String { directory + "/server.key" }

    package init() throws {
        directory = NSTemporaryDirectory() + "msab-redis-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.cnf", atomically: true, encoding: .utf8)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try Self.run(
            ["req", "-x509"] + curve + ["-keyout", directory + "/ca.key", "-out", caCertificate, "-days", "1", "-subj", "/CN=msab test CA"])
        try Self.run(["req"] + curve + ["-keyout", serverKey, "-out", directory + "/server.csr", "-subj", "/CN=localhost"])
        try Self.run([
            "x509", "-req", "-in", directory + "/server.csr", "-CA", caCertificate, "-CAkey", directory + "/ca.key", "-CAcreateserial",
            "-out", serverCertificate, "-days", "1", "-extfile", directory + "/san.cnf",
        ])
    }

    package func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    package struct OpenSSLFailed: Error { var arguments: [String] }

    package static func run(_ arguments: [String]) throws {
        guard let openssl else { throw OpenSSLFailed(arguments: arguments) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw OpenSSLFailed(arguments: arguments) }
    }
}
