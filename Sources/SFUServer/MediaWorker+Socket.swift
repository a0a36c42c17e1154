import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The raw socket calls NIO does not offer: a UDP socket with forced buffer sizes, made here
/// and handed to NIO (`withBoundSocket`).
extension MediaWorker {
    /// Socket buffers asked for: a fan-out burst to thousands of listeners leaves at once, and
    /// on a real NIC the send buffer is only freed when the driver has sent the datagrams.
    static let sendBufferSize: Int32 = 8 * 1024 * 1024
    static let receiveBufferSize: Int32 = 4 * 1024 * 1024

    /// A non-blocking UDP socket bound to `address`, with large buffers. SO_SNDBUF/SO_RCVBUF are
    /// capped by net.core.wmem_max/rmem_max (208 KiB on a stock kernel, a few hundred Opus
    /// packets), so the FORCE variants (root, or CAP_NET_ADMIN) are tried first.
    static func makeSocket(_ address: SocketAddress) throws -> Int32 {
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw MediaSocketError(operation: "socket", errno: errno) }
        func set(_ option: Int32, _ value: Int32) -> Bool {
            var value = value
            return setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
        }
        _ = set(SO_REUSEADDR, 1)
        if !set(SO_SNDBUFFORCE, sendBufferSize) { _ = set(SO_SNDBUF, sendBufferSize) }
        if !set(SO_RCVBUFFORCE, receiveBufferSize) { _ = set(SO_RCVBUF, receiveBufferSize) }
        let bound = address.withSockAddr { pointer, size in Glibc.bind(fd, pointer, socklen_t(size)) }
        guard bound == 0 else {
            let error = MediaSocketError(operation: "bind \(address)", errno: errno)
            _ = Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// The kernel's size of a socket buffer (it reports twice what was set, for bookkeeping).
    static func socketBufferSize(_ fd: Int32, _ option: Int32) -> Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else { return 0 }
        return Int(value) / 2
    }
}
