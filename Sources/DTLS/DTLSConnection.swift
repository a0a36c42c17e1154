/// What a completed, verified DTLS-SRTP handshake yields (RFC 5764 §4.2).
public struct DTLSConnection: Hashable, Sendable {
    /// The protection profile the server selected from the client's use_srtp offer.
    public var profile: DTLSSRTPProfile
    /// Master key‖salt for our outbound SRTP session (protect): the client write key/salt if we
    /// are the DTLS client, the server's otherwise.
    public var localKeyingMaterial: [UInt8]
    /// Master key‖salt for our inbound SRTP session (unprotect): the peer's write key/salt.
    public var remoteKeyingMaterial: [UInt8]
    /// The signalled fingerprint the peer's certificate matched.
    public var remoteFingerprint: DTLSFingerprint

    public init(
        profile: DTLSSRTPProfile, localKeyingMaterial: [UInt8], remoteKeyingMaterial: [UInt8], remoteFingerprint: DTLSFingerprint
    ) {
        self.profile = profile
        self.localKeyingMaterial = localKeyingMaterial
        self.remoteKeyingMaterial = remoteKeyingMaterial
        self.remoteFingerprint = remoteFingerprint
    }
}
