// Test support shared by several test targets (not part of the product).
#if canImport(Glibc)
import Glibc
#endif

/// A socket of `type` (`SOCK_DGRAM`, `SOCK_STREAM`) bound to 127.0.0.1 on a port the kernel chose:
/// its descriptor (the caller closes it) and that port; nil when the socket cannot be made or bound.
public func bindLoopback(_ type: Int32) -> (descriptor: Int32, port: UInt16)? {
    let fd = socket(AF_INET, type, 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard bound == 0, named == 0 else {
        close(fd)
        return nil
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}
