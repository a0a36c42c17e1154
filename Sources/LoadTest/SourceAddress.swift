#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The local address the kernel would send from toward a host: a UDP socket is connected (no
/// packet leaves: UDP connect only picks the route) and asked its name. The Janus target puts
/// this address in its SDP candidates, so Janus (ICE-lite, which never sends checks of its own)
/// sees the same address in the SDP as in our checks.
enum SourceAddress {
    static func toward(host: String) -> String? {
        guard let remote = try? SocketAddress.makeAddressResolvingHost(host, port: 9), let ip = remote.ipAddress else { return nil }
        let inet6 = remote.protocol == .inet6
        let fd = socket(inet6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var storage = sockaddr_storage()
        var length: socklen_t
        if inet6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(9).bigEndian
            guard inet_pton(AF_INET6, ip, &address.sin6_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in6.self) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(9).bigEndian
            guard inet_pton(AF_INET, ip, &address.sin_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in.self) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let connected = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        guard connected == 0 else { return nil }
        var local = sockaddr_storage()
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { return nil }
        let capacity = Int(INET6_ADDRSTRLEN) + 1
        var text = [CChar](repeating: 0, count: capacity)
        let written: UnsafePointer<CChar>? = withUnsafePointer(to: &local) { pointer in
            if inet6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var raw = address.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &raw, &text, socklen_t(capacity))
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                var raw = address.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(capacity))
            }
        }
        guard written != nil else { return nil }
        return String(cString: text)
    }
}
