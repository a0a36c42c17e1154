/// The ICE credentials of a WebRTC transport (mediasoup `IceParameters`).
public struct IceParameters: Codable, Sendable, Hashable {
    /// ICE ufrag (RFC 8445 §5.3).
    public var usernameFragment: String
    /// ICE password.
    public var password: String
    /// Whether the endpoint is ICE-lite (RFC 8445 §2.5); the SFU always is.
    public var iceLite: Bool?

    public init(usernameFragment: String, password: String, iceLite: Bool? = nil) {
        self.usernameFragment = usernameFragment
        self.password = password
        self.iceLite = iceLite
    }
}
