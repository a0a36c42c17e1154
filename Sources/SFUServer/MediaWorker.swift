import DTLS
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
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
    let core: SFUWorker
    private let sink: UDPBatchSink
    private var channel: (any Channel)?
    /// The ICE-TCP listener on the same port number (nil when it could not be bound).
    private var tcpChannel: (any Channel)?
    private var tickTask: RepeatedTask?
    /// Router id → its event stream (the room reads it).
    private var routerEvents: [String: AsyncStream<MediaRouterEvent>.Continuation] = [:]
    /// The counters as last published (MediaWorker+Metrics), and the handles they go to.
    var published = SFUCounters()
    let metrics: WorkerMetrics
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
        core.wallClockOffsetNanoseconds = wallNanoseconds - Int64(NIODeadline.now().uptimeNanoseconds)
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
        let handshakeTimeout = TimeAmount.nanoseconds(Int64(clamping: core.settings.tcpLimits.handshakeTimeoutNanoseconds))
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

    /// Counters and counts of this worker, read on its loop (for tests, stats and the bench).
    func snapshot() async -> (counters: SFUCounters, datagramsWritten: UInt64) {
        (try? await eventLoop.submit { (self.core.counters, self.sink.datagramsWritten) }.get()) ?? (SFUCounters(), 0)
    }
}
