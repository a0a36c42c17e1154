/// Who the room hears: the stage rules, in one place. A user is audible when they hold a seat
/// (unless `MSAB_SEATED_SPEAKERS_ONLY=false`), no moderator's mute stands for them, and the
/// producer's own socket has not muted itself. The rules follow the user, not the seat: the
/// moderator's mute is kept per user in `SeatMap.mutedUsers`, so leaving and retaking a seat, a
/// new producer or a reconnect cannot get around it.
///
/// The room asks `changes` whenever seats, mutes or producers change and pauses or resumes what
/// it returns (`Room.applyStage`); a producer's pause is the only thing that silences it, so the
/// rules hold whatever the client does with its own track.
struct StagePolicy: Sendable, Equatable {
    /// `MSAB_SEATED_SPEAKERS_ONLY` (default true). false: the reference's behaviour, where anyone
    /// with a producer is heard (the moderator's mute and self-mute still apply).
    var seatedSpeakersOnly: Bool

    /// One producer as the policy sees it.
    struct Speaker: Sendable, Equatable {
        var producerId: String
        var userId: Int
        var selfMuted: Bool
    }

    struct Change: Sendable, Equatable {
        var producerId: String
        var paused: Bool
    }

    func isAudible(userId: Int, selfMuted: Bool, seats: SeatMap) -> Bool {
        if selfMuted || seats.isMuted(userId) { return false }
        if seatedSpeakersOnly, seats.seatIndex(of: userId) == nil { return false }
        return true
    }

    /// The producers whose paused state differs from what the rules want, with the state they
    /// should have, in producer-id order. `applied` is the state each producer was last set to (a
    /// producer missing from it is treated as running).
    func changes(for speakers: [Speaker], seats: SeatMap, applied: [String: Bool]) -> [Change] {
        speakers.compactMap { speaker in
            let paused = !isAudible(userId: speaker.userId, selfMuted: speaker.selfMuted, seats: seats)
            return (applied[speaker.producerId] ?? false) == paused ? nil : Change(producerId: speaker.producerId, paused: paused)
        }
        .sorted { $0.producerId < $1.producerId }
    }
}
