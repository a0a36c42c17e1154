/// A MessagePack map as it is on the wire: key/value pairs in order, duplicates included.
///
/// Equality is ordered (two maps are equal when they hold the same pairs in the same order),
/// because the codec's job is to reproduce bytes exactly and two orders encode differently.
/// Readers that need JavaScript semantics use `subscript`, which, like the object notepack
/// builds, sees the last value of a repeated key.
public struct MessagePackMap: Sendable, Hashable, Sequence {
    public var entries: [(key: MessagePackValue, value: MessagePackValue)]

    public init(_ entries: [(key: MessagePackValue, value: MessagePackValue)] = []) {
        self.entries = entries
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [MessagePackValue] { entries.map(\.key) }

    /// The value of the last pair whose key is `key` (notepack assigns `value[key] = …` in order,
    /// so a repeated key keeps its last value). Linear: signalling maps have a handful of keys.
    public subscript(key: MessagePackValue) -> MessagePackValue? {
        entries.last { $0.key == key }?.value
    }

    public subscript(key: String) -> MessagePackValue? {
        entries.last {
            if case .string(let s) = $0.key { return s == key }
            return false
        }?.value
    }

    /// Appends a pair (no de-duplication: the map is the wire's list of pairs).
    public mutating func append(_ key: MessagePackValue, _ value: MessagePackValue) {
        entries.append((key, value))
    }

    public func makeIterator() -> IndexingIterator<[(key: MessagePackValue, value: MessagePackValue)]> {
        entries.makeIterator()
    }

    public static func == (lhs: MessagePackMap, rhs: MessagePackMap) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        return zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}
