import Foundation
import SocketIO
import SocketIOParser

/// The rooms' `Outbox` on a Socket.IO namespace: each payload is encoded once, and a room
/// broadcast writes the same packet to every recipient (style.md R7).
public struct SocketIOOutbox: Outbox {
    let namespace: Namespace

    public init(namespace: Namespace) {
        self.namespace = namespace
    }

    public func send(_ event: String, _ payload: any Encodable & Sendable, to target: EmitTarget) {
        guard let value = try? JSONValue(encoding: payload) else { return }
        switch target {
        case .socket(let id):
            namespace.to(id).emit(event, value)
        case .room(let room, let except):
            if let except {
                namespace.to(room).except(except).emit(event, value)
            } else {
                namespace.to(room).emit(event, value)
            }
        case .everyone:
            namespace.emit(event, value)
        }
    }

    public func join(socket: String, room: String) {
        namespace.socket(id: socket)?.join(room)
    }

    public func leave(socket: String, room: String) {
        namespace.socket(id: socket)?.leave(room)
    }
}
