import DTLS
import Foundation
import Logging
import MediasoupWire
import NIOCore
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
    //
    // Concerns live in extensions: MediaWorker+Lifecycle.swift (bind, shutdown),
    // MediaWorker+Socket.swift (the raw socket calls), MediaWorker+Metrics.swift (publishing
    // counters) and MediaWorker+CPUTime.swift; the stored properties they use are therefore
    // internal rather than private (Swift's `private` does not reach another file).

    /// The shell's tick period: DTLS retransmissions, consent, RTCP and observers all run off it.
    static let tickInterval: TimeAmount = .milliseconds(20)

    let index: Int
    let eventLoop: any EventLoop
    let logger: Logger
    let core: SFUWorker
    let sink: UDPBatchSink
    var channel: (any Channel)?
    /// The ICE-TCP listener on the same port number (nil when it could not be bound).
    var tcpChannel: (any Channel)?
    var tickTask: RepeatedTask?
    /// Router id → its event stream (the room reads it).
    var routerEvents: [String: AsyncStream<MediaRouterEvent>.Continuation] = [:]
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
        core.wallClockOffset = .nanoseconds(wallNanoseconds - Int64(NIODeadline.now().uptimeNanoseconds))
        self.core = core
        sink.dropped = { [unowned core] reason in core.counters.drop(reason) }
        sink.tcp.dropped = { [unowned core] reason in core.counters.drop(reason) }
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

    func tick() {
        core.tick(now: .now())
        afterWork()
        publish()
    }
}
