/// Transport protocol of a candidate (mediasoup `TransportProtocol`).
public enum TransportProtocol: String, Codable, Sendable, Hashable, CaseIterable {
    case udp
    case tcp
}

/// Candidate type; an ICE-lite server only has host candidates (mediasoup `IceCandidateType`).
public enum IceCandidateType: String, Codable, Sendable, Hashable, CaseIterable {
    case host
}

/// TCP candidate type (RFC 6544); the server is always passive (mediasoup `IceCandidateTcpType`).
public enum IceCandidateTcpType: String, Codable, Sendable, Hashable, CaseIterable {
    case passive
}

/// A local ICE candidate of a WebRTC transport (mediasoup `IceCandidate`).
///
/// mediasoup ≥ 3.13 sends the address twice, as `address` and as the deprecated `ip`; both are
/// kept. Decoding accepts a candidate that carries only `ip` (older servers) and fills `address`
/// from it; a candidate with only `address` keeps `ip` absent.
public struct IceCandidate: Codable, Sendable, Hashable {
    /// Candidate foundation (RFC 8445 §5.1.1.3).
    public var foundation: String
    /// Candidate priority (RFC 8445 §5.1.2).
    public var priority: UInt32
    /// Deprecated alias of ``address``.
    public var ip: String?
    /// IP address or hostname to connect to.
    public var address: String
    /// `udp` or `tcp`.
    public var `protocol`: TransportProtocol
    /// Port.
    public var port: UInt16
    /// Always `host`.
    public var type: IceCandidateType
    /// For TCP candidates: `passive`.
    public var tcpType: IceCandidateTcpType?

    /// Creates a candidate with `ip` set to `address`, as mediasoup ≥ 3.13 sends both
    /// (set ``ip`` to `nil` afterwards to leave the deprecated key out).
    public init(
        foundation: String,
        priority: UInt32,
        address: String,
        protocol: TransportProtocol,
        port: UInt16,
        type: IceCandidateType = .host,
        tcpType: IceCandidateTcpType? = nil
    ) {
        self.foundation = foundation
        self.priority = priority
        self.address = address
        self.ip = address
        self.protocol = `protocol`
        self.port = port
        self.type = type
        self.tcpType = tcpType
    }

    private enum CodingKeys: String, CodingKey {
        case foundation, priority, ip, address, `protocol`, port, type, tcpType
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.foundation = try container.decode(String.self, forKey: .foundation)
        self.priority = try container.decode(UInt32.self, forKey: .priority)
        self.ip = try container.decodeIfPresent(String.self, forKey: .ip)
        if let address = try container.decodeIfPresent(String.self, forKey: .address) {
            self.address = address
        } else if let ip = self.ip {
            self.address = ip
        } else {
            throw DecodingError.keyNotFound(
                CodingKeys.address,
                .init(codingPath: container.codingPath, debugDescription: "candidate has neither address nor ip")
            )
        }
        self.protocol = try container.decode(TransportProtocol.self, forKey: .protocol)
        self.port = try container.decode(UInt16.self, forKey: .port)
        self.type = try container.decode(IceCandidateType.self, forKey: .type)
        self.tcpType = try container.decodeIfPresent(IceCandidateTcpType.self, forKey: .tcpType)
    }
}
