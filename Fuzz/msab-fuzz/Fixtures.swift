import DTLS
import ICELite
import MediasoupWire
import NIOCore
import SRTP
import STUN

/// Objects the targets need that do not depend on the input: made once per process, so an
/// iteration costs only the code under test.
enum Fixtures {
    static let icePassword = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"
    static let icePasswordBytes = Array(icePassword.utf8)
    // The literals are valid ICE credentials (ufrag ≥ 4, password ≥ 22 ice-chars): `try!` cannot fire.
    static let iceAgent = try! ICELiteServer(usernameFragment: "fuzzufrag", password: icePassword)
    static let peer = TransportAddress(addressBytes: [127, 0, 0, 1], port: 50_000)!

    static let routerCapabilities: RtpCapabilities =
        (try? ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs))
        ?? RtpCapabilities(codecs: [], headerExtensions: [])

    nonisolated(unsafe) static var srtpSessions: [SRTPProfile: SRTPSession] = [:]

    /// A receive-side session with a fixed key: the input plays a packet protected by anyone.
    static func srtpSession(_ profile: SRTPProfile) -> SRTPSession? {
        if let session = srtpSessions[profile] { return session }
        let keyAndSalt = (0..<profile.keyAndSaltLength).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let session = try? SRTPSession(profile: profile, keyAndSalt: keyAndSalt, direction: .inbound)
        srtpSessions[profile] = session
        return session
    }

    static let certificate = try? DTLSCertificate(commonName: "msab-fuzz")

    static func dtlsServer() -> DTLSEndpoint? {
        guard let certificate else { return nil }
        return try? DTLSEndpoint(role: .server, certificate: certificate)
    }
}
