import DTLS
import Foundation
import Testing

/// Runs the `openssl` command-line tool (Debian's openssl package); nil if it is missing.
enum OpenSSLTool {
    static let path: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func run(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `openssl x509 -noout -fingerprint -<digest>` → the `AB:CD:…` part.
    static func fingerprint(pem: String, digest: String) throws -> String {
        let line = try run(["x509", "-noout", "-fingerprint", "-\(digest)"], input: pem)
        return String(line.split(separator: "=", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite struct DTLSCertificateTests {
    static let digests: [(DTLSFingerprint.Algorithm, String)] = [
        (.sha1, "sha1"), (.sha224, "sha224"), (.sha256, "sha256"), (.sha384, "sha384"), (.sha512, "sha512"),
    ]

    @Test func fingerprintFormat() throws {
        let certificate = try DTLSCertificate()
        for algorithm in DTLSFingerprint.Algorithm.allCases {
            let fingerprint = certificate.fingerprint(algorithm)
            let bytes = fingerprint.value.split(separator: ":")
            #expect(bytes.count == algorithm.digestLength)
            #expect(bytes.allSatisfy { $0.count == 2 && $0.allSatisfy { "0123456789ABCDEF".contains($0) } })
            // Round-trips through the signalling parser.
            #expect(DTLSFingerprint(algorithm: algorithm.rawValue, value: fingerprint.value.lowercased()) == fingerprint)
        }
        #expect(certificate.fingerprints.count == 5)
        // A new certificate, a new identity.
        #expect(try DTLSCertificate().fingerprint(.sha256) != certificate.fingerprint(.sha256))
    }

    @Test(.enabled(if: OpenSSLTool.path != nil, "openssl command-line tool not installed"))
    func fingerprintsMatchOpenSSLCommandLine() throws {
        let certificate = try DTLSCertificate(commonName: "fingerprint-test")
        let pem = certificate.pemCertificate
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        for (algorithm, digest) in Self.digests {
            #expect(try OpenSSLTool.fingerprint(pem: pem, digest: digest) == certificate.fingerprint(algorithm).value, "\(digest)")
        }
        let text = try OpenSSLTool.run(["x509", "-noout", "-text"], input: pem)
        #expect(text.contains("prime256v1"))
        #expect(text.contains("ecdsa-with-SHA256"))
        #expect(text.contains("CN = fingerprint-test") || text.contains("CN=fingerprint-test"))
        // Valid now, and not after ~31 days.
        #expect(try OpenSSLTool.run(["x509", "-noout", "-checkend", "0"], input: pem).contains("will not expire"))
        #expect(try OpenSSLTool.run(["x509", "-noout", "-checkend", "\(31 * 86_400)"], input: pem).contains("will expire"))
    }

    /// A certificate made by the openssl tool (not by us), loaded from PEM.
    @Test(.enabled(if: OpenSSLTool.path != nil, "openssl command-line tool not installed"))
    func loadsForeignPEMAndFingerprintsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("msab-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("key.pem").path
        let certificatePath = directory.appendingPathComponent("cert.pem").path
        _ = try OpenSSLTool.run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=foreign", "-keyout", keyPath, "-out", certificatePath,
        ])
        let pem = try String(contentsOfFile: certificatePath, encoding: .utf8)
        let key = try String(contentsOfFile: keyPath, encoding: .utf8)
        let certificate = try DTLSCertificate(pemCertificate: pem, pemPrivateKey: key)
        for (algorithm, digest) in Self.digests {
            #expect(try OpenSSLTool.fingerprint(pem: pem, digest: digest) == certificate.fingerprint(algorithm).value, "\(digest)")
        }
    }

    @Test func pemRoundTripKeepsTheIdentity() throws {
        let original = try DTLSCertificate()
        let reloaded = try DTLSCertificate(pemCertificate: original.pemCertificate, pemPrivateKey: original.pemPrivateKey)
        #expect(reloaded.fingerprints == original.fingerprints)
        // A key from another certificate is refused.
        let other = try DTLSCertificate()
        let error = #expect(throws: DTLSError.self) {
            _ = try DTLSCertificate(pemCertificate: original.pemCertificate, pemPrivateKey: other.pemPrivateKey)
        }
        #expect(error?.type == .certificate)
        #expect(throws: DTLSError.self) { _ = try DTLSCertificate(pemCertificate: "not pem", pemPrivateKey: "") }
    }

    @Test func fingerprintParsing() {
        let value = (0..<32).map { _ in "Ab" }.joined(separator: ":")
        #expect(DTLSFingerprint(algorithm: "SHA-256", value: value)?.value == value.uppercased())
        #expect(DTLSFingerprint(algorithm: "sha-256", value: value)?.algorithm == .sha256)
        #expect(DTLSFingerprint(algorithm: "md5", value: value) == nil)
        #expect(DTLSFingerprint(algorithm: "sha-1", value: value) == nil)  // wrong length
        #expect(DTLSFingerprint(algorithm: "sha-256", value: value.replacingOccurrences(of: "Ab", with: "Zz")) == nil)
        #expect(DTLSFingerprint(algorithm: "sha-256", value: "") == nil)
    }
}
