/// The packet-index bookkeeping of one SRTP or SRTCP stream: the highest index authenticated so
/// far and a sliding window of the ones just below it (RFC 3711 §3.3.2, Appendix A; libsrtp's
/// `rdbx`). Bit `i` of the window is the index `highest - i`.
///
/// The caller estimates the index of a packet, asks ``check(_:)`` whether it may be processed,
/// and only after the packet authenticated calls ``commit(_:)``: a forged packet never moves the
/// window (a failed check "does not poison the stream").
struct SRTPReplayWindow {
    enum Verdict: Equatable {
        /// Not seen and not too old.
        case fresh
        /// Seen before.
        case replayed
        /// Older than the window reaches.
        case tooOld
    }

    /// The highest index committed (0 before the first packet, as libsrtp).
    private(set) var highest: UInt64 = 0
    private var bits: [UInt64]
    let size: Int

    init(size: Int) {
        self.size = size
        bits = [UInt64](repeating: 0, count: (size + 63) / 64)
    }

    func check(_ index: UInt64) -> Verdict {
        if index > highest { return .fresh }
        let age = highest - index
        if age >= UInt64(size) { return .tooOld }
        let age_ = Int(age)
        return bits[age_ >> 6] & (1 << UInt64(age_ & 63)) != 0 ? .replayed : .fresh
    }

    /// Records `index` as received (it passed ``check(_:)`` and authenticated).
    mutating func commit(_ index: UInt64) {
        if index > highest {
            shift(by: index - highest)
            highest = index
            bits[0] |= 1
        } else {
            let age = Int(highest - index)
            if age < size { bits[age >> 6] |= 1 << UInt64(age & 63) }
        }
    }

    /// Raises the highest index without keeping the window (an outbound stream that allows
    /// repeats never checks it; sliding 1024 bits per packet would be wasted work).
    mutating func advance(to index: UInt64) {
        if index > highest { highest = index }
    }

    /// Moves every bit `distance` places towards older indexes (the window slides forward).
    private mutating func shift(by distance: UInt64) {
        guard distance < UInt64(size) else {
            for word in bits.indices { bits[word] = 0 }
            return
        }
        let words = Int(distance) >> 6
        let offset = UInt64(Int(distance) & 63)
        var word = bits.count - 1
        while word >= 0 {
            let source = word - words
            var value: UInt64 = 0
            if source >= 0 {
                value = bits[source] << offset
                if offset > 0, source > 0 { value |= bits[source - 1] >> (64 - offset) }
            }
            bits[word] = value
            word -= 1
        }
    }
}
