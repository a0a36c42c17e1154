import CPrefetch
import MediasoupWire
import NIOCore
import RTP

/// One receiver's copy of one producer (mediasoup `SimpleConsumer`, audio).
///
/// Created paused (the client resumes it once its track is wired). Each forwarded packet gets
/// this consumer's SSRC, a sequence number from its ``SeqManager`` and a timestamp from its
/// ``RTPTimestampRebaser``, so the stream the receiver sees stays gap-free and continuous across
/// its own pause/resume and the producer's (mediasoup re-syncs on `syncRequired`). The rewrite
/// happens in the transport's outgoing buffer (the packet must be copied anyway, because SRTP
/// encrypts in place and the original is needed for the next consumer), so there is nothing to
/// restore afterwards.
///
/// Confined to its worker's event loop.
package final class Consumer {
    // MARK: - Stored properties

    // Declared hot-first (a class lays its stored properties out in this order): what a
    // forwarded packet reads and writes comes first, within the four lines the fan-out
    // prefetches, then the stream, whose 4 KiB history ring is its last member; the rest after.

    /// The transport it sends on (our parent). `unowned(unsafe)`: read for every forwarded packet,
    /// and a consumer never outlives its transport (closing a transport closes and unlinks its
    /// consumers first; all of it on the worker's loop), so the checked `unowned` refcount
    /// traffic buys nothing here.
    unowned(unsafe) let transport: WebRTCTransport
    /// The same, for the fan-out: borrowed without the retain/release pair (and the write to the
    /// transport's refcount) that reading `transport` costs per packet.
    private let transportHandle: Unmanaged<WebRTCTransport>
    let mapping: ConsumerMapping
    /// Paused by its client (consumers start paused).
    package private(set) var paused: Bool
    /// Its producer is paused.
    package private(set) var producerPaused: Bool
    package private(set) var closed = false
    /// The next packet starts a new source timeline (after any pause).
    // Hot-path state, written once per forwarded packet: `@exclusivity(unchecked)` drops the
    // runtime access tracking (the loop-confined code never overlaps accesses to it).
    @exclusivity(unchecked) private var syncRequired = true
    @exclusivity(unchecked) private var sequenceNumbers: SeqManager<UInt16>
    @exclusivity(unchecked) private var timestamps: RTPTimestampRebaser
    @exclusivity(unchecked) private(set) var stream: RTPStreamSend
    /// Lower-case UUID.
    package let id: String
    /// The producer it consumes.
    package let producerId: String
    /// What the client was told (`audio:consume` ack).
    package let rtpParameters: RtpParameters
    private(set) var retransmissions: UInt64 = 0
    /// Its slot in the router's fan-out list of its producer (-1 when not in one).
    var fanOutIndex = -1
    /// When the next SR is due, spread over the interval so that thousands of consumers do not
    /// report in the same tick.
    var nextSenderReportAt = NIODeadline.distantPast

    // MARK: - Init

    init(
        id: String, producerId: String, transport: WebRTCTransport, mapping: ConsumerMapping, paused: Bool, producerPaused: Bool,
        rtpParameters: RtpParameters = RtpParameters(codecs: []), initialSequenceNumber: UInt16, initialTimestamp: UInt32
    ) {
        self.id = id
        self.rtpParameters = rtpParameters
        self.producerId = producerId
        self.transport = transport
        self.transportHandle = .passUnretained(transport)
        self.mapping = mapping
        self.paused = paused
        self.producerPaused = producerPaused
        // The router draws both at random (RFC 3550 §5.1), as mediasoup does.
        self.sequenceNumbers = SeqManager(initialOutput: initialSequenceNumber)
        self.timestamps = RTPTimestampRebaser(clockRate: mapping.clockRate, initialOffset: initialTimestamp)
        self.stream = RTPStreamSend(ssrc: mapping.ssrc, clockRate: mapping.clockRate)
    }

    /// The SSRC the receiver sees.
    package var ssrc: UInt32 { mapping.ssrc }

    /// Forwarding is on: neither side paused and not closed.
    var isActive: Bool { !paused && !producerPaused && !closed }

    // MARK: - Packet path

    /// The fan-out's prefetch pipeline (``Router/producerReceivedRTP(_:_:audioLevel:now:)``),
    /// this consumer's object already asked for: step 0 asks for its transport; steps 1–3 go on
    /// through the transport (``WebRTCTransport/prefetchForSend(step:)``).
    @inline(__always)
    func prefetchForSend(step: Int) {
        if step == 0 {
            msab_prefetch_lines(transportHandle.toOpaque(), 2)
        } else {
            transportHandle._withUnsafeGuaranteedRef { $0.prefetchForSend(step: step - 1) }
        }
    }

    /// Sends one router-space packet of its producer (mediasoup `SimpleConsumer::SendRtpPacket`).
    @inline(__always)
    func forward(_ packet: RTPPacketView, now: NIODeadline) {
        guard isActive else { return }
        let input = packet.sequenceNumber
        if syncRequired {
            // Continue right after the last number we sent, whatever the producer's numbering.
            sequenceNumbers.sync(input &- 1)
            timestamps.sync()
            syncRequired = false
        }
        guard let sequenceNumber = sequenceNumbers.input(input) else { return }
        let timestamp = timestamps.output(for: packet.timestamp, now: now)
        let sent = transportHandle._withUnsafeGuaranteedRef {
            $0.sendRTP(packet, sequenceNumber: sequenceNumber, timestamp: timestamp, mapping: mapping)
        }
        if sent {
            stream.sent(
                sequenceNumber: sequenceNumber, producerSequenceNumber: input, timestamp: timestamp,
                length: packet.bytes.count, payloadLength: packet.payloadRange.count, now: now)
        }
    }

    /// Resends the packet we sent as `sequenceNumber` (RFC 4585 NACK), fetched by the router from
    /// the producer's buffer (mediasoup `RtpStreamSend::FillRetransmissionContainer`). Returns nil
    /// when it went out, else why not: not known any more (``DropReason/retransmissionMiss``),
    /// already resent within the RTT, or over this consumer's retransmission budget.
    func retransmit(sequenceNumber: UInt16, now: NIODeadline, from buffer: borrowing RetransmissionBuffer) -> DropReason? {
        guard !closed, !paused else { return .retransmissionMiss }
        let entry: (producerSequenceNumber: UInt16, timestamp: UInt32)
        switch stream.retransmissionCandidate(sequenceNumber: sequenceNumber, now: now) {
        case .success(let found): entry = found
        case .failure(let refusal): return refusal.reason
        }
        let outcome = buffer.withPacket(sequenceNumber: entry.producerSequenceNumber, now: now) { bytes -> DropReason? in
            guard stream.retransmissionBudgetAllows(bytes.count) else { return .retransmissionRateLimited }
            // The buffer's memory is read-only to us: the transport copies it before rewriting.
            guard let view = RTPPacketView(UnsafeMutableRawBufferPointer(mutating: bytes)),
                transport.sendRTP(view, sequenceNumber: sequenceNumber, timestamp: entry.timestamp, mapping: mapping)
            else { return .retransmissionMiss }
            stream.retransmitted(sequenceNumber: sequenceNumber, length: bytes.count, now: now)
            return nil
        }
        guard let outcome else { return .retransmissionMiss }  // not in the buffer (or too old)
        if outcome == nil { retransmissions &+= 1 }
        return outcome
    }

    // MARK: - Control

    /// Client pause/resume; returns whether the state changed.
    @discardableResult
    func setPaused(_ paused: Bool) -> Bool {
        guard self.paused != paused else { return false }
        self.paused = paused
        if !paused { syncRequired = true }
        return true
    }

    /// The producer paused or resumed.
    func setProducerPaused(_ paused: Bool) {
        guard producerPaused != paused else { return }
        producerPaused = paused
        if !paused { syncRequired = true }
    }

    func markClosed() {
        closed = true
    }

    // MARK: - RTCP

    /// The SR for this consumer's stream, nil before the first packet.
    func makeSenderReport(now: NIODeadline, ntp: UInt64) -> RTCPSenderReport? {
        stream.makeSenderReport(now: now, ntp: ntp)
    }

    func receivedReportBlock(_ block: RTCPReportBlock, compactNTPNow: UInt32) {
        stream.receivedReportBlock(block, compactNTPNow: compactNTPNow)
    }

    /// Statistics for `stats()`.
    package var stats: ConsumerStats {
        ConsumerStats(
            id: id, producerId: producerId, ssrc: mapping.ssrc, paused: paused, producerPaused: producerPaused,
            packets: stream.packets, bytes: stream.bytes, retransmissions: retransmissions,
            reportedPacketsLost: stream.reportedPacketsLost, reportedJitter: stream.reportedJitter,
            roundTripTimeMs: stream.roundTripTimeMs)
    }
}

/// What a consumer's packets must look like, from `getConsumerRtpParameters`.
struct ConsumerMapping: Sendable {
    var ssrc: UInt32
    var payloadType: UInt8
    var clockRate: UInt32
    /// Router extension id → consumer extension id; ids the consumer did not negotiate are removed.
    var extensionIDs: RTPHeaderExtensionIDMap
    /// RTCP CNAME (the producer's, as mediasoup), for SDES.
    var cname: String
    /// The consumer's id for `urn:ietf:params:rtp-hdrext:sdes:mid` (0 when not negotiated) and
    /// its MID. Receivers demultiplex BUNDLEd streams by MID before SSRC (RFC 8843 §9.2), so the
    /// producer's MID must not reach them: mediasoup writes the consumer's MID instead.
    var midExtensionID: UInt8 = 0
    var mid: [UInt8] = []
}
