public import NIOCore

/// An IP address and port, the media plane's 5-tuple key (the local side is always the worker's
/// one socket, so the remote address and port identify a tuple). Hashable without allocation.
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: UInt8, Sendable { case ipv4 = 1, ipv6 = 2 }

    public var family: Family
    /// Network order; IPv4 uses the first 4 bytes.
    public var high: UInt64
    public var low: UInt64
    public var port: UInt16

    public init(ipv4 bytes: (UInt8, UInt8, UInt8, UInt8), port: UInt16) {
        family = .ipv4
        high = UInt64(bytes.0) << 24 | UInt64(bytes.1) << 16 | UInt64(bytes.2) << 8 | UInt64(bytes.3)
        low = 0
        self.port = port
    }

    public init(ipv6 high: UInt64, _ low: UInt64, port: UInt16) {
        family = .ipv6
        self.high = high
        self.low = low
        self.port = port
    }

    public init?(_ address: SocketAddress) {
        // Read sockaddr_in / sockaddr_in6 as bytes (family 2, port 2 in network order, then the
        // address): no String formatting on the packet path.
        switch address {
        case .v4(let v4):
            let raw = withUnsafeBytes(of: v4.address) { Array($0.prefix(8)) }
            self.init(ipv4: (raw[4], raw[5], raw[6], raw[7]), port: UInt16(raw[2]) << 8 | UInt16(raw[3]))
        case .v6(let v6):
            let raw = withUnsafeBytes(of: v6.address) { Array($0.prefix(24)) }
            var hi: UInt64 = 0, lo: UInt64 = 0
            for i in 8..<16 { hi = hi << 8 | UInt64(raw[i]) }
            for i in 16..<24 { lo = lo << 8 | UInt64(raw[i]) }
            self.init(ipv6: hi, lo, port: UInt16(raw[2]) << 8 | UInt16(raw[3]))
        default:
            return nil
        }
    }

    /// The 4 or 16 address bytes, network order.
    public var addressBytes: [UInt8] {
        switch family {
        case .ipv4: return [UInt8(high >> 24 & 0xFF), UInt8(high >> 16 & 0xFF), UInt8(high >> 8 & 0xFF), UInt8(high & 0xFF)]
        case .ipv6: return (0..<8).map { UInt8(high >> (56 - 8 * $0) & 0xFF) } + (0..<8).map { UInt8(low >> (56 - 8 * $0) & 0xFF) }
        }
    }

    public var description: String {
        switch family {
        case .ipv4: return addressBytes.map(String.init).joined(separator: ".") + ":\(port)"
        case .ipv6:
            let b = addressBytes
            let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
            return "[" + groups.joined(separator: ":") + "]:\(port)"
        }
    }

    public func socketAddress() throws -> SocketAddress {
        switch family {
        case .ipv4: return try SocketAddress(ipAddress: addressBytes.map(String.init).joined(separator: "."), port: Int(port))
        case .ipv6:
            let b = addressBytes
            let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
            return try SocketAddress(ipAddress: groups.joined(separator: ":"), port: Int(port))
        }
    }
}
