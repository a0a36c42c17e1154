/// Maps an input sequence-number space onto a continuous output space, skipping dropped inputs
/// and re-basing on demand, as mediasoup's `RTC::SeqManager` does for each consumer: a consumer's
/// outgoing sequence numbers stay gap-free when the SFU decides not to forward some packets
/// (`drop`), and continuous across producer pause/resume or replacement (`sync`).
///
/// Generic over the unsigned width with an optional smaller bit width `bits` (e.g. 15-bit picture
/// ids, or 3 bits for exhaustive wrap-around tests). All arithmetic is modulo 2^bits and
/// "higher than" is the RFC 1982 serial-number comparison: `a` is higher than `b` when it is ahead
/// by less than half the space.
///
/// Behaviour (our own design, same contract as mediasoup's):
/// - `input(i)` returns `i + base - (number of dropped inputs lower than i)`, or nil if `i`
///   itself was dropped.
/// - `drop(i)` only records inputs higher than every input seen so far; dropping a past input
///   cannot renumber packets already sent.
/// - Dropped entries are folded into `base` once the highest input is a quarter of the space
///   beyond them (packets that late are not worth a correct number), and at most
///   `maxDroppedEntries` are remembered; both keep the work per packet small and bounded.
/// - `sync(i)` makes the next input `i + 1` come out as `maxOutput + 1`.
public struct SeqManager<Value: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// 2^bits − 1: the largest value in the space.
    public let maxValue: Value
    @usableFromInline var base: Value = 0
    @usableFromInline var started = false
    @usableFromInline var highestInput: Value = 0
    @usableFromInline var highestOutput: Value
    /// Dropped inputs, ascending in serial order, all higher than `highestInput` when they were added.
    @usableFromInline var dropped: [Value] = []

    /// Upper bound on remembered drops; beyond it the oldest is folded into the base.
    public static var maxDroppedEntries: Int { 128 }

    /// - Parameters:
    ///   - bits: the width of the space (1 … Value.bitWidth); defaults to the full width.
    ///   - initialOutput: the output that the first ``sync(_:)`` continues from (mediasoup starts
    ///     consumers at a random value; the caller provides it).
    public init(bits: Int = Value.bitWidth, initialOutput: Value = 0) {
        precondition(bits >= 1 && bits <= Value.bitWidth, "SeqManager bit width \(bits) out of range")
        self.maxValue = bits == Value.bitWidth ? Value.max : (Value(1) << bits) - 1
        self.highestOutput = initialOutput & maxValue
    }

    /// The highest input seen by ``input(_:)`` (or set by ``sync(_:)``).
    public var maxInput: Value { highestInput }
    /// The highest output produced so far (or the initial output).
    public var maxOutput: Value { highestOutput }

    // MARK: - Serial-number comparison

    /// `lhs` is ahead of `rhs` by 1 … half the space (RFC 1982 §3.2 style).
    @inlinable
    public func isHigher(_ lhs: Value, than rhs: Value) -> Bool {
        let difference = (lhs &- rhs) & maxValue
        return difference != 0 && difference <= maxValue / 2
    }

    /// `lhs` is behind `rhs`.
    @inlinable
    public func isLower(_ lhs: Value, than rhs: Value) -> Bool {
        isHigher(rhs, than: lhs)
    }

    // MARK: - API

    /// Re-bases so that input `input + 1` produces `highestOutput + 1`; forgets dropped inputs.
    /// Call with the first new input minus one after a pause/resume or a producer switch.
    public mutating func sync(_ input: Value) {
        base = (highestOutput &- input) & maxValue
        highestInput = input & maxValue
        dropped.removeAll(keepingCapacity: true)
    }

    /// Shifts every future output by `offset` (mediasoup `SeqManager::Offset`).
    public mutating func offset(_ offset: Value) {
        base = (base &+ offset) & maxValue
    }

    /// Records that `input` will not be forwarded, so later outputs close the gap.
    public mutating func drop(_ input: Value) {
        let input = input & maxValue
        guard !started || isHigher(input, than: highestInput) else { return }
        // Keep `dropped` sorted in serial order. Entries lie within half the space around
        // highestInput (older ones are folded a quarter behind it), so ordering by distance from
        // highestInput − half is a total order on them.
        let origin = (highestInput &- maxValue / 2) & maxValue
        let key = (input &- origin) & maxValue
        var index = dropped.count
        while index > 0 {
            let previous = (dropped[index - 1] &- origin) & maxValue
            if previous == key { return }  // already dropped
            if previous < key { break }
            index -= 1
        }
        dropped.insert(input, at: index)
        if dropped.count > Self.maxDroppedEntries {
            dropped.removeFirst()
            base = (base &- 1) & maxValue
        }
    }

    /// The output for `input`, or nil when `input` was dropped.
    @inlinable
    public mutating func input(_ input: Value) -> Value? {
        let input = input & maxValue
        var base = self.base
        if !dropped.isEmpty {
            var lowerCount: Value = 0
            for value in dropped {
                if value == input { return nil }
                if isLower(value, than: input) { lowerCount &+= 1 }
            }
            base = (base &- lowerCount) & maxValue
        }
        let output = (input &+ base) & maxValue
        if !started {
            started = true
            highestInput = input
            highestOutput = output
        } else {
            if isHigher(input, than: highestInput) { highestInput = input }
            if isHigher(output, than: highestOutput) { highestOutput = output }
        }
        if !dropped.isEmpty { foldOldDrops() }
        return output
    }

    /// Folds drops that are a quarter of the space behind `highestInput` into `base`.
    @usableFromInline
    mutating func foldOldDrops() {
        let window = maxValue / 4
        var folded = 0
        for value in dropped {
            let behind = (highestInput &- value) & maxValue
            guard isLower(value, than: highestInput), behind >= window else { break }
            folded += 1
        }
        guard folded > 0 else { return }
        dropped.removeFirst(folded)
        base = (base &- Value(folded)) & maxValue
    }
}
