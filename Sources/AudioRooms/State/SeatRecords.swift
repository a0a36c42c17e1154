import Foundation

/// A `SeatMap` as the Redis keys of contract §6.2 hold it, both ways. The seat and invite JSON is
/// the reference's (`{"userId":"<id>","muted":bool}`, `{targetUserId, invitedBy, seatIndex,
/// createdAt}`, ids as strings) with msab's additions (`retainedUntil`, `expiresAt`); what a
/// reference node wrote reads back too. Whatever Redis holds is checked like wire input: a seat
/// index outside the room or an id that is not a number is skipped, never trusted.
enum SeatRecords {
    /// Seat indexes go up to `DEFAULT_SEAT_COUNT` (≤ 15); clears sweep this many invite keys.
    static let maxSeats = 15
    /// Invites stay in Redis this long after they expire, so one node's tick sees and announces them.
    static let inviteGraceMs: Int64 = 30_000

    struct Encoded {
        var seats: [(field: String, json: String)]
        var locked: [String]
        var muted: [String]
        var invites: [(field: String, json: String, ttlMs: Int64)]
    }

    static func encode(_ map: SeatMap, now: Int64) -> Encoded {
        let seats = map.occupied.map { seat -> (String, String) in
            var json = #"{"userId":"\#(seat.occupant.userId)","muted":\#(seat.occupant.muted)"#
            if let until = seat.occupant.retainedUntilMs { json += #","retainedUntil":\#(until)"# }
            return (String(seat.seatIndex), json + "}")
        }
        let invites = map.invites.values.sorted { $0.seatIndex < $1.seatIndex }.map { invite -> (String, String, Int64) in
            let json =
                #"{"targetUserId":"\#(invite.targetUserId)","invitedBy":"\#(invite.invitedBy)","seatIndex":\#(invite.seatIndex),"createdAt":\#(invite.createdAtMs),"expiresAt":\#(invite.expiresAtMs)}"#
            let ttl = max(1, invite.expiresAtMs.subtractingReportingOverflow(now).partialValue.addingReportingOverflow(inviteGraceMs).partialValue)
            return (String(invite.seatIndex), json, ttl)
        }
        return Encoded(seats: seats, locked: map.locked.sorted().map(String.init), muted: map.mutedUsers.sorted().map(String.init), invites: invites)
    }

    /// `seats` is HGETALL's flat field/value list; `invites` the invite keys' values.
    static func decode<Value: RESPLike>(seatCount: Int, seats: [Value], locked: [Value], muted: [Value], invites: [Value]) throws -> SeatMap {
        var occupants: [Int: SeatMap.Occupant] = [:]
        var pair = 0
        while pair + 1 < seats.count {
            defer { pair += 2 }
            guard let index = seats[pair].string.flatMap({ Int($0) }), (0..<seatCount).contains(index),
                let object = jsonObject(seats[pair + 1].string), let userId = id(object["userId"])
            else { continue }
            let muted = object["muted"] as? Bool ?? false
            occupants[index] = SeatMap.Occupant(userId: userId, muted: muted, retainedUntilMs: int64(object["retainedUntil"]))
        }
        let lockedSet = Set(locked.compactMap { $0.string.flatMap { Int($0) } }.filter { (0..<seatCount).contains($0) })
        let mutedSet = Set(muted.compactMap { $0.string.flatMap { Int($0) } })
        var inviteMap: [Int: SeatMap.Invite] = [:]
        for value in invites {
            guard let object = jsonObject(value.string), let index = id(object["seatIndex"]), (0..<seatCount).contains(index),
                let target = id(object["targetUserId"]), let createdAt = int64(object["createdAt"])
            else { continue }
            let expiresAt = int64(object["expiresAt"]) ?? createdAt.addingReportingOverflow(30_000).partialValue
            inviteMap[index] = SeatMap.Invite(
                seatIndex: index, targetUserId: target, invitedBy: id(object["invitedBy"]) ?? 0,
                createdAtMs: createdAt, expiresAtMs: expiresAt)
        }
        // A user in two seats (two nodes of the reference, say) keeps the lowest one.
        var seen = Set<Int>()
        for (index, occupant) in occupants.sorted(by: { $0.key < $1.key }) where !seen.insert(occupant.userId).inserted {
            occupants[index] = nil
        }
        return SeatMap(seatCount: seatCount, seats: occupants, locked: lockedSet, invites: inviteMap, mutedUsers: mutedSet)
    }

    static func jsonObject(_ text: String?) -> [String: Any]? {
        guard let text, text.utf8.count <= 65_536 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// A user id or index written as a decimal string (the reference) or a JSON number.
    static func id(_ value: Any?) -> Int? {
        switch value {
        case let string as String: return Int(string)
        case let number as NSNumber: return Int(exactly: number.doubleValue)
        default: return nil
        }
    }

    static func int64(_ value: Any?) -> Int64? {
        switch value {
        case let number as NSNumber: return Int64(exactly: number.doubleValue)
        case let string as String: return Int64(string)
        default: return nil
        }
    }
}

/// What `SeatRecords.decode` needs of a reply element (a RESPValue in production, strings in tests).
protocol RESPLike {
    var string: String? { get }
}
