import NIOCore
import STUN

/// Which ICE-TCP connections a worker accepts, and when an idle one is closed (sans-I/O; the
/// NIO shell asks it on accept and tells it on close).
///
/// Every accepted connection costs a socket and a buffer before the peer proved anything, so
/// (style: bound every count) the total per worker and the number per source IP are capped,
/// and a connection whose first valid ICE check has not arrived within ``handshakeTimeout``
/// is closed (RFC 6544 does not say how long; browsers send their first check at once).
package struct ICETCPAdmission: Sendable {
    package struct Limits: Sendable, Hashable {
        /// Connections per worker.
        package var maxConnections: Int = 1_024
        /// Connections per source IP address (a NAT may hide a few browsers, each with a
        /// send and a receive transport).
        package var maxConnectionsPerAddress: Int = 16
        /// Time for a connection to pass an ICE check.
        package var handshakeTimeout = TimeAmount.seconds(5)

        package init() {}
    }

    package let limits: Limits
    package private(set) var connectionCount = 0
    private var perAddress: [TransportAddress: Int] = [:]

    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The per-address key: the IP alone (port 0, TCP).
    private static func key(_ source: TransportAddress) -> TransportAddress {
        TransportAddress(addressBytes: source.addressBytes, port: 0)?.with(tcp: true) ?? source
    }

    /// A connection from `source` was accepted by the kernel: true to keep it (and count it),
    /// false to close it at once (``DropReason/tcpConnectionLimit``).
    package mutating func admit(_ source: TransportAddress) -> Bool {
        let key = Self.key(source)
        let fromAddress = perAddress[key] ?? 0
        guard connectionCount < limits.maxConnections, fromAddress < limits.maxConnectionsPerAddress else { return false }
        connectionCount += 1
        perAddress[key] = fromAddress + 1
        return true
    }

    /// An admitted connection closed.
    package mutating func release(_ source: TransportAddress) {
        let key = Self.key(source)
        guard let fromAddress = perAddress[key], connectionCount > 0 else { return }
        connectionCount -= 1
        perAddress[key] = fromAddress > 1 ? fromAddress - 1 : nil
    }
}
