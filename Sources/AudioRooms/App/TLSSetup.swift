import HummingbirdTLS
import NIOSSL

/// Built-in TLS (`SSL_KEY_PATH` + `SSL_CERT_PATH`, the reference's variables): HTTPS and WSS on
/// `PORT` through Hummingbird's TLS channel (swift-nio-ssl). Everything is loaded and checked at
/// start, so a missing, unreadable or mismatched file stops msab with one line (exit 78) instead of
/// failing each handshake later.
enum TLSSetup {
    static func serverConfiguration(keyPath: String, certificatePath: String) throws(ConfigurationError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigurationError(variable: "SSL_CERT_PATH", problem: "cannot read a PEM certificate from \(certificatePath): \(oneLine(error))")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(variable: "SSL_CERT_PATH", problem: "no PEM certificate in \(certificatePath)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError(variable: "SSL_KEY_PATH", problem: "cannot read a PEM private key from \(keyPath): \(oneLine(error))")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key))
        // Building a context sets the certificate, then the key: BoringSSL refuses a key that is
        // not the certificate's.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(
                variable: "SSL_KEY_PATH",
                problem: "the key in \(keyPath) does not match the certificate in \(certificatePath): \(oneLine(error))")
        }
        return configuration
    }

    static func oneLine(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
