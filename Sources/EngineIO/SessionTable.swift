/// The open sessions by sid, and how many each remote address holds: the session caps
/// (`maxSessions`, `maxSessionsPerAddress`) are checked and a session inserted in one step,
/// under the server's lock, so concurrent handshakes cannot overshoot them.
struct SessionTable {
    private(set) var byID: [String: EngineSession] = [:]
    /// Open sessions per address (the IP, without the port); entries at 0 are removed.
    private(set) var perAddress: [String: Int] = [:]

    var count: Int { byID.count }

    subscript(sid: String) -> EngineSession? { byID[sid] }

    /// The IP part of "ip:port" ("[::1]:5000" and "::1:5000" give "::1"); nil stays nil.
    static func addressKey(_ remote: String?) -> String? {
        guard let remote, let colon = remote.lastIndex(of: ":") else { return remote }
        var host = remote[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return String(host)
    }

    /// Why a new session from `address` would pass a cap, or nil when it may open.
    func refusal(address: String?, maxSessions: Int?, maxPerAddress: Int?) -> EngineRequestError? {
        if let maxSessions, byID.count >= maxSessions { return .tooManySessions }
        if let maxPerAddress, let key = Self.addressKey(address), perAddress[key, default: 0] >= maxPerAddress {
            return .tooManySessionsFromAddress
        }
        return nil
    }

    mutating func insert(_ session: EngineSession) {
        byID[session.id] = session
        if let key = Self.addressKey(session.handshake.remoteAddress) { perAddress[key, default: 0] += 1 }
    }

    /// Removes `session` if it is the one filed under its sid.
    mutating func remove(_ session: EngineSession) {
        guard byID[session.id] === session else { return }
        byID[session.id] = nil
        if let key = Self.addressKey(session.handshake.remoteAddress), let held = perAddress[key] {
            perAddress[key] = held > 1 ? held - 1 : nil
        }
    }
}
