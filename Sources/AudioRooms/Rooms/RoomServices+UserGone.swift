/// What happens when a user's last socket has left a room, wherever that is noticed: on the
/// user's own node (``Room/leave(socket:retainSeat:)``) or, for a node that died, on the node
/// that evicts its members (``ClusterNode/evict(_:from:)``). The two differ in how they reach the
/// seats (the room's own copy, or the store alone) and in the media they close; the seat rule and
/// the announcements are these.
extension RoomServices {
    /// The seat change for `userId` gone: kept for the retention grace when `retainSeat` and a
    /// grace is configured (`MSAB_SEAT_RETENTION_MS`), else vacated. The vacated seat, if any, is
    /// what `seat:cleared` announces.
    func seatChangeForUserGone(_ userId: Int, retainSeat: Bool) -> @Sendable (inout SeatMap) -> SeatMap.Vacated? {
        let retention = Int64(configuration.seatRetentionMs)
        if retainSeat, retention > 0 {
            let until = now() + retention
            return { seats in
                _ = seats.retain(userId, until: until)
                return nil
            }
        }
        return { seats in try? seats.leave(userId).get() }
    }

    /// `seat:cleared` for the seat the user's departure vacated (nothing when kept or not seated).
    func announceSeatCleared(_ vacated: SeatMap.Vacated?, room: String, except socket: String?) {
        guard let vacated else { return }
        outbox.send(
            "seat:cleared", SeatClearedEvent(seatIndex: vacated.seatIndex, userId: vacated.userId, reason: nil), to: .room(room, except: socket))
    }

    /// `room:userLeft`, and the room's status for the backend (live while anyone is in it).
    func announceUserLeft(_ userId: Int, room: String, participantCount: Int, except socket: String?) {
        outbox.send("room:userLeft", UserIdEvent(userId: userId), to: .room(room, except: socket))
        statusPoster.post(.init(roomId: room, isLive: participantCount > 0, participantCount: participantCount, endedAt: nil))
    }
}
