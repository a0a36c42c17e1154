import DTLS
import Logging
import NIOCore
import NIOPosix
import SFU

/// One media worker (mediasoup's Worker + WebRtcServer): one event loop and one UDP socket shared
/// by every transport of its routers. Everything on the packet path runs on `eventLoop`, without
/// locks; other threads reach the core only through `eventLoop.submit` (style.md §2, threading).
final class MediaWorker: @unchecked Sendable, DatagramSink {
    // @unchecked: `channel`, `core` and the counters are touched only on `eventLoop`.
    let index: Int
    let eventLoop: any EventLoop
    let logger: Logger
    var channel: (any Channel)?
    var core: WorkerCore!
    var published = PublishedCounters()

    struct PublishedCounters {
        var packetsIn = 0
        var packetsOut = 0
        var drops: [DropReason: Int] = [:]
    }

    init(index: Int, eventLoop: any EventLoop, logger: Logger) {
        self.index = index
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Binds the UDP port and creates the core (certificate generated once per worker).
    func bind(host: String, port: Int, announced: String) async throws {
        let certificate = try DTLSCertificate()
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.maxMessagesPerRead, value: 64)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(WorkerHandler(worker: self)) }
            }
            .bind(host: host, port: port).get()
        try await eventLoop.submit {
            self.channel = channel
            self.core = WorkerCore(certificate: certificate, announcedAddress: announced, port: port, sink: self)
        }.get()
    }

    // MARK: - DatagramSink (on the loop)

    func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress) {
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    func flush() { channel?.flush() }

    static func nowMs() -> UInt64 { NIODeadline.now().uptimeNanoseconds / 1_000_000 }

    /// Runs `body` on the worker's loop with its core, then flushes what it wrote.
    func run<T: Sendable>(_ body: @escaping @Sendable (WorkerCore) throws -> T) async throws -> T {
        try await eventLoop.submit {
            defer { self.flush() }
            return try body(self.core)
        }.get()
    }
}

/// The UDP handler: each datagram into the core; one flush per read burst (style.md R9).
final class WorkerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let worker: MediaWorker

    init(worker: MediaWorker) { self.worker = worker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var buffer = envelope.data
        let now = MediaWorker.nowMs()
        buffer.withUnsafeMutableReadableBytes { bytes in
            worker.core.received(bytes, from: envelope.remoteAddress, now: now)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and friends surface here for UDP: never fatal.
        worker.logger.debug("media socket error", metadata: ["error": "\(error)"])
    }
}
