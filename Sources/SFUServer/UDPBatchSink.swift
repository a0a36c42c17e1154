import CUDPBatch
import NIOCore
import SFU
import STUN

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The worker's ``DatagramSink``: outgoing datagrams are written back to back into one
/// preallocated arena and handed to the kernel with `sendmmsg(2)`, up to 1,024 per call, at the
/// end of each read burst, tick or control call (style R9: write per read, flush once).
///
/// Why not NIO's datagram writes: a fan-out writes thousands of datagrams per received packet,
/// and NIO's path costs per datagram an `AddressedEnvelope` in an `NIOAny`, a `SocketAddress`, a
/// pending-write record with its bookkeeping and a ByteBuffer slice (retain/release); measured in
/// `msab-bench`, that was more user-space CPU than the SFU's own rewrite + SRTP. Here a datagram
/// costs a copy into the arena (the rewrite and SRTP work in place there) and one record with its
/// `sockaddr`; `sendmmsg` copies the bytes into the kernel, so the arena is reused at once.
///
/// The socket is NIO's (it reads it and closes it); only this sink writes to it. Writes never
/// block (MSG_DONTWAIT): a datagram the kernel refuses is dropped and counted
/// (``DropReason/sendBufferFull``, ``DropReason/sendFailed``), never queued.
///
/// Confined to the worker's event loop.
final class UDPBatchSink: DatagramSink {
    /// One datagram waiting in the arena.
    private struct Pending {
        var offset: Int
        var length: Int
        /// Room for either family; `addressLength` says which.
        var address = msab_sockaddr_in6_zero()
        var addressLength: socklen_t = 0
    }

    /// Bytes of the arena: ~8,000 forwarded Opus packets (a fan-out to 8,000 listeners) before
    /// an early flush.
    static let arenaSize = 1 << 20
    /// Datagrams per `sendmmsg` (Linux UIO_MAXIOV).
    static let batchSize = 1024

    /// Datagrams waiting at most (then an early flush).
    static let pendingCapacity = 8192

    /// The worker's socket, once bound (before that, datagrams are counted as ``DropReason/sendFailed``).
    var fd: Int32 = -1
    /// Counts a refused datagram (the worker's drop counters).
    var dropped: (DropReason) -> Void = { _ in }
    /// Packets for TCP tuples (ICE-TCP) go framed onto their connection instead.
    let tcp = ICETCPConnections()
    private let arena: UnsafeMutableRawBufferPointer
    private var used = 0
    private let pending: UnsafeMutablePointer<Pending>
    private var pendingCount = 0
    private let headers: UnsafeMutablePointer<msab_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    /// Datagrams the kernel took, for stats and the bench.
    private(set) var datagramsWritten: UInt64 = 0
    /// `sendmmsg` calls.
    private(set) var sendCalls: UInt64 = 0

    init() {
        arena = .allocate(byteCount: Self.arenaSize, alignment: 16)
        pending = .allocate(capacity: Self.pendingCapacity)
        headers = .allocate(capacity: Self.batchSize)
        vectors = .allocate(capacity: Self.batchSize)
    }

    deinit {
        arena.deallocate()
        pending.deallocate()
        headers.deallocate()
        vectors.deallocate()
    }

    func send(to destination: TransportAddress, capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        if destination.isTCP { return tcp.send(to: destination, capacity: capacity, write) }
        guard capacity <= Self.arenaSize else { return dropped(.sendFailed) }
        if Self.arenaSize - used < capacity || pendingCount == Self.pendingCapacity { flush() }
        let written = write(UnsafeMutableRawBufferPointer(rebasing: arena[used..<(used + capacity)]))
        guard written > 0 else { return }
        let entry = pending + pendingCount
        entry.initialize(to: Pending(offset: used, length: min(written, capacity)))
        entry.pointee.addressLength = Self.fill(&entry.pointee.address, from: destination)
        pendingCount += 1
        used += entry.pointee.length
    }

    /// Hands every waiting datagram to the kernel.
    func flush() {
        tcp.flush()
        guard pendingCount > 0 else { return }
        defer {
            pending.deinitialize(count: pendingCount)
            pendingCount = 0
            used = 0
        }
        guard fd >= 0 else {
            for _ in 0..<pendingCount { dropped(.sendFailed) }
            return
        }
        var start = 0
        while start < pendingCount {
            let count = min(Self.batchSize, pendingCount - start)
            sendBatch(from: start, count: count)
            start += count
        }
    }

    /// Sends `pending[start ..< start + count]`: each datagram is sent or counted as dropped.
    private func sendBatch(from start: Int, count: Int) {
        let addressOffset = MemoryLayout<Pending>.offset(of: \.address)!
        for index in 0..<count {
            let entry = pending + start + index
            vectors[index] = iovec(iov_base: arena.baseAddress! + entry.pointee.offset, iov_len: entry.pointee.length)
            headers[index] = msab_mmsghdr()
            headers[index].msg_hdr.msg_name = UnsafeMutableRawPointer(entry) + addressOffset
            headers[index].msg_hdr.msg_namelen = entry.pointee.addressLength
            headers[index].msg_hdr.msg_iov = vectors + index
            headers[index].msg_hdr.msg_iovlen = 1
        }
        var done = 0
        while done < count {
            sendCalls &+= 1
            let result = msab_sendmmsg(fd, headers + done, UInt32(count - done))
            if result > 0 {
                done += Int(result)
                datagramsWritten &+= UInt64(result)
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK, ENOBUFS:
                // The send buffer is full: the rest of this batch would only arrive late.
                for _ in done..<count { dropped(.sendBufferFull) }
                return
            default:
                // sendmmsg reports an error only for the first datagram of the call: skip it.
                dropped(.sendFailed)
                done += 1
            }
        }
    }

    /// Writes `address` as a `sockaddr_in` or `sockaddr_in6` into `storage`; returns its length.
    @inline(__always)
    private static func fill(_ storage: inout sockaddr_in6, from address: TransportAddress) -> socklen_t {
        if let ipv4 = address.ipv4 {
            return msab_fill_sockaddr(&storage, 1, ipv4, 0, 0, address.port)
        }
        let (high, low) = address.ipv6 ?? (0, 0)
        return msab_fill_sockaddr(&storage, 0, 0, high, low, address.port)
    }
}
