/// Why a transport, producer or consumer closed, as its owner reports it to the room (mediasoup's
/// `transportclose` / `producerclose` / `@close` causes). ``description`` is the text the room
/// logs; code matches on the case.
///
/// Part of the media control API that both the SFU and the rooms speak, so it lives here, below
/// both: the rooms see the SFU only through `SFUServer` and never import `SFU`.
public enum CloseReason: Sendable, Hashable, CustomStringConvertible {
    // ── closed by the owner (the room asked, or a parent closed) ──
    /// Its transport closed (SFU `Router.closeTransport(_:reason:)`).
    case transportClosed
    /// Its producer closed (a consumer's cause).
    case producerClosed
    /// The room closed the consumer.
    case consumerClosed
    /// Its router closed.
    case routerClosed
    /// The pipe transport it came on closed (a pipe producer's cause).
    case pipeTransportClosed
    // ── a transport closed itself ──
    /// The DTLS handshake failed (wrong fingerprint, broken handshake); the detail is OpenSSL's.
    case dtlsFailed(String)
    /// The peer sent a DTLS close_notify.
    case dtlsClosed
    /// DTLS negotiated an SRTP protection profile we cannot key.
    case unknownSRTPProfile
    /// libsrtp refused the keying material; the detail is its error.
    case srtpSessionFailed(String)
    /// RFC 7675: no consent (valid ICE check) for the timeout plus the grace period.
    case iceConsentTimeout

    public var description: String {
        switch self {
        case .transportClosed: "transport closed"
        case .producerClosed: "producer closed"
        case .consumerClosed: "consumer closed"
        case .routerClosed: "router closed"
        case .pipeTransportClosed: "pipe transport closed"
        case .dtlsFailed(let detail): "DTLS failed: \(detail)"
        case .dtlsClosed: "DTLS closed"
        case .unknownSRTPProfile: "DTLS negotiated an unknown SRTP profile"
        case .srtpSessionFailed(let detail): "SRTP session: \(detail)"
        case .iceConsentTimeout: "ICE consent timeout"
        }
    }
}
