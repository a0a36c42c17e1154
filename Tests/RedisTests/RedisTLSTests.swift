import Foundation
import NIOCore
import NIOSSL
import Redis
import RedisTesting
import Testing

/// TLS against redis-server's own TLS port (the Debian build links OpenSSL), with a private CA.
@Suite(
    .enabled(if: RedisServerProcess.isAvailable && TestCertificates.openssl != nil, "redis-server or the openssl tool is not installed"),
    .timeLimit(.minutes(1)))
struct RedisTLSTests {
    static func configuration(host: String, port: Int, trusting certificates: TestCertificates?) throws -> RedisConfiguration {
        var configuration = RedisConfiguration.local(port)
        configuration.host = host
        configuration.tls = true
        if let certificates {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificates.caCertificate))
            configuration.tlsConfiguration = tls
        }
        return configuration
    }

    @Test func verifiedTLSByNameAndByAddress() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        // By name: SNI and the DNS SAN; by address: the IP SAN.
        for host in ["localhost", "127.0.0.1"] {
            try await withClient(try Self.configuration(host: host, port: server.port, trusting: certificates)) { client async throws in
                #expect(try await client.send("SET", "k", .bytes(Array(0...255))) == .simpleString("OK"))
                #expect(try await client.send("GET", "k").bytes == ByteBuffer(bytes: Array(0...255)))
            }
        }
        let subscriberConfiguration = try Self.configuration(host: "localhost", port: server.port, trusting: certificates)
        try await withClient(subscriberConfiguration) { client async throws in
            try await withSubscriber(subscriberConfiguration) { subscriber, collector async throws in
                await subscriber.subscribe(["tls"])
                #expect(await eventually { subscriber.isConnected })
                #expect(try await client.send("PUBLISH", "tls", "secure") == .integer(1))
                #expect(await collector.waitFor(count: 1)?.first?.payload == ByteBuffer(string: "secure"))
            }
        }
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        // The system trust store does not know the private CA: verification is on, so no connection.
        try await withClient(try Self.configuration(host: "localhost", port: server.port, trusting: nil), waitForConnection: false) {
            client async throws in
            try await Task.sleep(for: .milliseconds(500))
            #expect(!client.isConnected)
            await #expect(throws: RedisError.notConnected) { try await client.send("PING") }
        }
    }
}
