/// Failure reasons and how often each occurred, bounded: a reason is cut to 160 characters (keep
/// its shape, not a long id list) and at most 20 distinct reasons are kept, the rest counted as
/// "(other)" — a server answering every client differently cannot grow the report.
struct FailureTally: Sendable, Hashable {
    static let maximumReasons = 20
    static let maximumReasonLength = 160

    private(set) var counts: [String: Int] = [:]

    mutating func add(_ reason: String) {
        let key = String(reason.prefix(Self.maximumReasonLength))
        if counts[key] != nil || counts.count < Self.maximumReasons {
            counts[key, default: 0] += 1
        } else {
            counts["(other)", default: 0] += 1
        }
    }
}
