import NIOCore

/// The last packets of one producer, kept so that a consumer's NACK (RFC 4585 §6.2.1) can be
/// answered without asking the producer (mediasoup `RtpStreamSend`'s retransmission buffer).
///
/// One slab of `slots × slotSize` bytes is allocated at creation and reused: storing a packet is a
/// `memcpy` into the slot `sequenceNumber % slots`, so the forwarding path never allocates. A slot
/// remembers the sequence number and the arrival time, so a stale or overwritten slot is never
/// handed out for the wrong packet, and packets older than ``maxAge`` are refused (late audio is
/// worse than lost audio: the receiver's jitter buffer has already concealed it).
///
/// Stored packets are in the router's space (payload type and extension ids already mapped),
/// before any per-consumer rewrite.
struct RetransmissionBuffer: ~Copyable {
    /// Slots; a power of two. 256 × 20 ms is about 5 s of Opus.
    let slots: Int
    /// Bytes per slot; longer packets are not stored (Opus at 510 kbit/s in 20 ms is 1,275 B).
    let slotSize: Int
    /// Oldest packet age a NACK is answered with.
    let maxAge: TimeAmount
    private let storage: UnsafeMutableRawBufferPointer
    /// Per slot: length (0 = empty), sequence number, arrival time.
    private var lengths: [Int]
    private var sequenceNumbers: [UInt16]
    private var arrivals: [NIODeadline]

    init(slots: Int = 256, slotSize: Int = 1_500, maxAge: TimeAmount = .seconds(1)) {
        precondition(slots > 0 && slots & (slots - 1) == 0, "retransmission slots must be a power of two")
        self.slots = slots
        self.slotSize = slotSize
        self.maxAge = maxAge
        self.storage = UnsafeMutableRawBufferPointer.allocate(byteCount: slots * slotSize, alignment: 16)
        self.lengths = Array(repeating: 0, count: slots)
        self.sequenceNumbers = Array(repeating: 0, count: slots)
        self.arrivals = Array(repeating: .distantPast, count: slots)
    }

    deinit {
        storage.deallocate()
    }

    /// Stores a copy of `packet` (sequence number `sequenceNumber`), received at `now`.
    mutating func store(_ packet: UnsafeRawBufferPointer, sequenceNumber: UInt16, now: NIODeadline) {
        let slot = Int(sequenceNumber) & (slots - 1)
        guard packet.count <= slotSize, let source = packet.baseAddress else {
            lengths[slot] = 0
            return
        }
        (storage.baseAddress! + slot * slotSize).copyMemory(from: source, byteCount: packet.count)
        lengths[slot] = packet.count
        sequenceNumbers[slot] = sequenceNumber
        arrivals[slot] = now
    }

    /// Runs `body` with the stored packet `sequenceNumber` if it is there and not older than
    /// ``maxAge`` at `now`; returns nil otherwise.
    func withPacket<R>(sequenceNumber: UInt16, now: NIODeadline, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let slot = Int(sequenceNumber) & (slots - 1)
        let length = lengths[slot]
        guard length > 0, sequenceNumbers[slot] == sequenceNumber, (.zero...maxAge).contains(now - arrivals[slot]) else { return nil }
        return body(UnsafeRawBufferPointer(start: storage.baseAddress! + slot * slotSize, count: length))
    }

    /// Forgets everything (the producer's stream restarted).
    mutating func clear() {
        for index in lengths.indices { lengths[index] = 0 }
    }
}
