import Foundation
import Logging
import MediasoupWire
import SFUServer

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

    /// This node's sockets in the room (a cluster's other nodes hold theirs; the store knows all).
    var participants: [String: Participant] = [:]
    /// The seats as last read from or written to the store, and that snapshot's version: every
    /// seat operation goes through `services.store` (atomic cluster-wide) and leaves its result
    /// here, so the stage rules and acks read them without waiting.
    var seats: SeatMap
    var seatsVersion: UInt64 = 0
    /// Profiles of members on other nodes, for seat payloads (refreshed from the store on joins).
    var memberProfiles: [Int: UserProfile] = [:]
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
    /// Cross-node pipes (issue 13 item 3, `Room+Pipes.swift`): producers of other nodes with a
    /// copy here, the imports under way, the consumers of those copies, and this node's producers
    /// sent to other nodes (producer → node → pipe id).
    var imports: [String: RemoteImport] = [:]
    var importing: [String: (node: String, task: Task<RemoteImport, any Error>)] = [:]
    var importsCancelled: Set<String> = []
    /// Pause notices that arrived while their import was under way (applied when it completes).
    var importPauses: [String: (node: String, paused: Bool)] = [:]
    var importedConsumers: [String: String] = [:]
    var exports: [String: [String: String]] = [:]
    /// Users above the level threshold, loudest first (for `speaker:active`, stand-alone).
    var activeSpeakers: [Int] = []
    /// In a cluster (`Room+Speakers.swift`): the room-wide speaker view, the report last sent to
    /// the room's other nodes (and when), its sequence number (starting at the clock, so a room
    /// opened again here continues above its previous reports), and the other nodes serving
    /// members of the room with their users, as last read from the store.
    var speakerView = RoomSpeakerView()
    var speakerShared: (levels: [RoomSpeakerView.Level], atMs: Int64)?
    var speakerSequence: UInt64 = 0
    var speakerNodes: [String: Set<Int>] = [:]
    var speakerNodesReadAtMs: Int64?
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
        self.speakerSequence = UInt64(clamping: services.now())
    }

    var outbox: any Outbox { services.outbox }
    var store: any RoomStateStore { services.store }

    public var socketIds: [String] { Array(participants.keys) }

    func sockets(of userId: Int) -> [String] {
        participants.values.filter { $0.user.id == userId }.map(\.socketId)
    }

    func profile(of userId: Int) -> UserProfile? {
        participants.values.first { $0.user.id == userId }?.user.profile ?? memberProfiles[userId]
    }

    // MARK: - seats through the store

    /// Runs a seat operation atomically in the store and keeps the seats it left; nil when the
    /// store could not be reached (the caller answers its event's error, nothing changed).
    func updateSeats<R: Sendable>(_ body: @escaping @Sendable (inout SeatMap) -> R) async -> R? {
        do {
            return try await tryUpdateSeats(body)
        } catch {
            services.logger.error("seat state unavailable", metadata: ["room": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    /// The same, for a caller that answers the failure itself.
    func tryUpdateSeats<R: Sendable>(_ body: @escaping @Sendable (inout SeatMap) -> R) async throws -> R {
        let outcome = try await store.updateSeats(room: id, seatCount: seats.seatCount, body)
        adopt(outcome.seats, version: outcome.version)
        return outcome.result
    }

    /// Keeps a snapshot unless a newer one is already here (two operations' answers may come
    /// back in either order).
    func adopt(_ snapshot: SeatMap, version: UInt64) {
        guard version >= seatsVersion else { return }
        seats = snapshot
        seatsVersion = version
    }

    /// Another node changed the seats: read them and bring this node's producers in line.
    func seatsChangedElsewhere() async {
        guard !isClosed, let loaded = try? await store.loadSeats(room: id, seatCount: seats.seatCount) else { return }
        adopt(loaded.seats, version: loaded.version)
        await applyStage()
    }

    /// Redis came back (possibly empty, a restart without persistence): this node writes its
    /// share of the room again — its members and their producers, their users' room — and, when
    /// the seats are gone from the store, the seats it last saw (the first node to do so wins;
    /// the others find them there).
    func resync() async {
        guard !isClosed else { return }
        for participant in participants.values.sorted(by: { $0.joinedAtMs < $1.joinedAtMs }) {
            let member = RoomMember(
                socketId: participant.socketId, profile: participant.user.profile, joinedAtMs: participant.joinedAtMs,
                node: services.node)
            _ = try? await store.addMember(member, room: id)
            if let producer = participant.producerId { try? await store.setProducer(producer, socket: participant.socketId, room: id) }
            try? await store.setRoom(id, ofUser: participant.user.id)
        }
        let known = seats
        guard !known.isEmpty else { return }
        _ = await updateSeats { seats in
            if seats.isEmpty { seats = known }
        }
        await applyStage()
    }

    func remember(_ members: [RoomMember]) {
        if memberProfiles.count > 4_096 { memberProfiles.removeAll() }
        for member in members where participants[member.socketId] == nil { memberProfiles[member.userId] = member.profile }
    }

    // MARK: - join / leave / disconnect

    /// `room:join` (contract §3.1 with the fixes): returns the ack. Membership, seats and the
    /// snapshot in the ack are the cluster's (the store's), not only this node's.
    func join(socket: String, user: AuthenticatedUser) async -> any Encodable & Sendable {
        guard !isClosed else { return ErrorAck("Internal error") }
        let isNewSocket = participants[socket] == nil
        let joinedAt = services.now()
        if isNewSocket {
            participants[socket] = Participant(socketId: socket, user: user, joinedAtMs: joinedAt)
        }
        emptySinceMs = nil
        outbox.join(socket: socket, room: id)
        services.directory.setRoom(id, for: socket)

        let change: MembershipChange
        let members: [RoomMember]
        let reclaimed: (seatIndex: Int, muted: Bool)?
        do {
            change = try await store.addMember(
                RoomMember(socketId: socket, profile: user.profile, joinedAtMs: joinedAt, node: services.node), room: id)
            try await store.setRoom(id, ofUser: user.id)
            // Seat retention: a speaker coming back within the grace gets their seat again.
            let userId = user.id
            reclaimed = try await tryUpdateSeats { $0.reclaim(userId).map { ($0.seatIndex, $0.muted) } }
            members = try await store.members(room: id)
        } catch {
            services.logger.error("room:join: room state unavailable", metadata: ["room": "\(id)", "error": "\(error)"])
            if isNewSocket { await undoJoin(socket: socket, user: user) }
            return ErrorAck("Internal error")
        }
        // A leave (or a disconnect) that ran while the store was answering wins.
        guard participants[socket] != nil, !isClosed else {
            _ = try? await store.removeMember(socket: socket, userId: user.id, room: id)
            return ErrorAck("Internal error")
        }
        remember(members)
        if let reclaimed {
            outbox.send(
                "seat:updated", SeatUpdatedEvent(seatIndex: reclaimed.seatIndex, user: PublicProfile(user.profile), isMuted: reclaimed.muted),
                to: .room(id, except: socket))
        }
        if change.userChanged {
            outbox.send("room:userJoined", UserJoinedEvent(userId: user.id, user: PublicProfile(user.profile)), to: .room(id, except: socket))
            services.statusPoster.post(.init(roomId: id, isLive: true, participantCount: change.participantCount, endedAt: nil))
        }
        return joinAck(for: socket, user: user, members: members)
    }

    private func undoJoin(socket: String, user: AuthenticatedUser) async {
        participants[socket] = nil
        outbox.leave(socket: socket, room: id)
        if services.directory.room(of: socket) == id { services.directory.setRoom(nil, for: socket) }
        _ = try? await store.removeMember(socket: socket, userId: user.id, room: id)
        if participants.isEmpty { emptySinceMs = services.now() }
    }

    /// The ack's snapshot: everyone else in the room (one entry per user, in join order, across
    /// nodes), the occupied and locked seats, and every producer but the joiner's own.
    func joinAck(for socket: String, user: AuthenticatedUser, members: [RoomMember]) -> RoomJoinAck {
        var seen = Set<Int>([user.id])
        var others: [PublicProfile] = []
        others.reserveCapacity(members.count)
        // A user is a speaker when any of their sockets produces (one pass, not one per member).
        var speakers = Set<Int>()
        for member in members where member.producerId != nil { speakers.insert(member.userId) }
        for member in members where seen.insert(member.userId).inserted {
            others.append(PublicProfile(member.profile, isSpeaker: speakers.contains(member.userId)))
        }
        let seatStates = seats.occupied.map { seat in
            SeatState(
                seatIndex: seat.seatIndex,
                user: PublicProfile(profile(of: seat.occupant.userId) ?? UserProfile(id: seat.occupant.userId)),
                isMuted: seat.occupant.muted)
        }
        let producers =
            members
            .filter { $0.socketId != socket }
            .compactMap { m in m.producerId.map { ProducerRef(producerId: $0, userId: m.userId) } }
            .sorted { $0.producerId < $1.producerId }
        return RoomJoinAck(
            rtpCapabilities: router.rtpCapabilities, participants: others, seats: seatStates,
            lockedSeats: seats.locked.sorted(), existingProducers: producers)
    }

    /// `room:leave`, a join elsewhere, or a disconnect (`retainSeat`): the socket's whole footprint in
    /// the room goes (fix 4): seat (unless retained), transports, producers, consumers.
    func leave(socket: String, retainSeat: Bool) async {
        guard let participant = participants.removeValue(forKey: socket) else { return }
        let userId = participant.user.id
        outbox.leave(socket: socket, room: id)
        if services.directory.room(of: socket) == id { services.directory.setRoom(nil, for: socket) }
        if participants.isEmpty { emptySinceMs = services.now() }

        // The store says whether this was the user's last socket anywhere in the room; without
        // it (Redis down), this node's own sockets decide.
        let change = try? await store.removeMember(socket: socket, userId: userId, room: id)
        let userGone = change?.userChanged ?? sockets(of: userId).isEmpty
        if userGone {
            try? await store.clearRoom(id, ofUser: userId)
            let vacated = await updateSeats(services.seatChangeForUserGone(userId, retainSeat: retainSeat)) ?? nil
            services.announceSeatCleared(vacated, room: id, except: socket)
        }
        // Media: the producer first (so listeners hear it end), then every transport (which takes
        // the consumers with it).
        if let producer = participant.producerId {
            forgetProducer(producer)
            outbox.send("audio:producerClosed", ProducerClosedEvent(producerId: producer, userId: userId), to: .room(id, except: socket))
            await router.closeProducer(producer)
            await exportedProducerClosed(producer)
        }
        for consumer in participant.consumers { consumerOwner[consumer] = nil }
        for transport in participant.transports {
            transportOwner[transport] = nil
            await router.closeTransport(transport)
        }
        if userGone {
            let count = change?.participantCount ?? Set(participants.values.map(\.user.id)).count
            services.announceUserLeft(userId, room: id, participantCount: count, except: socket)
        }
    }

    // MARK: - time

    /// Called a few times a second: invite expiry, retention grace, inactivity close.
    /// Returns true when the room has closed itself.
    func tick() async -> Bool {
        guard !isClosed else { return true }
        let now = services.now()
        // Only when something here is due: in a cluster the store is not read every tick, and the
        // node whose write wins announces each expiry once.
        if let deadline = seats.nextDeadlineMs, deadline <= now,
            let (expired, released) = await updateSeats({ seats in (seats.expireInvites(now: now), seats.releaseExpiredRetentions(now: now)) })
        {
            for invite in expired {
                outbox.send(
                    "seat:invite:pending", InvitePendingEvent(seatIndex: invite.seatIndex, isPending: false, invitedUserId: nil),
                    to: .room(id, except: nil))
            }
            for vacated in released {
                outbox.send(
                    "seat:cleared", SeatClearedEvent(seatIndex: vacated.seatIndex, userId: vacated.userId, reason: "expired"),
                    to: .room(id, except: nil))
            }
        }
        await speakerTick(now: now)
        if let since = emptySinceMs, participants.isEmpty, now - since >= Int64(services.configuration.roomInactivityTimeoutMs) {
            await close(reason: "inactivity")
            return true
        }
        return false
    }

    /// Closes the room on this node. When nobody is left anywhere, the room closes for good:
    /// everyone told, status posted, seats and members gone from the store (fix 13). When other
    /// nodes still serve members, only this node's part closes: its own sockets are told and
    /// leave (keeping their seats for the retention grace, as after a disconnect), the rest of
    /// the room carries on.
    func close(reason: String) async {
        guard !isClosed else { return }
        isClosed = true
        let closedEverywhere = (try? await store.closeRoom(id, localSockets: Set(participants.keys))) ?? false
        if !closedEverywhere {
            let event = RoomClosedEvent(roomId: id, reason: reason, timestamp: services.now())
            for socket in participants.keys.sorted() {
                outbox.send("room:closed", event, to: .socket(socket))
                await leave(socket: socket, retainSeat: true)
            }
        } else {
            outbox.send("room:closed", RoomClosedEvent(roomId: id, reason: reason, timestamp: services.now()), to: .room(id, except: nil))
            for participant in participants.values {
                outbox.leave(socket: participant.socketId, room: id)
                if services.directory.room(of: participant.socketId) == id { services.directory.setRoom(nil, for: participant.socketId) }
                try? await store.clearRoom(id, ofUser: participant.user.id)
            }
            services.statusPoster.post(
                .init(roomId: id, isLive: false, participantCount: 0, endedAt: Date(timeIntervalSince1970: Double(services.now()) / 1000)))
        }
        participants.removeAll()
        transportOwner.removeAll()
        producerOwner.removeAll()
        producerPaused.removeAll()
        consumerOwner.removeAll()
        seats = SeatMap(seatCount: seats.seatCount)
        await closeAllPipes()
        await router.close()
    }

    // MARK: - router events

    func handle(_ event: MediaRouterEvent) async {
        switch event {
        case .transportClosed(let transportId, _):
            guard let owner = transportOwner.removeValue(forKey: transportId) else { return }
            participants[owner]?.transports.removeAll { $0 == transportId }
        case .producerClosed(let producerId, _):
            await exportedProducerClosed(producerId)
            guard let owner = forgetProducer(producerId), let participant = participants[owner] else { return }
            participants[owner]?.producerId = nil
            outbox.send(
                "audio:producerClosed", ProducerClosedEvent(producerId: producerId, userId: participant.user.id), to: .room(id, except: owner))
            try? await store.setProducer(nil, socket: owner, room: id)
        case .consumerClosed(let consumerId, _):
            await importedConsumerClosed(consumerId)
            guard let owner = consumerOwner.removeValue(forKey: consumerId) else { return }
            participants[owner]?.consumers.remove(consumerId)
        case .dominantSpeaker, .audioLevels, .silence:
            await handleSpeakerEvent(event)
        }
    }
}
