import NIOCore
import SFU
import STUN

/// The worker's ``DatagramSink`` over its UDP channel, built so the fan-out allocates nothing
/// per packet.
///
/// Outgoing datagrams are written back to back into one large *arena* buffer, each recorded as
/// (offset, length, destination). On ``flush()`` (end of a read burst, a tick or a control call)
/// every record becomes a slice of the arena: a slice shares the arena's storage (a retain, no
/// malloc), so NIO's pending-write queue and `sendmmsg` see N datagrams backed by one allocation;
/// then a fresh arena is started (the old one lives until NIO has written its slices). Writing
/// into the arena only while no slice of it exists keeps ByteBuffer's copy-on-write from ever
/// copying it. Destinations are cached as `SocketAddress` per tuple (learnt when the tuple first
/// sends to us), so no address is built per packet.
///
/// Confined to the worker's event loop.
final class ChannelDatagramSink: DatagramSink {
    private struct Record {
        var offset: Int
        var length: Int
        var destination: SocketAddress
    }

    /// Bytes per arena: ~2,500 forwarded Opus packets per allocation.
    static let arenaSize = 256 * 1024

    private let allocator: ByteBufferAllocator
    private var arena: ByteBuffer
    private var records: [Record] = []
    private var addresses: [TransportAddress: SocketAddress] = [:]
    /// Set once the channel is bound (handlerAdded).
    var context: ChannelHandlerContext?
    /// Datagrams handed to NIO, for the bench and stats.
    private(set) var datagramsWritten: UInt64 = 0
    /// Arenas allocated (one per flush with traffic, or when one fills up).
    private(set) var arenasAllocated: UInt64 = 0

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.arena = allocator.buffer(capacity: Self.arenaSize)
    }

    /// Remembers the `SocketAddress` of a tuple that sent us something.
    @inline(__always)
    func learn(_ tuple: TransportAddress, _ address: SocketAddress) {
        if addresses[tuple] == nil { addresses[tuple] = address }
    }

    func forget(_ tuple: TransportAddress) {
        addresses[tuple] = nil
    }

    func send(to destination: TransportAddress, capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        let address: SocketAddress
        if let known = addresses[destination] {
            address = known
        } else {
            address = destination.socketAddress
            addresses[destination] = address
        }
        if arena.writableBytes < capacity {
            writeRecords()
            arena = allocator.buffer(capacity: max(Self.arenaSize, capacity))
            arenasAllocated &+= 1
        }
        let offset = arena.writerIndex
        let written = arena.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
            write(UnsafeMutableRawBufferPointer(rebasing: raw[0..<capacity]))
        }
        guard written > 0 else { return }
        records.append(Record(offset: offset, length: written, destination: address))
    }

    /// Hands every recorded datagram to NIO and flushes the socket.
    func flush() {
        guard !records.isEmpty else { return }
        writeRecords()
        // The slices keep the old arena alive until written; continue in a fresh one.
        arena = allocator.buffer(capacity: Self.arenaSize)
        arenasAllocated &+= 1
        context?.flush()
    }

    private func writeRecords() {
        guard let context else {
            records.removeAll(keepingCapacity: true)
            return
        }
        for record in records {
            let slice = arena.getSlice(at: record.offset, length: record.length)!
            context.write(NIOAny(AddressedEnvelope(remoteAddress: record.destination, data: slice)), promise: nil)
        }
        datagramsWritten &+= UInt64(records.count)
        records.removeAll(keepingCapacity: true)
    }
}
