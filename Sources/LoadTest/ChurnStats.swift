import SocketIOParser

/// What a churn run did and what went wrong, by kind (the `churn` object of `--json`, and the
/// counters of the progress line `make soak` reads).
public struct ChurnStats: Sendable, Hashable {
    /// Joins begun and completed after the first ones settled (listeners, speakers, side rooms).
    public var joinsStarted = 0
    public var joins = 0
    public var leaves = 0
    public var seatTakes = 0
    public var seatLeaves = 0
    public var sideRooms = 0
    public var chatsSent = 0
    public var chatsEchoed = 0
    public var chatsReceived = 0
    /// Errors by kind: a failed join or ack, an `error` event, an unexpected event, a chat not
    /// echoed, a silent listener, an SRTP tag that did not verify. At most 40 kinds are kept
    /// apart; the rest count under "(other)".
    public var errors: [String: Int] = [:]

    public init() {}

    public var errorCount: Int { errors.values.reduce(0, +) }

    /// Counts one error; true when the kind is new (the runner prints new kinds at once).
    @discardableResult
    mutating func record(_ kind: String) -> Bool {
        let key = String(kind.prefix(160))
        let isNew = errors[key] == nil
        if !isNew || errors.count < 40 { errors[key, default: 0] += 1 } else { errors["(other)", default: 0] += 1 }
        return isNew && errors[key] != nil
    }

    /// `key=value` pairs for the progress line.
    var progressFields: String {
        "churn joins=\(joins) leaves=\(leaves) seat_takes=\(seatTakes) seat_leaves=\(seatLeaves) side_rooms=\(sideRooms) "
            + "chats=\(chatsSent) echoed=\(chatsEchoed) errors=\(errorCount)"
    }

    var json: JSONValue {
        [
            "joins_started": .number(Double(joinsStarted)), "joins": .number(Double(joins)), "leaves": .number(Double(leaves)),
            "seat_takes": .number(Double(seatTakes)), "seat_leaves": .number(Double(seatLeaves)),
            "side_rooms": .number(Double(sideRooms)), "chats_sent": .number(Double(chatsSent)),
            "chats_echoed": .number(Double(chatsEchoed)), "chats_received": .number(Double(chatsReceived)),
            "errors_total": .number(Double(errorCount)),
            "errors": .object(JSONObject(errors.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
        ]
    }
}
