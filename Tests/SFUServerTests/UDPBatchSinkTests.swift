import NIOCore
import SFU
import STUN
import Testing

@testable import SFUServer

#if canImport(Glibc)
import Glibc
#endif

/// The worker's sendmmsg sink against real sockets on the loopback interface.
@Suite struct UDPBatchSinkTests {
    /// A bound receiving socket (non-blocking) with a large buffer where allowed.
    final class Receiver {
        let fd: Int32
        let address: TransportAddress

        init(ipv6: Bool = false) throws {
            let bind = ipv6 ? try SocketAddress(ipAddress: "::1", port: 0) : try SocketAddress(ipAddress: "127.0.0.1", port: 0)
            let socket = try MediaWorker.makeSocket(bind)
            fd = socket
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
            // Bytes 2–3 of sockaddr_in and sockaddr_in6 are the port, in network order.
            let port = withUnsafeBytes(of: storage) { UInt16($0[2]) << 8 | UInt16($0[3]) }
            address = ipv6 ? TransportAddress(ipv6High: 0, low: 1, port: port) : TransportAddress(ipv4: 127, 0, 0, 1, port: port)
        }

        deinit { close(fd) }

        /// Every datagram waiting now.
        func drain() -> [[UInt8]] {
            var received: [[UInt8]] = []
            var buffer = [UInt8](repeating: 0, count: 2048)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard count > 0 else { return received }
                received.append(Array(buffer[0..<count]))
            }
        }
    }

    final class Drops {
        var counts: [DropReason: Int] = [:]
    }

    func makeSink(sendingFrom family: String = "127.0.0.1") throws -> (UDPBatchSink, Int32, Drops) {
        let sink = UDPBatchSink()
        let fd = try MediaWorker.makeSocket(SocketAddress(ipAddress: family, port: 0))
        sink.fd = fd
        let drops = Drops()
        sink.dropped = { drops.counts[$0, default: 0] += 1 }
        return (sink, fd, drops)
    }

    func datagram(_ index: Int, length: Int = 100) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
    }

    @Test func datagramsArriveByteExactInOrder() throws {
        let receiver = try Receiver()
        let (sink, fd, drops) = try makeSink()
        defer { close(fd) }
        for index in 0..<10 {
            let bytes = datagram(index, length: 20 + index)
            sink.send(ByteBuffer(bytes: bytes), to: receiver.address)
        }
        #expect(receiver.drain().isEmpty)  // nothing leaves before the flush
        sink.flush()
        let received = receiver.drain()
        #expect(received == (0..<10).map { datagram($0, length: 20 + $0) })
        #expect(sink.datagramsWritten == 10)
        #expect(sink.sendCalls == 1)
        #expect(drops.counts.isEmpty)
    }

    @Test func aBurstLargerThanOneCallIsSplitIntoBatchesOf1024() throws {
        let receiver = try Receiver()
        let (sink, fd, drops) = try makeSink()
        defer { close(fd) }
        var received: [[UInt8]] = []
        let total = 2_500
        for index in 0..<total {
            sink.send(ByteBuffer(bytes: datagram(index, length: 16)), to: receiver.address)
        }
        sink.flush()
        received += receiver.drain()
        #expect(sink.datagramsWritten == UInt64(total))
        #expect(sink.sendCalls == 3)
        #expect(drops.counts.isEmpty)
        // The receiving buffer may hold fewer than all of them where it cannot be enlarged;
        // what arrived is in order and intact.
        #expect(!received.isEmpty)
        for (position, bytes) in received.enumerated() where position < 100 {
            #expect(bytes == datagram(position, length: 16))
        }
    }

    @Test func ipv6DestinationsWorkOnAnIPv6Socket() throws {
        let receiver = try Receiver(ipv6: true)
        let (sink, fd, drops) = try makeSink(sendingFrom: "::1")
        defer { close(fd) }
        sink.send(ByteBuffer(bytes: datagram(1)), to: receiver.address)
        sink.flush()
        #expect(receiver.drain() == [datagram(1)])
        #expect(drops.counts.isEmpty)
    }

    @Test func aDatagramTheKernelRefusesIsCountedAndTheRestStillLeave() throws {
        let receiver = try Receiver()
        let (sink, fd, drops) = try makeSink()
        defer { close(fd) }
        sink.send(ByteBuffer(bytes: datagram(0)), to: receiver.address)
        // An IPv6 destination on an IPv4 socket: the kernel refuses that one datagram.
        sink.send(ByteBuffer(bytes: datagram(1)), to: TransportAddress(ipv6High: 0, low: 1, port: receiver.address.port))
        sink.send(ByteBuffer(bytes: datagram(2)), to: receiver.address)
        sink.flush()
        #expect(receiver.drain() == [datagram(0), datagram(2)])
        #expect(drops.counts == [.sendFailed: 1])
        #expect(sink.datagramsWritten == 2)
    }

    @Test func beforeTheSocketIsBoundDatagramsAreCountedNotSent() {
        let sink = UDPBatchSink()
        let drops = Drops()
        sink.dropped = { drops.counts[$0, default: 0] += 1 }
        sink.send(ByteBuffer(bytes: datagram(0)), to: TransportAddress(ipv4: 127, 0, 0, 1, port: 9))
        sink.flush()
        #expect(drops.counts == [.sendFailed: 1])
        #expect(sink.datagramsWritten == 0)
    }

    @Test func aFullArenaIsFlushedEarlyAndNothingIsLost() throws {
        let receiver = try Receiver()
        let (sink, fd, drops) = try makeSink()
        defer { close(fd) }
        // 1,100 datagrams of 1,000 bytes do not fit the 1 MiB arena at once.
        let total = 1_100
        var received: [[UInt8]] = []
        for index in 0..<total {
            sink.send(ByteBuffer(bytes: datagram(index, length: 1_000)), to: receiver.address)
            if index % 50 == 0 { received += receiver.drain() }
        }
        sink.flush()
        received += receiver.drain()
        #expect(sink.datagramsWritten == UInt64(total))
        #expect(sink.sendCalls >= 2)
        #expect(drops.counts.isEmpty)
        for (position, bytes) in received.prefix(50).enumerated() {
            #expect(bytes == datagram(position, length: 1_000))
        }
    }
}
