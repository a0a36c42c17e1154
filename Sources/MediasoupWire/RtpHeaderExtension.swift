/// The direction in which an RTP header extension may be used, seen from the router.
public enum RtpHeaderExtensionDirection: String, Codable, Sendable, Hashable, CaseIterable {
    case sendrecv
    case sendonly
    case recvonly
    case inactive
}

/// An RTP header extension a router or endpoint supports: the capability form
/// (mediasoup `RtpHeaderExtension`), as opposed to ``RtpHeaderExtensionParameters``.
public struct RtpHeaderExtension: Codable, Sendable, Hashable {
    /// Media kind this extension applies to.
    public var kind: MediaKind
    /// The extension URI (`urn:ietf:params:rtp-hdrext:sdes:mid`, …).
    public var uri: String
    /// Preferred RFC 8285 id.
    public var preferredId: Int
    /// Whether the extension should be encrypted (RFC 6904); validation defaults it to `false`.
    public var preferredEncrypt: Bool?
    /// Direction; validation defaults it to `sendrecv`.
    public var direction: RtpHeaderExtensionDirection?

    public init(
        kind: MediaKind,
        uri: String,
        preferredId: Int,
        preferredEncrypt: Bool? = nil,
        direction: RtpHeaderExtensionDirection? = nil
    ) {
        self.kind = kind
        self.uri = uri
        self.preferredId = preferredId
        self.preferredEncrypt = preferredEncrypt
        self.direction = direction
    }
}
