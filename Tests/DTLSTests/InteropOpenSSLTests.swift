import DTLS
import Foundation
import NIOCore
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A blocking UDP socket on 127.0.0.1 with a short receive timeout (test support only).
final class LoopbackUDPSocket {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        guard let (fd, port) = bindLoopback(Int32(SOCK_DGRAM.rawValue)) else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.descriptor = fd
        self.port = port
    }

    deinit { Glibc.close(self.descriptor) }

    /// One datagram and its sender, or nil after the receive timeout.
    func receive() -> (ByteBuffer, sockaddr_in)? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(self.descriptor, &buffer, buffer.count, 0, $0, &length) }
        }
        guard count > 0 else { return nil }
        return (ByteBuffer(bytes: buffer[0..<count]), from)
    }

    func send(_ datagram: ByteBuffer, to address: sockaddr_in) {
        var address = address
        let bytes = Array(datagram.readableBytesView)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(self.descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}

/// Collects a child process's stdout while it runs.
final class ProcessOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        self.lock.lock()
        self.data.append(chunk)
        self.lock.unlock()
    }

    var text: String {
        self.lock.lock()
        defer { self.lock.unlock() }
        return String(decoding: self.data, as: UTF8.self)
    }

    /// The hex after "Keying material: " in s_client/s_server output.
    var keyingMaterial: [UInt8]? {
        guard let line = self.text.split(separator: "\n").first(where: { $0.contains("Keying material:") }),
            let hex = line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces), hex.count >= 2
        else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// Interop with OpenSSL's own DTLS peers (pion/dtls e2e_openssl_test.go style) over real UDP
/// on 127.0.0.1, bounded to 10 s each. Skipped when the openssl tool is missing.
@Suite(.enabled(if: OpenSSLTool.path != nil, "openssl command-line tool not installed"), .timeLimit(.minutes(1)))
struct InteropOpenSSLTests {
    static func writeIdentity(_ certificate: DTLSCertificate, in directory: URL) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try certificate.pemCertificate.write(toFile: cert, atomically: true, encoding: .utf8)
        try certificate.pemPrivateKey.write(toFile: key, atomically: true, encoding: .utf8)
        return (cert, key)
    }

    static func launch(_ arguments: [String], output: ProcessOutput) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: OpenSSLTool.path!)
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = stdout
        process.standardInput = Pipe()  // kept open: s_client/s_server stay up until terminated
        try process.run()
        // A reader thread to end of file, not `readabilityHandler`: corelibs-foundation's
        // readability monitor never frees the handle's weak-reference side table, leaking the
        // handle, the Process and its pipes (LeakSanitizer, `make sanitize`). The child's exit
        // closes the pipe, which ends the thread.
        let reader = stdout.fileHandleForReading
        Thread {
            while case let chunk = reader.availableData, !chunk.isEmpty { output.append(chunk) }
        }.start()
        return process
    }

    /// Stops a child within a bounded time (`waitUntilExit` can block on Linux when called off
    /// the main thread, so poll instead).
    static func stop(_ process: Process) {
        process.terminate()
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
        // Once the child is gone this returns at once, and it drops the run-loop source that
        // Process.run made (and which retains the Process): without it every Process leaks.
        if !process.isRunning { process.waitUntilExit() }
    }

    /// Pumps datagrams between the endpoint and the socket until `done` or 10 s.
    static func pump(
        _ endpoint: DTLSEndpoint, socket: LoopbackUDPSocket, peer initialPeer: sockaddr_in?, until done: () -> Bool
    ) {
        var peer = initialPeer
        let start = NIODeadline.now()
        while NIODeadline.now() - start < .seconds(10), !done() {
            if let (datagram, from) = socket.receive() {
                peer = from
                endpoint.handleDatagram(datagram, now: .now())
            }
            if let deadline = endpoint.pollTimeout(), deadline <= .now() {
                endpoint.handleTimeout(now: .now())
            }
            while let datagram = endpoint.pollDatagram() {
                if let peer { socket.send(datagram, to: peer) }
            }
        }
    }

    static func expectedExport(_ connection: DTLSConnection, weAreClient: Bool) -> [UInt8] {
        let keyLength = connection.profile.keyLength
        let client = weAreClient ? connection.localKeyingMaterial : connection.remoteKeyingMaterial
        let server = weAreClient ? connection.remoteKeyingMaterial : connection.localKeyingMaterial
        return Array(client[..<keyLength] + server[..<keyLength] + client[keyLength...] + server[keyLength...])
    }

    @Test func weAreServerOpenSSLIsClient() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("msab-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let peerCertificate = try DTLSCertificate(commonName: "s_client")
        let identity = try Self.writeIdentity(peerCertificate, in: directory)
        let socket = try LoopbackUDPSocket()
        let endpoint = try DTLSEndpoint(
            role: .server, certificate: try DTLSCertificate(), remoteFingerprints: [peerCertificate.fingerprint(.sha256)])
        endpoint.start(now: .now())

        let output = ProcessOutput()
        let process = try Self.launch(
            [
                "s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.port)", "-use_srtp", "SRTP_AES128_CM_SHA1_80",
                "-cert", identity.cert, "-key", identity.key, "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60",
            ], output: output)
        defer { Self.stop(process) }
        Self.pump(endpoint, socket: socket, peer: nil) { DTLSPair.connection(endpoint) != nil && output.keyingMaterial != nil }

        let connection = try #require(DTLSPair.connection(endpoint), "state \(endpoint.state); s_client said: \(output.text)")
        #expect(connection.profile == .aes128CMHMACSHA1_80)
        #expect(output.text.contains("SRTP_AES128_CM_SHA1_80"))
        #expect(output.keyingMaterial == Self.expectedExport(connection, weAreClient: false))
    }

    @Test func weAreClientOpenSSLIsServer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("msab-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let peerCertificate = try DTLSCertificate(commonName: "s_server")
        let identity = try Self.writeIdentity(peerCertificate, in: directory)
        // A free port for s_server: bind, note, release (s_server binds it a moment later; our
        // ClientHello retransmissions cover the gap).
        let port = try LoopbackUDPSocket().port
        let output = ProcessOutput()
        let process = try Self.launch(
            [
                "s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)", "-use_srtp", "SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80",
                "-cert", identity.cert, "-key", identity.key, "-verify", "1",
                "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "88",
            ], output: output)
        defer { Self.stop(process) }
        let socket = try LoopbackUDPSocket()
        let endpoint = try DTLSEndpoint(
            role: .client, certificate: try DTLSCertificate(), remoteFingerprints: [peerCertificate.fingerprint(.sha512)])
        endpoint.start(now: .now())
        Self.pump(endpoint, socket: socket, peer: LoopbackUDPSocket.loopback(port: port)) {
            DTLSPair.connection(endpoint) != nil && output.keyingMaterial != nil
        }

        let connection = try #require(DTLSPair.connection(endpoint), "state \(endpoint.state); s_server said: \(output.text)")
        #expect(connection.profile == .aeadAES256GCM)
        #expect(output.keyingMaterial == Self.expectedExport(connection, weAreClient: true))
    }
}
