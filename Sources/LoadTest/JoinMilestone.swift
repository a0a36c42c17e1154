/// The steps of a listener's join, in the order they usually complete, so a slow join → audio
/// time can be attributed (signalling, the SFU's transport, ICE, DTLS, consume).
public enum JoinMilestone: String, CaseIterable, Sendable, Hashable {
    /// Socket.IO CONNECT answered (TCP + WebSocket upgrade + Engine.IO open + auth).
    case socketConnected = "socket_connected"
    /// `room:join` acknowledged.
    case roomJoined = "room_joined"
    /// `transport:create` acknowledged.
    case transportCreated = "transport_created"
    /// `transport:connect` acknowledged.
    case transportConnected = "transport_connected"
    /// The ICE check answered.
    case iceConnected = "ice_connected"
    /// DTLS handshake done, SRTP keys in place.
    case dtlsConnected = "dtls_connected"
    /// The first `audio:consume` acknowledged.
    case consumed
    /// The first `consumer:resume` acknowledged.
    case resumed
    /// The first verified audio packet.
    case firstAudio = "first_audio"
}
