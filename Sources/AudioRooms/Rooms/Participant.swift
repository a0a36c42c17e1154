/// One socket in a room, with the media it owns there (ownership is what lets the room refuse a
/// socket that touches another socket's transport, producer or consumer).
struct Participant: Sendable {
    let socketId: String
    let user: AuthenticatedUser
    let joinedAtMs: Int64
    /// Transport ids in creation order (at most `Room.maxTransportsPerSocket`).
    var transports: [String] = []
    /// The socket's audio producer (a second `audio:produce` replaces it).
    var producerId: String?
    var consumers: Set<String> = []
    /// Paused by its owner (`audio:selfMute`).
    var selfMuted = false

    var isSpeaker: Bool { producerId != nil }
}
