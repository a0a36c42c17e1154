public import NIOCore
public import SocketIOParser
import Synchronization

/// Where a namespace's rooms live (socket.io-adapter's seam): in memory here; a cluster adapter
/// (SocketIORedis) keeps this node's rooms the same way and also carries broadcasts to the other
/// nodes and answers their requests.
public protocol SocketIOAdapter: Sendable {
    /// Called once, when the namespace that uses the adapter is created.
    func attach(to namespace: Namespace)
    /// A broadcast made on this node, just before it is delivered to this node's sockets: a cluster
    /// adapter sends it on to the other nodes (never called for `local` broadcasts). Returns the
    /// event loop the message was handed to for writing, if any: this node's own fan-out of the
    /// broadcast is then started from that loop, after the write, so the other nodes' copy is on
    /// the wire before this node's sockets are served (Node's adapter also writes its PUBLISH
    /// before the local sockets; here a busy socket loop could otherwise go first).
    func publish(_ packet: SocketIOPacket, rooms: Set<String>, except: Set<String>, flags: BroadcastFlags) -> (any EventLoop)?

    func add(_ sid: String, to room: String)
    func remove(_ sid: String, from room: String)
    func removeAll(_ sid: String)
    func rooms(of sid: String) -> Set<String>
    /// Sockets in any of `rooms` (every socket when `rooms` is empty), minus those in `except`.
    func sockets(in rooms: Set<String>, except: Set<String>) -> Set<String>
    func allRooms() -> Set<String>
}

extension SocketIOAdapter {
    public func attach(to namespace: Namespace) {}
    public func publish(_ packet: SocketIOPacket, rooms: Set<String>, except: Set<String>, flags: BroadcastFlags) -> (any EventLoop)? {
        nil
    }
}

/// socket.io's broadcast flags (`socket.io-adapter` `BroadcastFlags`): `local` keeps a broadcast
/// on this node; `volatile` and `compress` travel to the other nodes with it.
public struct BroadcastFlags: Sendable, Hashable {
    public var local: Bool
    public var volatile: Bool
    public var compress: Bool?

    public init(local: Bool = false, volatile: Bool = false, compress: Bool? = nil) {
        self.local = local
        self.volatile = volatile
        self.compress = compress
    }
}

/// socket.io's in-memory adapter: two maps, room → sockets and socket → rooms.
public final class InMemoryAdapter: SocketIOAdapter {
    struct Maps {
        var rooms: [String: Set<String>] = [:]
        var sids: [String: Set<String>] = [:]
    }

    let maps = Mutex(Maps())

    public init() {}

    public func add(_ sid: String, to room: String) {
        maps.withLock { maps in
            maps.rooms[room, default: []].insert(sid)
            maps.sids[sid, default: []].insert(room)
        }
    }

    public func remove(_ sid: String, from room: String) {
        maps.withLock { maps in
            maps.rooms[room]?.remove(sid)
            if maps.rooms[room]?.isEmpty == true { maps.rooms[room] = nil }
            maps.sids[sid]?.remove(room)
        }
    }

    public func removeAll(_ sid: String) {
        maps.withLock { maps in
            for room in maps.sids.removeValue(forKey: sid) ?? [] {
                maps.rooms[room]?.remove(sid)
                if maps.rooms[room]?.isEmpty == true { maps.rooms[room] = nil }
            }
        }
    }

    public func rooms(of sid: String) -> Set<String> { maps.withLock { $0.sids[sid] ?? [] } }

    public func sockets(in rooms: Set<String>, except: Set<String>) -> Set<String> {
        maps.withLock { maps in
            var excluded = Set<String>()
            for room in except { excluded.formUnion(maps.rooms[room] ?? []) }
            if rooms.isEmpty { return Set(maps.sids.keys).subtracting(excluded) }
            // The common broadcast, one room: its set as is (copy-on-write, no rehash of 1,000 ids).
            if rooms.count == 1, let room = rooms.first {
                let members = maps.rooms[room] ?? []
                return excluded.isEmpty ? members : members.subtracting(excluded)
            }
            var out = Set<String>()
            for room in rooms { out.formUnion(maps.rooms[room] ?? []) }
            return out.subtracting(excluded)
        }
    }

    public func allRooms() -> Set<String> { maps.withLock { Set($0.rooms.keys) } }
}
