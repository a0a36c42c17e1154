// Codable mirrors of mediasoup's WebRtcTransport types (node/src/WebRtcTransportTypes.ts).

public struct IceParameters: Codable, Sendable, Hashable {
    public var usernameFragment: String
    public var password: String
    public var iceLite: Bool?

    public init(usernameFragment: String, password: String, iceLite: Bool? = true) {
        self.usernameFragment = usernameFragment
        self.password = password
        self.iceLite = iceLite
    }
}

public struct IceCandidate: Codable, Sendable, Hashable {
    public var foundation: String
    public var priority: Int
    /// mediasoup ≥ 3.13 sends `address`, and still `ip` for older clients: we send both.
    public var address: String
    public var ip: String?
    public var `protocol`: String
    public var port: Int
    public var type: String
    public var tcpType: String?

    public init(foundation: String, priority: Int, address: String, protocol: String, port: Int, type: String = "host", tcpType: String? = nil) {
        self.foundation = foundation
        self.priority = priority
        self.address = address
        self.ip = address
        self.protocol = `protocol`
        self.port = port
        self.type = type
        self.tcpType = tcpType
    }
}

public enum DtlsRole: String, Codable, Sendable, Hashable {
    case auto, client, server
}

public struct DtlsFingerprint: Codable, Sendable, Hashable {
    public var algorithm: String
    public var value: String

    public init(algorithm: String, value: String) {
        self.algorithm = algorithm
        self.value = value
    }
}

public struct DtlsParameters: Codable, Sendable, Hashable {
    public var role: DtlsRole?
    public var fingerprints: [DtlsFingerprint]

    public init(role: DtlsRole? = nil, fingerprints: [DtlsFingerprint]) {
        self.role = role
        self.fingerprints = fingerprints
    }
}
