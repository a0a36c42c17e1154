import DTLS
import NIOCore
import SRTP
import STUN

extension WebRTCTransport {
    /// What the transport holds at each point of its life (style R3, NIOSSH's
    /// `SSHConnectionStateMachine`): each case carries exactly what exists then, so "connected
    /// without an SRTP session" or "connecting without a tuple" cannot be written, and the packet
    /// path needs no drop reason for them.
    ///
    /// ```
    ///   new ──first valid ICE check──▶ connecting ──DTLS connected──▶ connected
    ///    │                                │                              │
    ///    └── close() / DTLS failed or closed / ICE consent lost ─────────┴──▶ closed
    /// ```
    ///
    /// `connect` may come in `new` or `connecting` (pymediasoup fires `transport:connect` without
    /// waiting for ICE): it puts the endpoint in the ``Handshake``, which starts once a tuple is known.
    enum Phase {
        /// Created; no valid ICE check yet.
        case new(Handshake)
        /// ICE has a tuple (`selected`, where DTLS and later media go); DTLS runs once `connect` came.
        case connecting(selected: TransportAddress, Handshake)
        /// DTLS connected and both SRTP sessions keyed: media flows.
        case connected(Connected)
        /// Closed; terminal. Late datagrams are counted as ``DropReason/transportClosed``.
        case closed
    }

    /// DTLS before it connected.
    struct Handshake {
        /// nil until `connect` told us the client's role and fingerprints.
        var dtls: DTLSEndpoint?
        /// DTLS datagrams that came before the endpoint could take them (before `connect`, or
        /// before ICE picked a tuple); at most ``WebRTCTransport/maxEarlyDTLS``.
        var earlyDTLS: [ByteBuffer] = []

        /// The endpoint, once it has been started (it then takes datagrams itself).
        var started: DTLSEndpoint? {
            guard let dtls, dtls.state != .new else { return nil }
            return dtls
        }
    }

    /// What media needs once DTLS connected, built only from a connected DTLS endpoint.
    struct Connected {
        /// The tuple media is sent to (ICE's selected tuple; a later nomination moves it).
        var selected: TransportAddress
        /// The DTLS endpoint and the SRTP sessions it keyed.
        let keys: MediaKeys
        /// When the next receiver report for our producers is due.
        var nextReceiverReportAt: NIODeadline
    }

    /// The connected DTLS endpoint and the two SRTP sessions keyed from it. A class, so that the
    /// packet path reading ``Connected`` out of ``Phase`` retains one reference, as it did when
    /// the session was an optional beside the state.
    final class MediaKeys {
        let dtls: DTLSEndpoint
        let inbound: SRTPSession
        let outbound: SRTPSession
        let profile: SRTPProfile

        /// Keys both directions from `connection` (RFC 5764 §4.2).
        init(dtls: DTLSEndpoint, connection: DTLSConnection) throws(KeyingFailure) {
            guard let profile = SRTPProfile(rawValue: connection.profile.rawValue) else { throw .unknownProfile }
            do {
                self.inbound = try SRTPSession(profile: profile, keyAndSalt: connection.remoteKeyingMaterial, direction: .inbound)
                self.outbound = try SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
            } catch {
                throw .session("\(error)")
            }
            self.dtls = dtls
            self.profile = profile
        }

        enum KeyingFailure: Error {
            case unknownProfile
            case session(String)
        }
    }

    /// The summary of ``Phase`` (stats, tests).
    package enum State: String, Sendable, Hashable {
        /// Created; no valid ICE check yet.
        case new
        /// ICE has a tuple; DTLS not connected yet.
        case connecting
        /// DTLS connected, SRTP keyed: media flows.
        case connected
        /// Closed; terminal.
        case closed
    }

    package var state: State {
        switch phase {
        case .new: .new
        case .connecting: .connecting
        case .connected: .connected
        case .closed: .closed
        }
    }

    /// The tuple media is sent to (ICE's selected tuple), once there is one.
    package var remoteAddress: TransportAddress? {
        switch phase {
        case .new, .closed: nil
        case .connecting(let selected, _): selected
        case .connected(let connected): connected.selected
        }
    }

    package var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// The DTLS endpoint, once `connect` created it (nil again after close).
    var dtls: DTLSEndpoint? {
        switch phase {
        case .new(let handshake), .connecting(_, let handshake): handshake.dtls
        case .connected(let connected): connected.keys.dtls
        case .closed: nil
        }
    }
}
