/// The adapter's message types (`RequestType` in socket.io-redis-adapter `lib/index.ts`). A node
/// that sends a request remembers its type under the request id, to read the answers.
public enum RedisAdapterRequestType: Int, Sendable, Hashable, CaseIterable {
    /// Legacy `sockets()` (adapters before 8.0 send it).
    case sockets = 0
    case allRooms = 1
    case remoteJoin = 2
    case remoteLeave = 3
    case remoteDisconnect = 4
    case remoteFetch = 5
    case serverSideEmit = 6
    /// A broadcast that expects acknowledgements.
    case broadcast = 7
    /// Responses to `broadcast`: first how many clients will answer, then each answer.
    case broadcastClientCount = 8
    case broadcastAck = 9
}
