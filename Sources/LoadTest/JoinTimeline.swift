import NIOCore

/// When each step of a participant's join first completed, in milliseconds after it started,
/// for the report's phase breakdown (``JoinMilestone``). Pure: the time is passed in.
struct JoinTimeline: Sendable {
    let startedAt: NIODeadline
    private(set) var milestones: [JoinMilestone: Double] = [:]

    init(startedAt: NIODeadline) {
        self.startedAt = startedAt
    }

    /// Records the first time `milestone` is reached; a later one is ignored.
    mutating func mark(_ milestone: JoinMilestone, at now: NIODeadline) {
        guard milestones[milestone] == nil else { return }
        milestones[milestone] = Double((now - startedAt).nanoseconds) / 1_000_000
    }
}
