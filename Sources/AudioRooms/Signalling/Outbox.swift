/// Where the room logic sends what it has to say. The Socket.IO glue implements it (encoding each
/// payload once, however many sockets receive it); tests implement it with a recorder.
public protocol Outbox: Sendable {
    /// Emits `event` with one payload argument to `target`.
    func send(_ event: String, _ payload: any Encodable & Sendable, to target: EmitTarget)
    /// Emits to `target`'s sockets on this node only (each node of a cluster delivers its own
    /// share of a message every node received, e.g. a backend event).
    func sendLocally(_ event: String, _ payload: any Encodable & Sendable, to target: EmitTarget)
    /// Adds/removes a socket to/from a Socket.IO room (the room logic mirrors its membership there,
    /// so that broadcasts to a room reach exactly its participants).
    func join(socket: String, room: String)
    func leave(socket: String, room: String)
}

extension Outbox {
    /// One node: everything is local.
    public func sendLocally(_ event: String, _ payload: any Encodable & Sendable, to target: EmitTarget) {
        send(event, payload, to: target)
    }
}

/// The recipients of an emit.
public enum EmitTarget: Sendable, Equatable {
    /// One socket.
    case socket(String)
    /// Every socket in a room, except one (the sender) when given.
    case room(String, except: String?)
    /// Every connected socket.
    case everyone
}
