import DTLS
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import MediasoupWire
import Metrics
import NIOCore
import NIOPosix
import SFU
import STUN

/// One media worker (mediasoup Worker + WebRtcServer): one NIO event loop and one UDP socket
/// shared by every transport of its routers, around the sans-I/O ``SFUWorker``.
///
/// Everything on the packet path runs on `eventLoop` without locks. Other threads reach the core
/// only through ``run(_:)`` (an `eventLoop.submit` hop, design.md §4). One repeating task per
/// worker drives every timer (``SFUWorker/tick(now:)``) and publishes the counters.
final class MediaWorker: @unchecked Sendable {
    // @unchecked: `core`, `sink`, `channel`, `published` and `routerEvents` are only touched on
    // `eventLoop` (checked with assertInEventLoop in debug builds); the rest is immutable.

    /// The shell's tick period: DTLS retransmissions, consent, RTCP and observers all run off it.
    static let tickInterval: TimeAmount = .milliseconds(20)

    let index: Int
    let eventLoop: any EventLoop
    let logger: Logger
    private let core: SFUWorker
    private let sink: UDPBatchSink
    private var channel: (any Channel)?
    /// The ICE-TCP listener on the same port number (nil when it could not be bound).
    private var tcpChannel: (any Channel)?
    private var tickTask: RepeatedTask?
    /// Router id → its event stream (the room reads it).
    private var routerEvents: [String: AsyncStream<MediaRouterEvent>.Continuation] = [:]
    private var published = SFUCounters()
    private let metrics: WorkerMetrics
    /// Called from the tick with this worker's object counts (MediaServer aggregates them).
    let reportCounts: @Sendable (Int, WorkerObjectCounts) -> Void

    init(
        index: Int, eventLoop: any EventLoop, announcedAddresses: [String], pipeAddress: String? = nil, port: Int, maxConsumersPerTransport: Int = 32,
        logger: Logger,
        reportCounts: @escaping @Sendable (Int, WorkerObjectCounts) -> Void
    ) throws {
        self.index = index
        self.eventLoop = eventLoop
        self.logger = logger
        self.reportCounts = reportCounts
        self.metrics = WorkerMetrics()
        let sink = UDPBatchSink()
        self.sink = sink
        // One certificate per worker, generated once (mediasoup does the same per worker).
        let certificate = try DTLSCertificate(commonName: "msab")
        var settings = SFUWorker.Settings(announcedAddresses: announcedAddresses, port: port)
        settings.maxConsumersPerTransport = maxConsumersPerTransport
        settings.pipeAddress = pipeAddress
        let core = SFUWorker(
            certificate: certificate, sink: sink, settings: settings,
            logger: Logger(label: "msab.sfu.worker"))
        // SR NTP timestamps need wall-clock time; the core only sees the monotonic clock.
        let wallNanoseconds = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        core.wallClockOffset = .nanoseconds(wallNanoseconds - Int64(NIODeadline.now().uptimeNanoseconds))
        self.core = core
        sink.dropped = { [unowned core] reason in core.counters.drop(reason) }
        sink.tcp.dropped = { [unowned core] reason in core.counters.drop(reason) }
    }

    // MARK: - Lifecycle

    /// Binds the worker's UDP port and starts its tick.
    ///
    /// The socket is made here and handed to NIO (`withBoundSocket`): NIO reads it, the
    /// ``UDPBatchSink`` writes it with `sendmmsg`, NIO closes it.
    func bind(host: String, port: Int) async throws {
        let fd = try Self.makeSocket(SocketAddress(ipAddress: host, port: port))
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: eventLoop)
                // recvmmsg: up to 32 datagrams per syscall (style R9).
                .channelOption(.datagramVectorReadMessageCount, value: 32)
                .channelOption(.maxMessagesPerRead, value: 8)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(MediaWorkerHandler(worker: self))
                    }
                }
                .withBoundSocket(fd).get()
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        let sendBuffer = Self.socketBufferSize(fd, SO_SNDBUF)
        if sendBuffer < Int(Self.sendBufferSize) {
            logger.warning(
                "media socket send buffer smaller than asked; raise net.core.wmem_max or give msab CAP_NET_ADMIN, or large fan-outs drop packets (send_buffer_full)",
                metadata: ["sfu.worker": "\(index)", "bytes": "\(sendBuffer)", "asked": "\(Self.sendBufferSize)"])
        }
        let tcpChannel = await bindTCP(host: host, port: port)
        try await eventLoop.submit {
            self.channel = channel
            self.tcpChannel = tcpChannel
            self.core.settings.offersTCP = tcpChannel != nil
            self.sink.fd = fd
            self.tickTask = self.eventLoop.scheduleRepeatedTask(initialDelay: Self.tickInterval, delay: Self.tickInterval) { _ in
                self.tick()
            }
        }.get()
    }

    /// The ICE-TCP listener (RFC 6544 passive candidates) on the UDP socket's port number, its
    /// connections on the worker's own loop so that the core stays single-threaded. A port
    /// taken on TCP is not fatal: the worker then offers UDP candidates only.
    private func bindTCP(host: String, port: Int) async -> (any Channel)? {
        let handshakeTimeout = core.settings.tcpLimits.handshakeTimeout
        do {
            return try await ServerBootstrap(group: eventLoop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 128)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // The outbound backlog of one connection: ~100 Opus packets; over it packets
                // are dropped (ICETCPConnectionHandler.enqueue), not queued.
                .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ICETCPConnectionHandler(worker: self, handshakeTimeout: handshakeTimeout))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            logger.warning(
                "media worker could not listen on TCP; offering UDP candidates only",
                metadata: ["sfu.worker": "\(index)", "sfu.port": "\(port)", "error": "\(error)"])
            return nil
        }
    }

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

    /// Closes every router (no events), stops the tick and closes the socket.
    func shutdown() async {
        try? await eventLoop.submit {
            self.tickTask?.cancel()
            self.tickTask = nil
            for router in Array(self.core.routers.values) { router.close() }
            self.sink.flush()
            self.sink.tcp.closeAll()
            for continuation in self.routerEvents.values { continuation.finish() }
            self.routerEvents = [:]
        }.get()
        try? await tcpChannel?.close()
        try? await channel?.close()
    }

    // MARK: - Control (any thread)

    /// Runs `body` on the worker's loop with its core; afterwards flushes what it sent and routes
    /// the events it produced.
    func run<T: Sendable>(_ body: @escaping @Sendable (SFUWorker, NIODeadline) throws -> T) async throws -> T {
        try await eventLoop.submit {
            defer { self.afterWork() }
            return try body(self.core, .now())
        }.get()
    }

    /// Registers the event stream of a router created on this worker.
    func attach(routerId: String, continuation: AsyncStream<MediaRouterEvent>.Continuation) {
        eventLoop.assertInEventLoop()
        routerEvents[routerId] = continuation
    }

    /// The router closed: finish its stream.
    func detach(routerId: String) {
        eventLoop.assertInEventLoop()
        routerEvents.removeValue(forKey: routerId)?.finish()
    }

    // MARK: - Loop-confined

    /// A datagram from the socket.
    @inline(__always)
    func received(_ envelope: AddressedEnvelope<ByteBuffer>, now: NIODeadline) {
        guard let source = TransportAddress(envelope.remoteAddress) else { return }
        var datagram = envelope.data
        core.handleDatagram(&datagram, from: source, now: now)
    }

    /// A TCP connection was accepted: false (and counted) when over the limits.
    func tcpOpened(_ tuple: TransportAddress, handler: ICETCPConnectionHandler) -> Bool {
        guard core.tcpConnectionOpened(from: tuple) else { return false }
        sink.tcp.add(handler, for: tuple)
        return true
    }

    func tcpClosed(_ tuple: TransportAddress, handler: ICETCPConnectionHandler) {
        sink.tcp.remove(handler, for: tuple)
        core.tcpConnectionClosed(from: tuple)
    }

    /// One RFC 4571 frame from a TCP tuple.
    @inline(__always)
    func receivedTCP(_ frame: inout ByteBuffer, from tuple: TransportAddress) {
        core.handleTCPFrame(&frame, from: tuple, now: .now())
    }

    func tcpHasPassedICECheck(_ tuple: TransportAddress) -> Bool {
        core.hasPassedICECheck(tuple)
    }

    func tcpDrop(_ reason: DropReason) {
        core.countDrop(reason)
    }

    /// End of a read burst, a tick or a control call: send, then deliver events.
    func afterWork() {
        sink.flush()
        while let (routerId, event) = core.pollEvent() {
            routerEvents[routerId]?.yield(event)
        }
    }

    private func tick() {
        core.tick(now: .now())
        afterWork()
        publish()
    }

    /// Publishes counter deltas and object counts (cheap: integers, 50 times a second).
    private func publish() {
        let counters = core.counters
        metrics.packetsIn.increment(by: Int64(counters.rtpIn &- published.rtpIn))
        metrics.packetsOut.increment(by: Int64(counters.rtpOut &- published.rtpOut))
        for reason in DropReason.allCases {
            let delta = counters[reason] &- published[reason]
            if delta > 0 { metrics.drops[reason.rawValue].increment(by: Int64(delta)) }
        }
        published = counters
        let counts = core.objectCounts
        reportCounts(index, WorkerObjectCounts(routers: counts.routers, transports: counts.transports, producers: counts.producers, consumers: counts.consumers))
    }

    /// CPU time the worker's thread has used so far, user and system apart: getrusage
    /// (RUSAGE_THREAD) on the loop's own thread (the whole process on systems without per-thread
    /// usage). System time includes what the kernel does inside the worker's sendmmsg calls (on
    /// loopback also the receivers' side of the delivery).
    func threadCPUTime() async -> ThreadCPUTime {
        (try? await eventLoop.submit { ThreadCPUTime.ofCurrentThread() }.get()) ?? ThreadCPUTime()
    }

    /// Counters and counts of this worker, read on its loop (for tests, stats and the bench).
    func snapshot() async -> (counters: SFUCounters, datagramsWritten: UInt64) {
        (try? await eventLoop.submit { (self.core.counters, self.sink.datagramsWritten) }.get()) ?? (SFUCounters(), 0)
    }
}

/// Per-worker object counts, aggregated by ``MediaServer`` into the gauges.
struct WorkerObjectCounts: Sendable, Hashable {
    var routers = 0
    var transports = 0
    var producers = 0
    var consumers = 0
}

/// The swift-metrics handles of one worker, created once.
private struct WorkerMetrics {
    let packetsIn = Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "in")])
    let packetsOut = Counter(label: "msab_sfu_packets_total", dimensions: [("direction", "out")])
    let drops = DropReason.allCases.map { Counter(label: "msab_sfu_drops_total", dimensions: [("reason", $0.description)]) }
}

/// The UDP handler (NIOUDPEchoServer style, style R9): every datagram into the core, one flush
/// per read burst.
final class MediaWorkerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let worker: MediaWorker

    init(worker: MediaWorker) {
        self.worker = worker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        worker.received(unwrapInboundIn(data), now: .now())
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.afterWork()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here for UDP: never fatal.
        worker.logger.debug("media socket error", metadata: ["error": "\(error)"])
    }
}

/// A media socket could not be made or bound (e.g. the port is taken).
struct MediaSocketError: Error, CustomStringConvertible {
    let operation: String
    let errno: Int32
    var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}
