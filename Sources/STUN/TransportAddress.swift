/// An IP address and port: the media plane's key for a remote transport address (with the one
/// local socket of a worker, it identifies the 5-tuple). 20 bytes of plain values, so it hashes
/// and compares without allocating; XOR-MAPPED-ADDRESS encodes it directly.
///
/// ``isTCP`` is part of the identity: a worker listens on UDP and TCP on one port number (ICE-TCP,
/// RFC 6544), and a TCP connection from 10.0.0.1:5000 is another tuple than UDP datagrams from
/// 10.0.0.1:5000 (the two port spaces are separate, and one must never receive the other's media).
/// STUN's XOR-MAPPED-ADDRESS does not carry it.
public struct TransportAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: UInt8, Sendable, Hashable {
        /// STUN family 0x01.
        case ipv4 = 1
        /// STUN family 0x02.
        case ipv6 = 2
    }

    public let family: Family
    /// Address bytes 0–7 (network order, big-endian); an IPv4 address is in the top 32 bits.
    @usableFromInline let high: UInt64
    /// Address bytes 8–15 (zero for IPv4).
    @usableFromInline let low: UInt64
    public let port: UInt16
    /// The remote end of an accepted TCP connection (RFC 4571 framing), not a UDP source.
    public let isTCP: Bool

    /// An IPv4 address given as a host-order 32-bit value (`0x7F000001` is 127.0.0.1).
    @inlinable
    public init(ipv4: UInt32, port: UInt16) {
        self.family = .ipv4
        self.high = UInt64(ipv4) << 32
        self.low = 0
        self.port = port
        self.isTCP = false
    }

    /// An IPv4 address from its four bytes.
    @inlinable
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.init(ipv4: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d), port: port)
    }

    /// An IPv6 address from its two big-endian halves.
    @inlinable
    public init(ipv6High high: UInt64, low: UInt64, port: UInt16) {
        self.family = .ipv6
        self.high = high
        self.low = low
        self.port = port
        self.isTCP = false
    }

    private init(family: Family, high: UInt64, low: UInt64, port: UInt16, isTCP: Bool) {
        self.family = family
        self.high = high
        self.low = low
        self.port = port
        self.isTCP = isTCP
    }

    /// The same address and port as the remote end of a TCP connection (`tcp: true`) or as a UDP
    /// source (`tcp: false`).
    public func with(tcp: Bool) -> TransportAddress {
        TransportAddress(family: family, high: high, low: low, port: port, isTCP: tcp)
    }

    /// From 4 (IPv4) or 16 (IPv6) address bytes in network order; nil for any other count.
    public init?(addressBytes: some Collection<UInt8>, port: UInt16) {
        switch addressBytes.count {
        case 4:
            self.init(ipv4: addressBytes.reduce(0) { $0 << 8 | UInt32($1) }, port: port)
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for (index, byte) in addressBytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self.init(ipv6High: high, low: low, port: port)
        default:
            return nil
        }
    }

    /// The IPv4 address as a host-order value, nil for IPv6.
    @inlinable
    public var ipv4: UInt32? { family == .ipv4 ? UInt32(truncatingIfNeeded: high >> 32) : nil }

    /// The IPv6 address halves, nil for IPv4.
    @inlinable
    public var ipv6: (high: UInt64, low: UInt64)? { family == .ipv6 ? (high, low) : nil }

    /// The 4 or 16 address bytes in network order.
    public var addressBytes: [UInt8] {
        switch family {
        case .ipv4: (0..<4).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
        case .ipv6: (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// One mixed word per address keeps hashing to a single `combine` (the tuple map is consulted
    /// for every datagram). Equality still compares every field.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(high ^ (low &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(port) << 9 | UInt64(isTCP ? 256 : 0) | UInt64(family.rawValue)))
    }

    /// The IP address alone: dotted quad, or RFC 5952 text for IPv6.
    public var ipAddressDescription: String {
        switch family {
        case .ipv4:
            return addressBytes.map { String($0) }.joined(separator: ".")
        case .ipv6:
            let groups = (0..<8).map { index -> UInt16 in
                UInt16(truncatingIfNeeded: (index < 4 ? high : low) >> (48 - 16 * (index % 4)))
            }
            // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
            if high == 0, low >> 32 == 0xFFFF {
                let v4 = TransportAddress(ipv4: UInt32(truncatingIfNeeded: low), port: 0)
                return "::ffff:" + v4.ipAddressDescription
            }
            // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first on a tie.
            var bestStart = -1
            var bestLength = 1
            var index = 0
            while index < 8 {
                if groups[index] == 0 {
                    var end = index
                    while end < 8 && groups[end] == 0 { end += 1 }
                    if end - index > bestLength {
                        bestStart = index
                        bestLength = end - index
                    }
                    index = end
                } else {
                    index += 1
                }
            }
            let hex = groups.map { String($0, radix: 16) }
            if bestStart < 0 { return hex.joined(separator: ":") }
            let head = hex[0..<bestStart].joined(separator: ":")
            let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
            return head + "::" + tail
        }
    }

    /// `127.0.0.1:5000` or `[::1]:5000`.
    public var description: String {
        switch family {
        case .ipv4: "\(ipAddressDescription):\(port)\(isTCP ? "/tcp" : "")"
        case .ipv6: "[\(ipAddressDescription)]:\(port)\(isTCP ? "/tcp" : "")"
        }
    }
}
