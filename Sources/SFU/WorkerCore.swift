public import DTLS
public import NIOCore
import STUN
import RTP

/// Where the worker's packets go out (the NIO shell's UDP channel).
public protocol DatagramSink: AnyObject {
    func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress)
}

/// Everything one worker owns (mediasoup's Worker + WebRtcServer): its routers, and the demux of
/// its one UDP port — by 5-tuple first, then by the STUN USERNAME's local ufrag.
/// Confined to the worker's event loop: no locks anywhere on the packet path.
public final class WorkerCore {
    public let certificate: DTLSCertificate
    public let announcedAddress: String
    public let port: Int
    let sink: any DatagramSink
    var routers: [String: Router] = [:]
    var transportsByUfrag: [String: WebRTCTransport] = [:]
    var transportsByTuple: [TransportAddress: WebRTCTransport] = [:]
    /// Counters, read and published by the shell.
    public var packetsIn = 0
    public var packetsOut = 0
    public var drops: [DropReason: Int] = [:]
    /// One scratch buffer for the outbound rewrite + protect of every packet (no allocation per packet).
    let scratch: UnsafeMutableRawPointer
    static let scratchSize = 1500 + 256

    public init(certificate: DTLSCertificate, announcedAddress: String, port: Int, sink: any DatagramSink) {
        self.certificate = certificate
        self.announcedAddress = announcedAddress
        self.port = port
        self.sink = sink
        scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchSize, alignment: 16)
    }

    deinit { scratch.deallocate() }

    public var routerCount: Int { routers.count }
    public var routerIds: [String] { Array(routers.keys) }

    /// Live objects on this worker: routers, transports, producers, consumers.
    public var objectCounts: (routers: Int, transports: Int, producers: Int, consumers: Int) {
        routers.values.reduce((routers.count, 0, 0, 0)) { ($0.0, $0.1 + $1.transportCount, $0.2 + $1.producerCount, $0.3 + $1.consumerCount) }
    }
    public func router(_ id: String) -> Router? { routers[id] }

    public func addRouter(_ router: Router) { routers[router.id] = router }

    func forgetRouter(_ router: Router) { routers[router.id] = nil }

    @inline(__always)
    func drop(_ reason: DropReason) { drops[reason, default: 0] += 1 }

    func register(_ transport: WebRTCTransport) { transportsByUfrag[transport.localUfrag] = transport }

    func unregister(_ transport: WebRTCTransport) {
        if transportsByUfrag[transport.localUfrag] === transport { transportsByUfrag[transport.localUfrag] = nil }
        for tuple in transport.tuples where transportsByTuple[tuple] === transport { transportsByTuple[tuple] = nil }
    }

    func renameUfrag(_ transport: WebRTCTransport, from old: String) {
        if transportsByUfrag[old] === transport { transportsByUfrag[old] = nil }
        transportsByUfrag[transport.localUfrag] = transport
    }

    /// One datagram from the network. `bytes` may be modified in place (SRTP is undone there).
    public func received(_ bytes: UnsafeMutableRawBufferPointer, from address: SocketAddress, now: UInt64) {
        packetsIn += 1
        guard let tuple = TransportAddress(address) else { return drop(.unknownTuple) }
        switch PacketClassifier.classify(UnsafeRawBufferPointer(bytes)) {
        case .stun:
            receivedSTUN(UnsafeRawBufferPointer(bytes), tuple: tuple, address: address, now: now)
        case .dtls:
            guard let transport = transportsByTuple[tuple] else { return drop(.unknownTuple) }
            transport.receivedDTLS(UnsafeRawBufferPointer(bytes), from: address)
        case .rtp:
            guard let transport = transportsByTuple[tuple] else { return drop(.unknownTuple) }
            transport.receivedRTP(bytes, now: now)
        case .rtcp:
            guard let transport = transportsByTuple[tuple] else { return drop(.unknownTuple) }
            transport.receivedRTCP(bytes)
        case .unknown:
            drop(.unknownKind)
        }
    }

    func receivedSTUN(_ bytes: UnsafeRawBufferPointer, tuple: TransportAddress, address: SocketAddress, now: UInt64) {
        guard let message = STUNMessage(bytes: bytes) else { return drop(.stunMalformed) }
        guard message.messageClass == .request, message.method == 0x001 else { return drop(.stunNotBindingRequest) }
        // RFC 8445 §7.3: USERNAME is "<our ufrag>:<their ufrag>".
        guard let username = message.username, let colon = username.firstIndex(of: ":") else {
            respond(STUNMessage.bindingError(transactionID: message.transactionID, code: 400, reason: "Bad Request", password: nil), to: address)
            return drop(.stunMissingAttribute)
        }
        let localUfrag = String(username[..<colon])
        guard let transport = transportsByUfrag[localUfrag] else { return drop(.stunUnknownUsername) }
        if message.fingerprintOffset != nil, !message.hasValidFingerprint { return drop(.stunBadFingerprint) }
        guard message.integrityOffset != nil, message.hasValidIntegrity(key: transport.localPasswordBytes) else {
            respond(STUNMessage.bindingError(transactionID: message.transactionID, code: 401, reason: "Unauthorized", password: nil), to: address)
            return drop(.stunBadIntegrity)
        }
        guard message.priority != nil else {
            respond(STUNMessage.bindingError(transactionID: message.transactionID, code: 400, reason: "Bad Request", password: transport.localPasswordBytes), to: address)
            return drop(.stunMissingAttribute)
        }
        // A lite agent is always controlled: a peer that also claims to be controlled is in conflict.
        if message.iceControlled != nil {
            respond(STUNMessage.bindingError(transactionID: message.transactionID, code: 487, reason: "Role Conflict", password: transport.localPasswordBytes), to: address)
            return drop(.stunRoleConflict)
        }
        respond(STUNMessage.bindingSuccess(transactionID: message.transactionID, mapped: tuple, password: transport.localPasswordBytes), to: address)
        if transportsByTuple[tuple] !== transport {
            transportsByTuple[tuple] = transport
        }
        transport.validCheck(tuple: tuple, address: address, nominated: message.useCandidate, now: now)
    }

    func respond(_ bytes: [UInt8], to address: SocketAddress) {
        bytes.withUnsafeBytes { sink.send($0, to: address) }
        packetsOut += 1
    }

    /// Timers: DTLS retransmission, ICE consent, speaker observers. Called every few tens of ms.
    public func tick(now: UInt64) {
        for router in Array(routers.values) { router.tick(now: now) }
    }
}
