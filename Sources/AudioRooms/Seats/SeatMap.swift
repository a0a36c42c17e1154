/// The seats of one room: who sits where, which seats are locked, the pending invites and the
/// seats held for speakers whose connection dropped. A value type with the rules of contract
/// §3.9–3.18 (the reference's Lua scripts) and the fixes of design.md §2; the stores wrap it so
/// that each operation is atomic, and it is told the time.
///
/// Every mutating operation returns what changed, so the caller can broadcast exactly that
/// (including the vacated seat of a move, which the reference never announced).
public struct SeatMap: Sendable, Equatable {
    public struct Occupant: Sendable, Equatable {
        public var userId: Int
        public var muted: Bool
        /// Set while the occupant's connection is gone: the seat is theirs until then (seat retention).
        public var retainedUntilMs: Int64?

        public init(userId: Int, muted: Bool, retainedUntilMs: Int64? = nil) {
            self.userId = userId
            self.muted = muted
            self.retainedUntilMs = retainedUntilMs
        }
    }

    public struct Invite: Sendable, Equatable {
        public var seatIndex: Int
        public var targetUserId: Int
        public var invitedBy: Int
        public var createdAtMs: Int64
        public var expiresAtMs: Int64

        public init(seatIndex: Int, targetUserId: Int, invitedBy: Int, createdAtMs: Int64, expiresAtMs: Int64) {
            self.seatIndex = seatIndex
            self.targetUserId = targetUserId
            self.invitedBy = invitedBy
            self.createdAtMs = createdAtMs
            self.expiresAtMs = expiresAtMs
        }
    }

    /// A seat that a user left behind when they moved or were moved (for `seat:cleared`).
    public struct Vacated: Sendable, Equatable {
        public var seatIndex: Int
        public var userId: Int
    }

    public let seatCount: Int
    public private(set) var seats: [Int: Occupant] = [:]
    public private(set) var locked: Set<Int> = []
    public private(set) var invites: [Int: Invite] = [:]
    /// Users a moderator muted (`seat:mute`) and has not unmuted. The mute follows the user, not
    /// the seat: leaving, retaking or being moved to another seat, or reconnecting, does not lift
    /// it; only `seat:unmute` does (or the room closing). Bounded by `maxRememberedMutes`.
    public private(set) var mutedUsers: Set<Int> = []
    /// More moderator mutes than any room needs; past it the mutes of users not seated are
    /// forgotten (a moderator can mute them again when they take a seat).
    public static let maxRememberedMutes = 1_024

    public init(seatCount: Int) {
        self.seatCount = seatCount
    }

    /// A map read back from a store (the store checked indexes and counts).
    public init(seatCount: Int, seats: [Int: Occupant], locked: Set<Int>, invites: [Int: Invite], mutedUsers: Set<Int>) {
        self.seatCount = seatCount
        self.seats = seats
        self.locked = locked
        self.invites = invites
        self.mutedUsers = mutedUsers
    }

    public var isEmpty: Bool { seats.isEmpty && locked.isEmpty && invites.isEmpty && mutedUsers.isEmpty }

    public func seatIndex(of userId: Int) -> Int? {
        seats.first { $0.value.userId == userId }?.key
    }

    /// Occupied seats in index order.
    public var occupied: [(seatIndex: Int, occupant: Occupant)] {
        seats.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    // MARK: - take / leave / assign / remove

    public enum TakeError: String, Error, Sendable {
        case invalidSeatIndex = "Invalid seat index"
        case locked = "Seat is locked"
        case taken = "Seat is already taken"
    }

    public struct Taken: Sendable, Equatable {
        public var seatIndex: Int
        public var muted: Bool
        /// The user's previous seat, if they moved.
        public var vacated: Vacated?
    }

    /// `seat:take` (and the seat half of `seat:invite:accept`). A muted user stays muted when
    /// moving or leaving and coming back: seats must not be a way around a moderator's mute.
    public mutating func take(_ seatIndex: Int, by userId: Int) -> Result<Taken, TakeError> {
        guard (0..<seatCount).contains(seatIndex) else { return .failure(.invalidSeatIndex) }
        guard !locked.contains(seatIndex) else { return .failure(.locked) }
        guard seats[seatIndex] == nil else { return .failure(.taken) }
        let previous = removeUser(userId)
        let muted = isMuted(userId)
        seats[seatIndex] = Occupant(userId: userId, muted: muted)
        return .success(
            Taken(
                seatIndex: seatIndex, muted: muted,
                vacated: previous.map { Vacated(seatIndex: $0.seatIndex, userId: userId) }))
    }

    public enum NotSeated: String, Error, Sendable {
        /// The reference's string for both `seat:leave` and `seat:remove` (sic).
        case youAreNotSeated = "You are not seated"
        /// The string of `seat:mute` / `seat:unmute`.
        case userIsNotSeated = "User is not seated"
    }

    /// `seat:leave`, `seat:remove`, `room:leave` and the end of a retention grace.
    public mutating func leave(_ userId: Int) -> Result<Vacated, NotSeated> {
        guard let removed = removeUser(userId) else { return .failure(.youAreNotSeated) }
        return .success(Vacated(seatIndex: removed.seatIndex, userId: userId))
    }

    public enum AssignError: String, Error, Sendable {
        case invalidSeatIndex = "Invalid seat index"
        case locked = "Seat is locked"
    }

    public struct Assigned: Sendable, Equatable {
        public var seatIndex: Int
        public var muted: Bool
        /// Whoever sat there before (told, unlike in the reference).
        public var evicted: Vacated?
        /// The target's previous seat, if they moved.
        public var vacated: Vacated?
    }

    /// `seat:assign` (owner only; checked by the caller).
    public mutating func assign(_ seatIndex: Int, to userId: Int) -> Result<Assigned, AssignError> {
        guard (0..<seatCount).contains(seatIndex) else { return .failure(.invalidSeatIndex) }
        guard !locked.contains(seatIndex) else { return .failure(.locked) }
        if let current = seats[seatIndex], current.userId == userId {
            return .success(Assigned(seatIndex: seatIndex, muted: current.muted, evicted: nil, vacated: nil))
        }
        let evicted = seats.removeValue(forKey: seatIndex).map { Vacated(seatIndex: seatIndex, userId: $0.userId) }
        let previous = removeUser(userId)
        let muted = isMuted(userId)
        seats[seatIndex] = Occupant(userId: userId, muted: muted)
        return .success(
            Assigned(
                seatIndex: seatIndex, muted: muted, evicted: evicted,
                vacated: previous.map { Vacated(seatIndex: $0.seatIndex, userId: userId) }))
    }

    // MARK: - mute

    /// `seat:mute` / `seat:unmute` (the target must be seated, as in the reference): returns the
    /// target's seat index. The mute is remembered for the user, not the seat.
    public mutating func setMuted(_ userId: Int, _ muted: Bool) -> Result<Int, NotSeated> {
        guard let index = seatIndex(of: userId) else { return .failure(.userIsNotSeated) }
        seats[index]?.muted = muted
        if muted {
            mutedUsers.insert(userId)
            forgetExcessMutes()
        } else {
            mutedUsers.remove(userId)
        }
        return .success(index)
    }

    /// Whether a moderator's mute stands for the user (seated or not).
    public func isMuted(_ userId: Int) -> Bool { mutedUsers.contains(userId) }

    private mutating func forgetExcessMutes() {
        guard mutedUsers.count > Self.maxRememberedMutes else { return }
        let seated = Set(seats.values.map(\.userId))
        for user in mutedUsers.sorted() where !seated.contains(user) {
            mutedUsers.remove(user)
            if mutedUsers.count <= Self.maxRememberedMutes { break }
        }
    }

    // MARK: - lock / unlock

    public enum LockError: String, Error, Sendable {
        case invalidSeatIndex = "Invalid seat index"
        case alreadyLocked = "Seat is already locked"
        case notLocked = "Seat is not locked"
    }

    /// `seat:lock`: returns the occupant it removed, if any. A pending invite stays (as in the
    /// reference: accepting it unlocks the seat).
    public mutating func lock(_ seatIndex: Int) -> Result<Vacated?, LockError> {
        guard (0..<seatCount).contains(seatIndex) else { return .failure(.invalidSeatIndex) }
        guard !locked.contains(seatIndex) else { return .failure(.alreadyLocked) }
        let evicted = seats.removeValue(forKey: seatIndex).map { Vacated(seatIndex: seatIndex, userId: $0.userId) }
        locked.insert(seatIndex)
        return .success(evicted)
    }

    public mutating func unlock(_ seatIndex: Int) -> Result<Void, LockError> {
        guard (0..<seatCount).contains(seatIndex) else { return .failure(.invalidSeatIndex) }
        guard locked.remove(seatIndex) != nil else { return .failure(.notLocked) }
        return .success(())
    }

    // MARK: - invites

    public enum InviteError: String, Error, Sendable {
        case invalidSeatIndex = "Invalid seat index"
        case occupied = "Seat is already occupied"
        case pending = "Invite already pending for this seat"
    }

    /// `seat:invite` (manager only, not self; checked by the caller). Locked seats are invitable.
    public mutating func invite(_ seatIndex: Int, target: Int, by inviter: Int, now: Int64, ttlMs: Int64) -> Result<Invite, InviteError> {
        guard (0..<seatCount).contains(seatIndex) else { return .failure(.invalidSeatIndex) }
        guard seats[seatIndex] == nil else { return .failure(.occupied) }
        if let existing = invites[seatIndex], existing.expiresAtMs > now { return .failure(.pending) }
        let invite = Invite(seatIndex: seatIndex, targetUserId: target, invitedBy: inviter, createdAtMs: now, expiresAtMs: now + ttlMs)
        invites[seatIndex] = invite
        return .success(invite)
    }

    public enum InviteAnswerError: String, Error, Sendable {
        case noPendingInvite = "No pending invite found"
    }

    /// Removes and returns the user's live invite: the one on `seatIndex` if given (it must be
    /// theirs), else their first by seat index (the reference SCANs).
    public mutating func takeInvite(for userId: Int, seatIndex: Int?, now: Int64) -> Result<Invite, InviteAnswerError> {
        let candidate: Invite?
        if let seatIndex {
            candidate = invites[seatIndex]
        } else {
            candidate = invites.values.filter { $0.targetUserId == userId && $0.expiresAtMs > now }.min { $0.seatIndex < $1.seatIndex }
        }
        guard let invite = candidate, invite.targetUserId == userId, invite.expiresAtMs > now else {
            return .failure(.noPendingInvite)
        }
        invites.removeValue(forKey: invite.seatIndex)
        return .success(invite)
    }

    /// Removes and returns every invite that has expired by `now` (for `seat:invite:pending {isPending:false}`).
    public mutating func expireInvites(now: Int64) -> [Invite] {
        let expired = invites.values.filter { $0.expiresAtMs <= now }.sorted { $0.seatIndex < $1.seatIndex }
        for invite in expired { invites.removeValue(forKey: invite.seatIndex) }
        return expired
    }

    /// The earliest time something here expires on its own (invites, retained seats); nil if nothing will.
    public var nextDeadlineMs: Int64? {
        let inviteDeadline = invites.values.map(\.expiresAtMs).min()
        let retainDeadline = seats.values.compactMap(\.retainedUntilMs).min()
        switch (inviteDeadline, retainDeadline) {
        case (nil, nil): return nil
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return min(a, b)
        }
    }

    // MARK: - retention across reconnects

    /// The user's connection dropped: keep their seat until `until`. Returns the seat index, if seated.
    public mutating func retain(_ userId: Int, until: Int64) -> Int? {
        guard let index = seatIndex(of: userId) else { return nil }
        seats[index]?.retainedUntilMs = until
        return index
    }

    /// The user is back: their retained seat is theirs again. Returns the seat, if one was retained.
    public mutating func reclaim(_ userId: Int) -> (seatIndex: Int, muted: Bool)? {
        guard let index = seatIndex(of: userId), let occupant = seats[index], occupant.retainedUntilMs != nil else { return nil }
        seats[index]?.retainedUntilMs = nil
        return (index, occupant.muted)
    }

    /// Releases every retained seat whose grace is over.
    public mutating func releaseExpiredRetentions(now: Int64) -> [Vacated] {
        let expired = seats.filter { ($0.value.retainedUntilMs ?? .max) <= now }.sorted { $0.key < $1.key }
        for (index, _) in expired { seats.removeValue(forKey: index) }
        return expired.map { Vacated(seatIndex: $0.key, userId: $0.value.userId) }
    }

    // MARK: - private

    private mutating func removeUser(_ userId: Int) -> (seatIndex: Int, occupant: Occupant)? {
        guard let index = seatIndex(of: userId), let occupant = seats.removeValue(forKey: index) else { return nil }
        return (index, occupant)
    }
}
