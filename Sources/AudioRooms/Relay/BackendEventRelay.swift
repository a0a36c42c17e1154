import Foundation
import Metrics

/// Delivers backend events to sockets (contract §7.2): the message arrives by `POST /internal/events`
/// (both modes) or on the Redis channel (scale-out mode), and is emitted verbatim as
/// `event(payload)` to a user, a room, a user in a room, or everyone. msab attaches no meaning to it.
public struct BackendEventRelay: Sendable {
    public struct Message: Sendable, Equatable {
        public var event: String
        public var userId: Int?
        public var roomId: Int?
        public var payload: AnyJSON
        public var correlationId: String
    }

    public enum Rejection: String, Error, Sendable {
        case malformedJSON = "malformed JSON"
        case badEvent = "event must be a non-empty string and not a reserved Socket.IO name"
        case badUserId = "user_id must be a number or null"
        case badRoomId = "room_id must be a number or null"
        case badPayload = "payload must be an object"
    }

    let outbox: any Outbox
    let directory: SessionDirectory
    /// Local sockets in a room (to skip rooms with nobody here, as the reference does).
    let roomSockets: @Sendable (String) async -> [String]

    public init(outbox: any Outbox, directory: SessionDirectory, roomSockets: @escaping @Sendable (String) async -> [String]) {
        self.outbox = outbox
        self.directory = directory
        self.roomSockets = roomSockets
    }

    /// Socket.IO reserves these names; emitting them would confuse every client.
    static let reserved: Set<String> = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]

    /// Parses a message with the reference's rules: `user_id` and `room_id` must each be a number
    /// or an explicit null; `payload` defaults to `{}`.
    public static func parse(_ data: Data) -> Result<Message, Rejection> {
        guard case .object(let object)? = try? JSONDecoder().decode(AnyJSON.self, from: data) else { return .failure(.malformedJSON) }
        guard case .string(let event)? = object["event"], !event.isEmpty, !reserved.contains(event) else { return .failure(.badEvent) }
        func id(_ key: String) -> Int?? {
            switch object[key] {
            case .null?: return .some(nil)
            case .int(let i)?: return .some(i)
            // Int(exactly:): 1e300 is an integral double no Int holds (Int(_:) would trap).
            case .double(let d)?: return Int(exactly: d).map { .some($0) }
            default: return nil
            }
        }
        guard let userId = id("user_id") else { return .failure(.badUserId) }
        guard let roomId = id("room_id") else { return .failure(.badRoomId) }
        let payload = object["payload"] ?? .object([:])
        guard case .object = payload else { return .failure(.badPayload) }
        var correlation = "unknown"
        if case .string(let c)? = object["correlation_id"] { correlation = c }
        return .success(Message(event: event, userId: userId, roomId: roomId, payload: payload, correlationId: correlation))
    }

    /// Routes a message to this node's sockets; returns how many sockets (or rooms/everyone) it
    /// went to. In a cluster every node gets each message and delivers its own share, so each
    /// target socket gets it once (the reference re-broadcast it from every node: duplicates).
    @discardableResult
    public func deliver(_ message: Message) async -> Int {
        var delivered = 0
        switch (message.userId, message.roomId) {
        case (let user?, nil):
            for socket in directory.sockets(of: user).sorted() {
                outbox.sendLocally(message.event, message.payload, to: .socket(socket))
                delivered += 1
            }
        case (nil, let room?):
            let name = String(room)
            if !(await roomSockets(name)).isEmpty {
                outbox.sendLocally(message.event, message.payload, to: .room(name, except: nil))
                delivered = 1
            }
        case (let user?, let room?):
            for socket in directory.sockets(of: user, in: String(room)) {
                outbox.sendLocally(message.event, message.payload, to: .socket(socket))
                delivered += 1
            }
        case (nil, nil):
            outbox.sendLocally(message.event, message.payload, to: .everyone)
            delivered = 1
        }
        Counter(label: "msab_backend_events_received_total", dimensions: [("delivered", delivered > 0 ? "true" : "false")]).increment()
        return delivered
    }
}
