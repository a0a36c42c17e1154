public import SocketIOParser
import EngineIO

/// An immutable broadcast target (socket.io's `BroadcastOperator`): `to` and `except` return new
/// operators; `emit` encodes the packet ONCE and hands the same messages to every recipient.
public struct BroadcastOperator: Sendable {
    let namespace: Namespace
    let rooms: Set<String>
    let except: Set<String>

    public func to(_ room: String) -> BroadcastOperator {
        BroadcastOperator(namespace: namespace, rooms: rooms.union([room]), except: except)
    }

    /// Excludes a room, or a single socket (its id is a room).
    public func except(_ room: String) -> BroadcastOperator {
        BroadcastOperator(namespace: namespace, rooms: rooms, except: except.union([room]))
    }

    public func emit(_ event: String, _ args: JSONValue...) {
        emit(event, args: args)
    }

    public func emit(_ event: String, args: [JSONValue]) {
        let packet = SocketIOPacket(type: .event, namespace: namespace.name, data: .array([.string(event)] + args))
        let (text, attachments) = SocketIOCodec.encode(packet)
        let messages: [EngineMessage] = [.text(text)] + attachments.map { .binary($0) }
        let targets = namespace.adapter.sockets(in: rooms, except: except)
        let sockets = namespace.sockets(ids: targets)
        for socket in sockets {
            if messages.count == 1 { socket.connection.send(messages[0]) } else { socket.connection.send(contentsOf: messages) }
        }
        namespace.countOut(sockets.count)
    }

    /// The ids of the sockets this operator reaches.
    public var socketIds: Set<String> { namespace.adapter.sockets(in: rooms, except: except) }
}
