public import NIOCore

extension TransportAddress {
    /// The address of an IPv4 or IPv6 `SocketAddress`; nil for a Unix domain socket.
    ///
    /// Reads the sockaddr bytes directly (no string formatting): port at offset 2 and the IPv4
    /// address at 4 in `sockaddr_in`, the IPv6 address at 8 in `sockaddr_in6`, identical on Linux
    /// and the BSDs (which put `sin_len` + a 1-byte family where Linux has a 2-byte family).
    @inlinable
    public init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let v4):
            let (ip, port) = withUnsafeBytes(of: v4.address) { raw in
                (
                    UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
                    UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                )
            }
            self.init(ipv4: ip, port: port)
        case .v6(let v6):
            let (high, low, port) = withUnsafeBytes(of: v6.address) { raw in
                (
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                    UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                )
            }
            self.init(ipv6High: high, low: low, port: port)
        case .unixDomainSocket:
            return nil
        }
    }

    /// The equivalent NIO `SocketAddress` (to send a datagram to). Allocates a little: callers on
    /// the packet path should cache it per tuple.
    public var socketAddress: SocketAddress {
        do {
            return try SocketAddress(packedIPAddress: ByteBuffer(bytes: addressBytes), port: Int(port))
        } catch {
            // Only reachable if addressBytes were not 4 or 16 bytes long, which the type rules out.
            preconditionFailure("TransportAddress \(self) has no packed form: \(error)")
        }
    }
}
