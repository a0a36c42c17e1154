import DTLS
import ICELite
import Logging
import MediasoupWire
import NIOCore
import RTP
import SRTP
import STUN

/// The sans-I/O heart of one media worker: its routers, the demultiplexer of its one shared UDP
/// port (mediasoup `WebRtcServer`), its timers, counters and DTLS certificate.
///
/// The NIO shell (`SFUServer.MediaWorker`) hands it every datagram with the source address and
/// the time, calls ``tick(now:)`` from one repeating task, drains ``pollEvent()`` and publishes
/// ``counters``; tests drive it directly with an in-memory ``DatagramSink``.
///
/// Demultiplexing (RFC 7983 first, style R5): STUN goes to the transport named by the local ufrag
/// in its USERNAME (RFC 8445 §7.2.2), falling back to the source tuple; DTLS, RTP and RTCP only
/// to the transport whose ICE check that tuple passed. Anything else is a counted drop.
///
/// Confined to one event loop; nothing here reads a clock.
package final class SFUWorker {
    /// Timing knobs (defaults: RFC 7675 consent, mediasoup's RTCP intervals for audio).
    package struct Settings: Sendable {
        /// No valid ICE check for this long: consent lost, the transport counts as disconnected.
        package var consentTimeout: TimeAmount = .seconds(30)
        /// Then closed after this much longer.
        package var disconnectedGrace: TimeAmount = .seconds(10)
        /// The addresses put in ICE candidates, best first (one host candidate each, all on
        /// ``port``); never empty.
        package var announcedAddresses: [String]
        /// The first (preferred) announced address.
        package var announcedAddress: String { announcedAddresses.first ?? "127.0.0.1" }
        package var port: Int
        /// The address a pipe transport reports as its local ip: the source address other
        /// workers see our datagrams come from. nil: ``announcedAddress``.
        package var pipeAddress: String?
        /// Consumers one transport may hold. A listener consumes each speaker once, so a room needs
        /// one per seat (15 by default); 32 leaves room for larger rooms and for the moment a
        /// replaced producer's consumer is still open. Each consumer costs an SRTP operation per
        /// packet of its producer, so this bounds the work one socket can make a worker do.
        package var maxConsumersPerTransport: Int = 32
        /// The shell listens on TCP on ``port`` too (ICE-TCP, RFC 6544): transports then also
        /// offer a passive TCP host candidate per announced address, below every UDP one.
        package var offersTCP = false
        /// Bounds on ICE-TCP connections.
        package var tcpLimits = ICETCPAdmission.Limits()

        package init(announcedAddress: String, port: Int) {
            self.init(announcedAddresses: [announcedAddress], port: port)
        }

        package init(announcedAddresses: [String], port: Int) {
            self.announcedAddresses = announcedAddresses.isEmpty ? ["127.0.0.1"] : announcedAddresses
            self.port = port
        }
    }

    /// Consumers send an SR every 5 s (mediasoup's maximum RTCP interval for audio).
    static let senderReportInterval = TimeAmount.seconds(5)
    /// Producers get an RR every second (cheap: few producers per room, and it feeds the
    /// sender's loss estimate).
    static let receiverReportInterval = TimeAmount.seconds(1)

    // MARK: - Stored properties

    /// The worker's certificate (one per worker, like mediasoup).
    package let certificate: DTLSCertificate
    /// Where datagrams go.
    package let sink: any DatagramSink
    package var settings: Settings
    /// Packet-path counters; the shell publishes them. Bumped for every packet, on the loop
    /// only, never with overlapping accesses: no runtime exclusivity tracking.
    @exclusivity(unchecked) package var counters = SFUCounters()
    /// Wall clock (since 1970) minus the monotonic clock, measured by the shell: SR NTP timestamps.
    package var wallClockOffset = TimeAmount.zero
    let logger: Logger
    /// Every random number and id of this worker's routers (ids, SSRCs, ICE credentials, pipe
    /// keys, initial RTP numbering): the system CSPRNG unless a test seeds one (SFURandom.swift).
    var random: any RandomNumberGenerator

    package private(set) var routers: [String: Router] = [:]
    private var transportsByTuple: [TransportAddress: WebRTCTransport] = [:]
    private var transportsByUsernameFragment: [String: WebRTCTransport] = [:]
    /// Tuples registered per transport, to unregister on close.
    private var tuplesByTransport: [ObjectIdentifier: [TransportAddress]] = [:]
    /// Pipe streams by (remote tuple, SSRC): all pipes between two workers share one tuple, so
    /// the SSRC picks the pipe (see ``PipeTransport``).
    private var pipeStreams: [PipeStreamKey: PipeTransport] = [:]
    /// Connected pipe transports per remote tuple (RTCP and unknown SSRCs from such a tuple are
    /// pipe drops, not unknown-tuple drops).
    private var pipeTuples: [TransportAddress: Int] = [:]
    /// SSRCs this worker's pipe consumers use towards each remote tuple (allocated here, so they
    /// never collide on the receiving worker's demux).
    private var pipeSSRCsOut: [TransportAddress: Set<UInt32>] = [:]
    /// Pending events, oldest first; a ring buffer, so draining n events is O(n) (closing a
    /// transport with many consumers queues one event per consumer).
    private var events = CircularBuffer<(routerId: String, event: MediaRouterEvent)>()
    private var loggedDrops = Set<DropReason>()
    /// Accepted ICE-TCP connections (counts per worker and per address).
    private var tcpAdmission: ICETCPAdmission?
    /// The latest time the shell told us (for control calls, which carry no time of their own).
    private(set) var lastNow = NIODeadline.distantPast

    // MARK: - Init

    package init(
        certificate: DTLSCertificate, sink: any DatagramSink, settings: Settings, logger: Logger = Logger(label: "msab.sfu.worker"),
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) {
        self.random = random
        self.certificate = certificate
        self.sink = sink
        self.settings = settings
        self.logger = logger
    }

    // MARK: - Routers

    /// Creates a router for `mediaCodecs` (see `Router+ORTC`).
    func add(_ router: Router) {
        routers[router.id] = router
    }

    package func router(_ id: String) -> Router? { routers[id] }

    func routerClosed(_ router: Router) {
        routers[router.id] = nil
        events.removeAll { $0.routerId == router.id }
    }

    // MARK: - Datagrams

    /// One UDP datagram from `source` (the 5-tuple's remote half; the local half is the worker's port).
    package func handleDatagram(_ datagram: inout ByteBuffer, from source: TransportAddress, now: NIODeadline) {
        counters.datagramsIn &+= 1
        lastNow = now
        let kind = datagram.withUnsafeReadableBytes { PacketClassifier.classify($0) }
        switch kind {
        case .rtp:
            // WebRTC tuples first: a pipe costs the client path nothing but this miss.
            guard let transport = transportsByTuple[source] else { return receivedPipeRTP(&datagram, from: source, now: now) }
            transport.receivedRTP(&datagram, now: now)
        case .rtcp:
            guard let transport = transportsByTuple[source] else {
                return drop(pipeTuples[source] != nil ? .pipeRTCPIgnored : .unknownTuple)
            }
            transport.receivedRTCP(&datagram, now: now)
        case .stun:
            receivedSTUN(datagram, from: source, now: now)
        case .dtls:
            guard let transport = transportsByTuple[source] else { return drop(.unknownTuple) }
            if let reason = transport.receivedDTLS(datagram, from: source, now: now) {
                transport.router.transportClosedItself(transport, reason: reason)
            }
        case .zrtp, .turnChannel, .unknown:
            drop(.unclassifiable)
        }
    }

    /// RTP from a tuple with no WebRTC transport: a pipe's, found by (tuple, SSRC). The SSRC is
    /// read from the clear header (RFC 3711 §3.1) before SRTP; the pipe then authenticates it.
    private func receivedPipeRTP(_ datagram: inout ByteBuffer, from source: TransportAddress, now: NIODeadline) {
        guard !pipeTuples.isEmpty, let ssrc = datagram.getInteger(at: datagram.readerIndex &+ 8, as: UInt32.self) else {
            return drop(.unknownTuple)
        }
        guard let pipe = pipeStreams[PipeStreamKey(address: source, ssrc: ssrc)] else {
            return drop(pipeTuples[source] != nil ? .pipeUnknownSSRC : .unknownTuple)
        }
        pipe.receivedRTP(&datagram, now: now)
    }

    private func receivedSTUN(_ datagram: ByteBuffer, from source: TransportAddress, now: NIODeadline) {
        guard let message = try? STUNMessage(datagram: datagram) else { return drop(.stunMalformed) }
        // Binding indications (keepalives) and responses need no answer from a lite agent.
        guard message.type == .bindingRequest else { return drop(.stunNotBindingRequest) }
        // RFC 8445 §7.2.2: USERNAME is "<our ufrag>:<their ufrag>"; the ufrag picks the transport,
        // so a client that changed address (or restarted ICE) is still found.
        let transport: WebRTCTransport
        if let fragment = ICELiteServer.localUsernameFragment(in: message), let named = transportsByUsernameFragment[String(fragment)] {
            transport = named
        } else if let known = transportsByTuple[source] {
            transport = known
        } else {
            return drop(.stunUnknownUsername)
        }
        // The transport reports; the demux (ours) and the closing (its router's) follow here.
        let report = transport.receivedSTUN(message, from: source, now: now)
        if let tuples = report.validTuples { setTuples(tuples, for: transport) }
        if let reason = report.close { transport.router.transportClosedItself(transport, reason: reason) }
    }

    // MARK: - ICE-TCP (RFC 6544)

    /// The shell accepted a TCP connection from `source` (a tuple with ``TransportAddress/isTCP``):
    /// false when it is over a limit; the shell then closes it (counted here).
    package func tcpConnectionOpened(from source: TransportAddress) -> Bool {
        if tcpAdmission == nil { tcpAdmission = ICETCPAdmission(limits: settings.tcpLimits) }
        guard tcpAdmission!.admit(source) else {
            drop(.tcpConnectionLimit)
            return false
        }
        return true
    }

    /// An admitted connection closed: its tuple leaves the demux, so nothing is sent to it (the
    /// transport's ICE picks another tuple on the peer's next check).
    package func tcpConnectionClosed(from source: TransportAddress) {
        tcpAdmission?.release(source)
        if let transport = transportsByTuple.removeValue(forKey: source) {
            tuplesByTransport[ObjectIdentifier(transport)]?.removeAll { $0 == source }
        }
    }

    /// One RFC 4571 frame from a TCP connection: demultiplexed exactly like a UDP datagram
    /// from that tuple (STUN by USERNAME, the rest by tuple once a check passed on it).
    package func handleTCPFrame(_ frame: inout ByteBuffer, from source: TransportAddress, now: NIODeadline) {
        handleDatagram(&frame, from: source.with(tcp: true), now: now)
    }

    /// Whether `tuple` passed an ICE check (the shell closes TCP connections that never do).
    package func hasPassedICECheck(_ tuple: TransportAddress) -> Bool {
        transportsByTuple[tuple] != nil
    }

    /// Counts a drop the shell decided (framing errors, timeouts, slow readers).
    package func countDrop(_ reason: DropReason) {
        drop(reason)
    }

    @inline(__always)
    func drop(_ reason: DropReason) {
        counters.drop(reason)
        if !loggedDrops.contains(reason) {
            loggedDrops.insert(reason)
            logger.debug("sfu drop (first of its kind; further ones only counted)", metadata: ["sfu.drop": "\(reason)"])
        }
    }

    /// SRTP-protects the `length` bytes of RTP at the start of `out` in place, for a transport's
    /// send (WebRTC and pipe transports alike). Returns the bytes to send; 0 (and a counted
    /// ``DropReason/srtpProtectFailed``) when libsrtp refused.
    @inline(__always)
    func protectRTP(_ out: UnsafeMutableRawBufferPointer, length: Int, with srtp: SRTPSession) -> Int {
        do {
            return try srtp.protectRTP(out, length: length)
        } catch {
            drop(.srtpProtectFailed)
            return 0
        }
    }

    // MARK: - Demux tables (transports report here)

    func transportCreated(_ transport: WebRTCTransport) {
        transportsByUsernameFragment[transport.iceUsernameFragment] = transport
    }

    /// The tuples that passed an ICE check for `transport` (ICE-lite keeps at most a few): DTLS,
    /// RTP and RTCP from them reach the transport; a tuple it forgot no longer does.
    func setTuples(_ tuples: [TransportAddress], for transport: WebRTCTransport) {
        let key = ObjectIdentifier(transport)
        for old in tuplesByTransport[key] ?? [] where transportsByTuple[old] === transport && !tuples.contains(old) {
            transportsByTuple[old] = nil
        }
        for tuple in tuples {
            if let previous = transportsByTuple[tuple], previous !== transport {
                tuplesByTransport[ObjectIdentifier(previous)]?.removeAll { $0 == tuple }
            }
            transportsByTuple[tuple] = transport
        }
        tuplesByTransport[key] = tuples
    }

    func iceRestarted(_ transport: WebRTCTransport, previousUsernameFragment: String) {
        if transportsByUsernameFragment[previousUsernameFragment] === transport {
            transportsByUsernameFragment[previousUsernameFragment] = nil
        }
        transportsByUsernameFragment[transport.iceUsernameFragment] = transport
    }

    func transportClosed(_ transport: WebRTCTransport) {
        if transportsByUsernameFragment[transport.iceUsernameFragment] === transport {
            transportsByUsernameFragment[transport.iceUsernameFragment] = nil
        }
        for tuple in tuplesByTransport.removeValue(forKey: ObjectIdentifier(transport)) ?? [] where transportsByTuple[tuple] === transport {
            transportsByTuple[tuple] = nil
        }
    }

    // MARK: - Pipe demux tables (pipe transports report here)

    /// A pipe connected to `remote` (the router reports it once `connect` succeeded).
    func pipeConnected(remote: TransportAddress) {
        pipeTuples[remote, default: 0] += 1
    }

    /// A connected pipe to `remote` closed.
    func pipeClosed(remote: TransportAddress) {
        let left = (pipeTuples[remote] ?? 1) - 1
        pipeTuples[remote] = left > 0 ? left : nil
    }

    /// Claims (`remote`, `ssrc`) for a pipe producer of `pipe`.
    /// - Throws: `.ssrcInUse` when another stream from that tuple has the SSRC.
    func registerPipeStream(from remote: TransportAddress, ssrc: UInt32, transport pipe: PipeTransport) throws(SFUError) {
        let key = PipeStreamKey(address: remote, ssrc: ssrc)
        guard pipeStreams[key] == nil else { throw SFUError(.ssrcInUse, "pipe stream \(ssrc) from \(remote)") }
        pipeStreams[key] = pipe
    }

    func pipeStreamRemoved(from remote: TransportAddress, ssrc: UInt32, transport pipe: PipeTransport) {
        let key = PipeStreamKey(address: remote, ssrc: ssrc)
        if pipeStreams[key] === pipe { pipeStreams[key] = nil }
    }

    /// A random SSRC no pipe consumer of this worker uses towards `remote`. Bounded: the set
    /// holds one entry per piped producer, far below 2^32, so a few tries suffice.
    func allocatePipeSSRC(to remote: TransportAddress) throws(SFUError) -> UInt32 {
        for _ in 0..<64 {
            let ssrc = UInt32.random(in: 1...UInt32.max, using: &random)
            if pipeSSRCsOut[remote, default: []].insert(ssrc).inserted { return ssrc }
        }
        throw SFUError(.internalError, "no free pipe SSRC towards \(remote)")
    }

    func releasePipeSSRC(_ ssrc: UInt32, to remote: TransportAddress) {
        pipeSSRCsOut[remote]?.remove(ssrc)
        if pipeSSRCsOut[remote]?.isEmpty == true { pipeSSRCsOut[remote] = nil }
    }

    // MARK: - Events

    func emit(_ event: MediaRouterEvent, router: Router) {
        events.append((router.id, event))
    }

    /// The next router event, or nil. The shell drains this after every read burst, tick and
    /// control call, and routes each event to its router's stream.
    package func pollEvent() -> (routerId: String, event: MediaRouterEvent)? {
        events.popFirst()
    }

    // MARK: - Timers

    /// Drives every timer of the worker: DTLS retransmissions, ICE consent, RTCP reports,
    /// observer intervals. Call every 10–20 ms.
    package func tick(now: NIODeadline) {
        lastNow = now
        for router in Array(routers.values) { router.tick(now: now) }
    }

    /// NTP time (RFC 3550 §4: seconds since 1900 in 32.32 fixed point) for monotonic `now`.
    func ntpTimestamp(_ now: NIODeadline) -> UInt64 {
        let unixNanoseconds = UInt64(clamping: Int64(clamping: now.uptimeNanoseconds) &+ wallClockOffset.nanoseconds)
        // No trap: UInt64.max / 1e9 + 2,208,988,800 < 2^35, and `<<` drops bits (NTP's 2036
        // era wrap is the 32-bit seconds field wrapping, as RFC 5905 §6 intends).
        let seconds = unixNanoseconds / 1_000_000_000 + 2_208_988_800
        let fraction = (unixNanoseconds % 1_000_000_000) << 32 / 1_000_000_000
        return seconds << 32 | fraction
    }

    // MARK: - Stats

    /// Objects alive on this worker.
    /// Clients' transports and consumers (a worker's load measure); producers include pipe
    /// producers, which cost the worker a fan-out like any other.
    package var objectCounts: (routers: Int, transports: Int, producers: Int, consumers: Int) {
        routers.values.reduce((routers.count, 0, 0, 0)) { ($0.0, $0.1 + $1.transports.count, $0.2 + $1.producers.count, $0.3 + $1.consumers.count) }
    }
}

/// The demux key of a pipe stream: the remote worker's tuple and the stream's pipe SSRC.
struct PipeStreamKey: Hashable {
    var address: TransportAddress
    var ssrc: UInt32
}
