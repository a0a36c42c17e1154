/// The seat events of contract §3.9–3.18, with design.md §2's fixes: roles from the backend or the
/// signed token (never the client), moves and evictions announced with `seat:cleared`, invite
/// expiry announced, and the stage rules (`StagePolicy`) re-applied after every change. Acks are `{success}` / `{success:false, error}`.
extension Room {
    enum Authority { case owner, manager }

    /// nil when allowed, else the error string.
    func authorize(_ user: AuthenticatedUser, _ needed: Authority) async -> String? {
        switch needed {
        case .owner:
            do {
                return try await services.backend.role(of: user, in: id) == .owner ? nil : "Not authorized"
            } catch {
                return "Authorization check failed"
            }
        case .manager:
            return await services.backend.isManager(user, in: id) ? nil : "Not authorized"
        }
    }

    func announceVacated(_ vacated: SeatMap.Vacated?, reason: String? = nil, except socket: String?) {
        guard let vacated else { return }
        outbox.send(
            "seat:cleared", SeatClearedEvent(seatIndex: vacated.seatIndex, userId: vacated.userId, reason: reason), to: .room(id, except: socket))
    }

    func seatProfile(_ userId: Int) -> PublicProfile {
        PublicProfile(profile(of: userId) ?? UserProfile(id: userId))
    }

    /// `seat:take`: the user's producers are heard from now on (unless muted).
    func takeSeat(socket: String, user: AuthenticatedUser, seatIndex: Int) async -> SeatAck {
        let userId = user.id
        return await changeSeats(
            { $0.take(seatIndex, by: userId) },
            announce: { taken in
                announceVacated(taken.vacated, except: socket)
                outbox.send(
                    "seat:updated", SeatUpdatedEvent(seatIndex: seatIndex, user: PublicProfile(user.profile), isMuted: taken.muted),
                    to: .room(id, except: socket))
                await applyStage()
            })
    }

    /// `seat:leave`: the user is no longer heard (with the seated-speakers-only rule).
    func leaveSeat(socket: String, user: AuthenticatedUser) async -> SeatAck {
        let userId = user.id
        return await changeSeats(
            { $0.leave(userId) },
            announce: { vacated in
                announceVacated(vacated, except: socket)
                await applyStage()
            })
    }

    /// `seat:assign` (owner).
    func assignSeat(socket: String, user: AuthenticatedUser, target: Int, seatIndex: Int) async -> SeatAck {
        if let denied = await authorize(user, .owner) { return .failed(denied) }
        guard !isClosed else { return .failed("Not in room") }
        return await changeSeats(
            { $0.assign(seatIndex, to: target) },
            announce: { assigned in
                // The evicted occupant is told (the reference evicted silently), then the mover's old seat.
                announceVacated(assigned.evicted, reason: "removed", except: nil)
                announceVacated(assigned.vacated, except: nil)
                outbox.send(
                    "seat:updated", SeatUpdatedEvent(seatIndex: seatIndex, user: seatProfile(target), isMuted: assigned.muted),
                    to: .room(id, except: socket))
                await applyStage()
            })
    }

    /// `seat:remove` (owner): the removed speaker's audio stops before the ack.
    func removeFromSeat(socket: String, user: AuthenticatedUser, target: Int) async -> SeatAck {
        if let denied = await authorize(user, .owner) { return .failed(denied) }
        return await changeSeats(
            { $0.leave(target) },
            announce: { vacated in
                announceVacated(vacated, reason: "removed", except: socket)
                await applyStage()
            })
    }

    /// `seat:mute` / `seat:unmute` (manager): the target's producer is paused on the server.
    func setSeatMuted(socket: String, user: AuthenticatedUser, target: Int, muted: Bool) async -> SeatAck {
        if let denied = await authorize(user, .manager) { return .failed(denied) }
        return await changeSeats(
            { $0.setMuted(target, muted) },
            announce: { _ in
                await applyStage()
                outbox.send("seat:userMuted", SeatUserMutedEvent(userId: target, isMuted: muted, selfMuted: nil), to: .room(id, except: nil))
            })
    }

    /// `seat:lock` (manager): an occupant is removed first, and is no longer heard.
    func lockSeat(socket: String, user: AuthenticatedUser, seatIndex: Int) async -> SeatAck {
        if let denied = await authorize(user, .manager) { return .failed(denied) }
        return await changeSeats(
            { $0.lock(seatIndex) },
            announce: { evicted in
                announceVacated(evicted, reason: "locked", except: nil)
                outbox.send("seat:locked", SeatLockedEvent(seatIndex: seatIndex, isLocked: true), to: .room(id, except: nil))
                await applyStage()
            })
    }

    /// `seat:unlock` (manager).
    func unlockSeat(socket: String, user: AuthenticatedUser, seatIndex: Int) async -> SeatAck {
        if let denied = await authorize(user, .manager) { return .failed(denied) }
        return await changeSeats(
            { $0.unlock(seatIndex) },
            announce: { _ in
                outbox.send("seat:locked", SeatLockedEvent(seatIndex: seatIndex, isLocked: false), to: .room(id, except: nil))
            })
    }

    /// `seat:invite` (manager, not oneself): the room sees the pending invite, the invitee's
    /// sockets (wherever they are) get `seat:invite:received`.
    func invite(socket: String, user: AuthenticatedUser, target: Int, seatIndex: Int) async -> SeatAck {
        guard target != user.id else { return .failed("Cannot invite yourself") }
        if let denied = await authorize(user, .manager) { return .failed(denied) }
        let ttl = Int64(services.configuration.inviteTTLMs)
        let (inviter, now) = (user.id, services.now())
        return await changeSeats(
            { $0.invite(seatIndex, target: target, by: inviter, now: now, ttlMs: ttl) },
            announce: { invite in
                outbox.send(
                    "seat:invite:pending", InvitePendingEvent(seatIndex: seatIndex, isPending: true, invitedUserId: target),
                    to: .room(id, except: nil))
                let received = InviteReceivedEvent(
                    seatIndex: seatIndex, invitedBy: .init(id: user.id, name: user.profile.name),
                    expiresAt: invite.expiresAtMs, targetUserId: target, roomId: id)
                let targetSockets = (try? await store.sockets(ofUser: target)) ?? services.directory.sockets(of: target)
                for targetSocket in targetSockets.sorted() {
                    outbox.send("seat:invite:received", received, to: .socket(targetSocket))
                }
            })
    }

    /// `seat:invite:accept`: consumes the invite, unlocks a locked seat, takes it — one atomic
    /// step, so no other change can slip between them.
    func acceptInvite(socket: String, user: AuthenticatedUser, seatIndex: Int?) async -> SeatAck {
        let (userId, now) = (user.id, services.now())
        let outcome = await updateSeats {
            seats -> Result<(invite: SeatMap.Invite, unlocked: Bool, taken: Result<SeatMap.Taken, SeatMap.TakeError>), SeatMap.InviteAnswerError> in
            seats.takeInvite(for: userId, seatIndex: seatIndex, now: now).map { invite in
                var unlocked = false
                if seats.locked.contains(invite.seatIndex), case .success = seats.unlock(invite.seatIndex) { unlocked = true }
                return (invite, unlocked, seats.take(invite.seatIndex, by: userId))
            }
        }
        let accepted: (invite: SeatMap.Invite, unlocked: Bool, taken: Result<SeatMap.Taken, SeatMap.TakeError>)
        switch outcome {
        case nil: return .failed(Self.storeFailure)
        case .failure(let error)?: return .failed(error.rawValue)
        case .success(let found)?: accepted = found
        }
        let index = accepted.invite.seatIndex
        outbox.send("seat:invite:pending", InvitePendingEvent(seatIndex: index, isPending: false, invitedUserId: nil), to: .room(id, except: nil))
        if accepted.unlocked {
            outbox.send("seat:locked", SeatLockedEvent(seatIndex: index, isLocked: false), to: .room(id, except: nil))
        }
        switch accepted.taken {
        case .failure(let error):
            return .failed(error.rawValue)
        case .success(let taken):
            announceVacated(taken.vacated, except: nil)
            outbox.send(
                "seat:updated", SeatUpdatedEvent(seatIndex: index, user: PublicProfile(user.profile), isMuted: taken.muted),
                to: .room(id, except: nil))
            await applyStage()
            return .ok
        }
    }

    /// `seat:invite:decline`.
    func declineInvite(socket: String, user: AuthenticatedUser, seatIndex: Int?) async -> SeatAck {
        let (userId, now) = (user.id, services.now())
        return await changeSeats(
            { $0.takeInvite(for: userId, seatIndex: seatIndex, now: now) },
            announce: { invite in
                outbox.send(
                    "seat:invite:pending", InvitePendingEvent(seatIndex: invite.seatIndex, isPending: false, invitedUserId: nil),
                    to: .room(id, except: nil))
            })
    }

    /// Runs one seat operation on the shared seat map and answers the event: the store
    /// unreachable (``storeFailure``), the operation refused (its error's text), or done:
    /// `announce` tells the room what changed, then `.ok`.
    func changeSeats<Value: Sendable, Refusal: Error & Sendable & RawRepresentable<String>>(
        _ operation: @escaping @Sendable (inout SeatMap) -> Result<Value, Refusal>, announce: (Value) async -> Void
    ) async -> SeatAck {
        switch await updateSeats(operation) {
        case nil: return .failed(Self.storeFailure)
        case .failure(let error)?: return .failed(error.rawValue)
        case .success(let value)?:
            await announce(value)
            return .ok
        }
    }

    /// The seat events' answer when the shared state cannot be reached (contract §3.8).
    static let storeFailure = "Internal server error"
}
