import MediasoupWire
import NIOCore
import RTP

/// An audio source sent by a client on one of its transports (mediasoup `Producer`, audio only,
/// one encoding).
///
/// It receives the transport's decrypted RTP for its SSRC, keeps reception statistics for the
/// receiver reports we send back, maps the client's payload type and header-extension ids to the
/// router's in place (mediasoup `Producer::MangleRtpPacket`), reads the RFC 6464 audio level for
/// the observers, and keeps a ``RetransmissionBuffer`` for consumers' NACKs. Fan-out itself is the
/// router's job.
///
/// Confined to its worker's event loop.
package final class Producer {
    /// What ``receive(_:now:)`` decided.
    enum Verdict {
        /// Forward to the consumers; `audioLevel` is the packet's RFC 6464 level, if present.
        case forward(audioLevel: RTPAudioLevel?)
        case drop(DropReason)
    }

    // MARK: - Stored properties

    /// Lower-case UUID, as mediasoup.
    package let id: String
    /// The transport the packets come on (our parent): the client's, or a pipe from the router
    /// where the producer originates.
    unowned let transport: any ProducerTransport
    /// A pipe producer: the copy of a producer of another router, with the same id (mediasoup
    /// `pipeToRouter`). Its closure is the origin's business, so it reports none to the room.
    var isPipeProducer: Bool { transport is PipeTransport }
    /// The mapping negotiated at `produce`.
    let mapping: ProducerMapping
    /// Always `.audio` here.
    package let kind: MediaKind
    /// What the client sent (validated).
    package let rtpParameters: RtpParameters
    /// The router-space parameters consumers are derived from (mediasoup `consumableRtpParameters`).
    let consumableRtpParameters: RtpParameters
    /// The SSRC, from the encodings or learnt from the first packet (``ProducerMapping/ssrc``).
    package private(set) var ssrc: UInt32?
    /// Paused producers are received (stats, RR) but not forwarded.
    package private(set) var paused: Bool
    /// Closed producers forward nothing; the router has already unlinked them.
    package private(set) var closed = false
    private(set) var stream: RTPStreamRecv?
    var retransmissionBuffer = RetransmissionBuffer()
    /// The last audio level seen (dBov, 0 loudest … -127), for stats.
    package private(set) var lastAudioLevel: Int?
    /// Packets dropped for an unknown payload type.
    private(set) var unknownPayloadTypePackets: UInt64 = 0

    // MARK: - Init

    init(
        id: String, transport: any ProducerTransport, mapping: ProducerMapping, paused: Bool, kind: MediaKind = .audio,
        rtpParameters: RtpParameters = RtpParameters(codecs: []), consumableRtpParameters: RtpParameters = RtpParameters(codecs: [])
    ) {
        self.id = id
        self.kind = kind
        self.rtpParameters = rtpParameters
        self.consumableRtpParameters = consumableRtpParameters
        self.transport = transport
        self.mapping = mapping
        self.paused = paused
        self.ssrc = mapping.ssrc
        if let ssrc = mapping.ssrc {
            self.stream = RTPStreamRecv(ssrc: ssrc, clockRate: mapping.clockRate)
        }
    }

    // MARK: - Packet path

    /// Takes one decrypted packet whose SSRC is ours, mangles it into the router's space in place,
    /// and says whether to forward it.
    @inline(__always)
    func receive(_ packet: RTPPacketView, now: NIODeadline) -> Verdict {
        let routerPayloadType = mapping.payloadTypes[Int(packet.payloadType)]
        guard routerPayloadType != ProducerMapping.unmapped else {
            unknownPayloadTypePackets &+= 1
            return .drop(.unknownPayloadType)
        }
        if stream == nil {
            // SSRC learnt from the first packet (no ssrc in encodings).
            ssrc = packet.ssrc
            stream = RTPStreamRecv(ssrc: packet.ssrc, clockRate: mapping.clockRate)
        }
        let sequenceNumber = packet.sequenceNumber
        stream!.received(sequenceNumber: sequenceNumber, timestamp: packet.timestamp, length: packet.bytes.count, now: now)
        // Read the level with the client's id, before the ids are rewritten.
        let level = mapping.audioLevelExtensionID == 0 ? nil : packet.audioLevel(extensionID: mapping.audioLevelExtensionID)
        if let level { lastAudioLevel = level.dBov }
        if paused { return .drop(.producerPaused) }
        packet.payloadType = routerPayloadType
        packet.remapExtensionIDs(mapping.extensionIDs)
        retransmissionBuffer.store(UnsafeRawBufferPointer(packet.bytes), sequenceNumber: sequenceNumber, now: now)
        return .forward(audioLevel: level)
    }

    // MARK: - Control

    /// Pauses or resumes; returns whether the state changed.
    @discardableResult
    func setPaused(_ paused: Bool) -> Bool {
        guard self.paused != paused else { return false }
        self.paused = paused
        return true
    }

    func markClosed() {
        closed = true
    }

    // MARK: - RTCP

    func receivedSenderReport(_ report: RTCPSenderReport, now: NIODeadline) {
        stream?.receivedSenderReport(report, now: now)
    }

    func makeReportBlock(now: NIODeadline) -> RTCPReportBlock? {
        stream?.makeReportBlock(now: now)
    }

    /// Statistics for `stats()`.
    package var stats: ProducerStats {
        ProducerStats(
            id: id, ssrc: ssrc, paused: paused, packets: stream?.packets ?? 0, bytes: stream?.bytes ?? 0,
            packetsLost: stream?.packetsLost ?? 0, jitter: stream?.jitter ?? 0, fractionLost: stream?.lastFractionLost ?? 0,
            audioLevel: lastAudioLevel)
    }
}

/// How a producer's packets are mapped into the router's space, computed once at `produce`
/// from the ORTC mapping (mediasoup `RtpMapping`).
struct ProducerMapping: Sendable {
    static let unmapped: UInt8 = 0xFF
    /// The SSRC from `encodings[0].ssrc`, or nil to learn it from the first packet.
    var ssrc: UInt32?
    /// Producer payload type → router payload type; ``unmapped`` for unknown ones. 128 entries.
    var payloadTypes: [UInt8]
    var clockRate: UInt32
    /// Producer extension id → router extension id (0 removes the element).
    var extensionIDs: RTPHeaderExtensionIDMap
    /// The producer's id for `urn:ietf:params:rtp-hdrext:ssrc-audio-level`, 0 when not negotiated.
    var audioLevelExtensionID: UInt8

    init(
        ssrc: UInt32?, payloadTypes: [(producer: UInt8, router: UInt8)], clockRate: UInt32,
        extensionIDs: [(producer: UInt8, router: UInt8)], audioLevelExtensionID: UInt8
    ) {
        self.ssrc = ssrc
        var table = [UInt8](repeating: Self.unmapped, count: 128)
        for pair in payloadTypes where pair.producer < 128 && pair.router < 128 { table[Int(pair.producer)] = pair.router }
        self.payloadTypes = table
        self.clockRate = clockRate
        self.extensionIDs = RTPHeaderExtensionIDMap(extensionIDs.map { (from: $0.producer, to: $0.router) })
        self.audioLevelExtensionID = audioLevelExtensionID
    }
}
