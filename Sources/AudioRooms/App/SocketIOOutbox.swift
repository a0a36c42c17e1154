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
        recipients(target).emit(event, value)
    }

    public func sendLocally(_ event: String, _ payload: any Encodable & Sendable, to target: EmitTarget) {
        guard let value = try? JSONValue(encoding: payload) else { return }
        recipients(target).local.emit(event, value)
    }

    func recipients(_ target: EmitTarget) -> BroadcastOperator {
        switch target {
        case .socket(let id): namespace.to(id)
        case .room(let room, let except?): namespace.to(room).except(except)
        case .room(let room, nil): namespace.to(room)
        case .everyone: namespace.everyone
        }
    }

    public func join(socket: String, room: String) {
        namespace.socket(id: socket)?.join(room)
    }

    public func leave(socket: String, room: String) {
        namespace.socket(id: socket)?.leave(room)
    }
}
