import EngineIO
public import SocketIOParser

/// An immutable broadcast target (socket.io's `BroadcastOperator`): `to` and `except` return new
/// operators; `emit` encodes the packet ONCE and hands the same messages to every recipient.
public struct BroadcastOperator: Sendable {
    let namespace: Namespace
    let rooms: Set<String>
    let except: Set<String>
    var flags = BroadcastFlags()

    public func to(_ room: String) -> BroadcastOperator {
        BroadcastOperator(namespace: namespace, rooms: rooms.union([room]), except: except, flags: flags)
    }

    /// Excludes a room, or a single socket (its id is a room).
    public func except(_ room: String) -> BroadcastOperator {
        BroadcastOperator(namespace: namespace, rooms: rooms, except: except.union([room]), flags: flags)
    }

    /// Only this node's sockets (socket.io's `.local`): the cluster adapter does not forward it.
    public var local: BroadcastOperator {
        var copy = self
        copy.flags.local = true
        return copy
    }

    public func emit(_ event: String, _ args: JSONValue...) {
        emit(event, args: args)
    }

    public func emit(_ event: String, args: [JSONValue]) {
        let packet = SocketIOPacket(type: .event, namespace: namespace.name, data: .array([.string(event)] + args))
        // Other nodes first (as socket.io's Redis adapter does): the publish is queued at once,
        // and this node's own fan-out, which can take a while for a big room, runs meanwhile.
        let published = flags.local ? nil : namespace.adapter.publish(packet, rooms: rooms, except: except, flags: flags)
        namespace.deliverLocally(packet, rooms: rooms, except: except, after: published)
    }

    /// The ids of the sockets this operator reaches.
    public var socketIds: Set<String> { namespace.adapter.sockets(in: rooms, except: except) }
}
