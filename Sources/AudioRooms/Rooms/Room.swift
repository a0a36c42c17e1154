import Foundation
import Logging
import MediasoupWire

/// One audio room: its participants, its seats and its router. An actor, so every change to a
/// room is serialized (two users racing for a seat: exactly one wins), and it re-checks its state
/// after every `await` (the media plane and the backend are awaited).
///
/// Events are told to the room by the handlers (one method per client event, returning the ack)
/// and by its router (`handle(_ event:)`); time comes from `services.now` and `tick(now:)`.
public actor Room {
    public static let maxTransportsPerSocket = 2

    public nonisolated let id: String
    let services: RoomServices
    let router: any RoomRouter

    var participants: [String: Participant] = [:]
    var seats: SeatMap
    /// Owner indexes, so media events and checks find the owning socket in O(1).
    var transportOwner: [String: String] = [:]
    var producerOwner: [String: String] = [:]
    var consumerOwner: [String: String] = [:]
    /// The stage rules (who is heard) and the paused state each producer was last set to by them;
    /// `stageInFlight` holds the producers whose pause/resume is being awaited (one at a time
    /// each, so two changes cannot reach the SFU out of order).
    let stage: StagePolicy
    var producerPaused: [String: Bool] = [:]
    var stageInFlight: Set<String> = []
    /// Users above the level threshold, loudest first (for `speaker:active`).
    var activeSpeakers: [Int] = []
    /// When the last participant left (nil while anyone is in); drives the inactivity close.
    var emptySinceMs: Int64?
    public private(set) var isClosed = false

    init(id: String, router: any RoomRouter, services: RoomServices) {
        self.id = id
        self.router = router
        self.services = services
        self.seats = SeatMap(seatCount: services.configuration.defaultSeatCount)
        self.stage = StagePolicy(seatedSpeakersOnly: services.configuration.seatedSpeakersOnly)
        self.emptySinceMs = services.now()
    }

    var outbox: any Outbox { services.outbox }

    /// Distinct users in the room (design.md §2 fix 3: exact, re-joins and second devices do not count twice).
    public var participantCount: Int { Set(participants.values.map(\.user.id)).count }

    public var socketIds: [String] { Array(participants.keys) }

    func sockets(of userId: Int) -> [String] {
        participants.values.filter { $0.user.id == userId }.map(\.socketId)
    }

    func profile(of userId: Int) -> UserProfile? {
        participants.values.first { $0.user.id == userId }?.user.profile
    }

    // MARK: - join / leave / disconnect

    /// `room:join` (contract §3.1 with the fixes): returns the ack.
    func join(socket: String, user: AuthenticatedUser) -> any Encodable & Sendable {
        guard !isClosed else { return ErrorAck("Internal error") }
        let isNewSocket = participants[socket] == nil
        let isNewUser = sockets(of: user.id).isEmpty
        if isNewSocket {
            participants[socket] = Participant(socketId: socket, user: user, joinedAtMs: services.now())
        }
        emptySinceMs = nil
        outbox.join(socket: socket, room: id)
        services.directory.setRoom(id, for: socket)

        // Seat retention: a speaker coming back within the grace gets their seat again.
        if let reclaimed = seats.reclaim(user.id) {
            outbox.send("seat:updated", SeatUpdatedEvent(seatIndex: reclaimed.seatIndex, user: PublicProfile(user.profile), isMuted: reclaimed.muted),
                        to: .room(id, except: socket))
        }
        if isNewUser {
            outbox.send("room:userJoined", UserJoinedEvent(userId: user.id, user: PublicProfile(user.profile)), to: .room(id, except: socket))
            services.statusPoster.post(.init(roomId: id, isLive: true, participantCount: participantCount, endedAt: nil))
        }
        return joinAck(for: socket, user: user)
    }

    func joinAck(for socket: String, user: AuthenticatedUser) -> RoomJoinAck {
        var seen = Set<Int>([user.id])
        var others: [PublicProfile] = []
        for participant in participants.values.sorted(by: { $0.joinedAtMs < $1.joinedAtMs }) where seen.insert(participant.user.id).inserted {
            let speaking = participants.values.contains { $0.user.id == participant.user.id && $0.isSpeaker }
            others.append(PublicProfile(participant.user.profile, isSpeaker: speaking))
        }
        let seatStates = seats.occupied.map { seat in
            SeatState(seatIndex: seat.seatIndex,
                      user: PublicProfile(profile(of: seat.occupant.userId) ?? UserProfile(id: seat.occupant.userId)),
                      isMuted: seat.occupant.muted)
        }
        let producers = participants.values
            .filter { $0.socketId != socket }
            .compactMap { p in p.producerId.map { ProducerRef(producerId: $0, userId: p.user.id) } }
            .sorted { $0.producerId < $1.producerId }
        return RoomJoinAck(rtpCapabilities: router.rtpCapabilities, participants: others, seats: seatStates,
                           lockedSeats: seats.locked.sorted(), existingProducers: producers)
    }

    /// `room:leave`, a join elsewhere, or a disconnect (`retainSeat`): the socket's whole footprint in
    /// the room goes (fix 4): seat (unless retained), transports, producers, consumers.
    func leave(socket: String, retainSeat: Bool) async {
        guard let participant = participants.removeValue(forKey: socket) else { return }
        let userId = participant.user.id
        let userStillHere = !sockets(of: userId).isEmpty
        outbox.leave(socket: socket, room: id)
        if services.directory.room(of: socket) == id { services.directory.setRoom(nil, for: socket) }

        if !userStillHere {
            if retainSeat, services.configuration.seatRetentionMs > 0 {
                _ = seats.retain(userId, until: services.now() + Int64(services.configuration.seatRetentionMs))
            } else if case .success(let vacated) = seats.leave(userId) {
                outbox.send("seat:cleared", SeatClearedEvent(seatIndex: vacated.seatIndex, userId: userId, reason: nil), to: .room(id, except: socket))
            }
        }
        // Media: the producer first (so listeners hear it end), then every transport (which takes
        // the consumers with it).
        if let producer = participant.producerId {
            forgetProducer(producer)
            outbox.send("audio:producerClosed", ProducerClosedEvent(producerId: producer, userId: userId), to: .room(id, except: socket))
            await router.closeProducer(producer)
        }
        for consumer in participant.consumers { consumerOwner[consumer] = nil }
        for transport in participant.transports {
            transportOwner[transport] = nil
            await router.closeTransport(transport)
        }
        if !userStillHere {
            outbox.send("room:userLeft", UserIdEvent(userId: userId), to: .room(id, except: socket))
            services.statusPoster.post(.init(roomId: id, isLive: participantCount > 0, participantCount: participantCount, endedAt: nil))
        }
        if participants.isEmpty { emptySinceMs = services.now() }
    }

    // MARK: - time

    /// Called a few times a second: invite expiry, retention grace, inactivity close.
    /// Returns true when the room has closed itself.
    func tick() async -> Bool {
        guard !isClosed else { return true }
        let now = services.now()
        for invite in seats.expireInvites(now: now) {
            outbox.send("seat:invite:pending", InvitePendingEvent(seatIndex: invite.seatIndex, isPending: false, invitedUserId: nil), to: .room(id, except: nil))
        }
        for vacated in seats.releaseExpiredRetentions(now: now) {
            outbox.send("seat:cleared", SeatClearedEvent(seatIndex: vacated.seatIndex, userId: vacated.userId, reason: "expired"), to: .room(id, except: nil))
        }
        if let since = emptySinceMs, participants.isEmpty, now - since >= Int64(services.configuration.roomInactivityTimeoutMs) {
            await close(reason: "inactivity")
            return true
        }
        return false
    }

    /// Closes the room: everyone told, status posted, router and seats gone (fix 13).
    func close(reason: String) async {
        guard !isClosed else { return }
        isClosed = true
        outbox.send("room:closed", RoomClosedEvent(roomId: id, reason: reason, timestamp: services.now()), to: .room(id, except: nil))
        for socket in participants.keys {
            outbox.leave(socket: socket, room: id)
            if services.directory.room(of: socket) == id { services.directory.setRoom(nil, for: socket) }
        }
        participants.removeAll()
        transportOwner.removeAll()
        producerOwner.removeAll()
        producerPaused.removeAll()
        consumerOwner.removeAll()
        seats = SeatMap(seatCount: seats.seatCount)
        services.statusPoster.post(.init(roomId: id, isLive: false, participantCount: 0, endedAt: Date(timeIntervalSince1970: Double(services.now()) / 1000)))
        await router.close()
    }

    // MARK: - router events

    func handle(_ event: RoomMediaEvent) async {
        switch event {
        case .transportClosed(let transportId, _):
            guard let owner = transportOwner.removeValue(forKey: transportId) else { return }
            participants[owner]?.transports.removeAll { $0 == transportId }
        case .producerClosed(let producerId, _):
            guard let owner = forgetProducer(producerId), let participant = participants[owner] else { return }
            participants[owner]?.producerId = nil
            outbox.send("audio:producerClosed", ProducerClosedEvent(producerId: producerId, userId: participant.user.id), to: .room(id, except: owner))
        case .consumerClosed(let consumerId, _):
            guard let owner = consumerOwner.removeValue(forKey: consumerId) else { return }
            participants[owner]?.consumers.remove(consumerId)
        case .dominantSpeaker(let producerId, let volume):
            guard let owner = producerOwner[producerId], let participant = participants[owner] else { return }
            outbox.send("speaker:active", SpeakerActiveEvent(userId: participant.user.id, volume: volume, timestamp: services.now(),
                                                             activeSpeakers: activeSpeakers.isEmpty ? [participant.user.id] : activeSpeakers),
                        to: .room(id, except: nil))
        case .audioLevels(let levels):
            var users: [Int] = []
            for level in levels {
                if let owner = producerOwner[level.producerId], let user = participants[owner]?.user.id, !users.contains(user) { users.append(user) }
            }
            if users != activeSpeakers {
                activeSpeakers = users
                if let loudest = levels.first, let owner = producerOwner[loudest.producerId], let user = participants[owner]?.user.id {
                    outbox.send("speaker:active", SpeakerActiveEvent(userId: user, volume: loudest.volume, timestamp: services.now(), activeSpeakers: users),
                                to: .room(id, except: nil))
                }
            }
        case .silence:
            activeSpeakers = []
        }
    }
}
