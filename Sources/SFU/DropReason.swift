/// Why the SFU dropped a datagram or packet (style R6, mediasoup `RtcLogger::RtpPacket::DropReason`).
///
/// Every early return on the packet path increments exactly one of these in ``SFUCounters``;
/// ``description`` is the `reason` label of `msab_sfu_drops_total`.
public enum DropReason: Int, Sendable, CaseIterable, CustomStringConvertible {
    // ── demultiplexing (WebRTCServer) ──
    /// Not STUN, DTLS, RTP or RTCP by the first byte (RFC 7983), or too short to be any.
    case unclassifiable
    /// A STUN message that does not parse, or is not a binding request.
    case stunMalformed
    /// A well-formed STUN message that is not a binding request (indications, responses).
    case stunNotBindingRequest
    /// A STUN binding request whose USERNAME names no transport of this worker.
    case stunUnknownUsername
    /// ICE-lite refused the binding request (bad MESSAGE-INTEGRITY, FINGERPRINT, role, …).
    case stunRejected
    /// DTLS/RTP/RTCP from an address that never completed an ICE check with any transport.
    case unknownTuple
    // ── transport (WebRTCTransport) ──
    /// The transport is closed (a late datagram).
    case transportClosed
    /// RTP/RTCP before the DTLS handshake finished.
    case notDTLSConnected
    /// A DTLS-range datagram whose records do not parse (RFC 6347 §4.1 record headers): never
    /// handed to OpenSSL.
    case dtlsMalformed
    /// DTLS that arrived before `transport:connect`, beyond the few datagrams kept for then.
    case earlyDTLSOverflow
    /// SRTP/SRTCP authentication or replay check failed.
    case srtpUnprotectFailed
    /// Decrypted bytes are not a valid RTP packet.
    case rtpParseFailed
    /// Decrypted bytes are not a valid RTCP compound packet.
    case rtcpParseFailed
    /// An RTCP packet with more items than a peer needs (a NACK with over
    /// `RTCPCompoundReader.maxNACKItems` entries, an SDES chunk with over 16 items): the rest of
    /// its compound is not read.
    case rtcpTooManyItems
    /// No producer on this transport has the packet's SSRC.
    case unknownSSRC
    /// The packet's payload type is not one of the producer's codecs.
    case unknownPayloadType
    /// The producer is paused: received and counted, not forwarded.
    case producerPaused
    // ── send side ──
    /// SRTP protect failed while sending.
    case srtpProtectFailed
    /// A consumer NACKed a packet that is no longer (or never was) in the retransmission buffer.
    case retransmissionMiss
    /// A consumer NACKed a packet that was already retransmitted to it within the last RTT
    /// (mediasoup `RtpStreamSend`'s rule; 100 ms before an RTT is measured).
    case retransmissionTooSoon
    /// A consumer's retransmissions would exceed their share of its stream (half the bytes
    /// forwarded to it, with a burst of 8 kB).
    case retransmissionRateLimited
    /// The kernel refused the datagram because the socket's send buffer was full (EAGAIN,
    /// ENOBUFS): late audio is worth nothing, so it is not queued for later.
    case sendBufferFull
    /// The kernel refused the datagram for another reason (e.g. no route to its address).
    case sendFailed
    // ── pipe transports (PipeTransport) ──
    /// RTP from another worker's pipe tuple whose SSRC no pipe producer of this worker expects
    /// (a stream closed here but not yet on the sending side, or a forged packet).
    case pipeUnknownSSRC
    /// SRTP authentication (or the replay check) failed on a pipe: forged, modified or replayed.
    case pipeSRTPUnprotectFailed
    /// RTCP on a pipe: pipes carry RTP only for now (NACKs are answered on the receiving router).
    case pipeRTCPIgnored
    // ── ICE-TCP connections (RFC 6544; each counts a closed connection, not a packet) ──
    /// A frame length of 0 or above the bound (RFC 4571): framing is lost, the connection closed.
    case tcpFrameInvalid
    /// No valid ICE check within the handshake timeout: the connection was closed.
    case tcpHandshakeTimeout
    /// Over the per-worker or per-address connection limit: closed at accept.
    case tcpConnectionLimit
    /// A packet for a TCP tuple whose peer reads too slowly (outbound backlog over its bound),
    /// or whose connection is gone.
    case tcpBacklogFull

    /// The metric label.
    public var description: String {
        switch self {
        case .unclassifiable: "unclassifiable"
        case .stunMalformed: "stun_malformed"
        case .stunNotBindingRequest: "stun_not_binding_request"
        case .stunUnknownUsername: "stun_unknown_username"
        case .stunRejected: "stun_rejected"
        case .unknownTuple: "unknown_tuple"
        case .transportClosed: "transport_closed"
        case .notDTLSConnected: "not_dtls_connected"
        case .dtlsMalformed: "dtls_malformed"
        case .earlyDTLSOverflow: "early_dtls_overflow"
        case .srtpUnprotectFailed: "srtp_unprotect_failed"
        case .rtpParseFailed: "rtp_parse_failed"
        case .rtcpParseFailed: "rtcp_parse_failed"
        case .rtcpTooManyItems: "rtcp_too_many_items"
        case .unknownSSRC: "unknown_ssrc"
        case .unknownPayloadType: "unknown_payload_type"
        case .producerPaused: "producer_paused"
        case .srtpProtectFailed: "srtp_protect_failed"
        case .retransmissionMiss: "retransmission_miss"
        case .retransmissionTooSoon: "retransmission_too_soon"
        case .retransmissionRateLimited: "retransmission_rate_limited"
        case .sendBufferFull: "send_buffer_full"
        case .sendFailed: "send_failed"
        case .pipeUnknownSSRC: "pipe_unknown_ssrc"
        case .pipeSRTPUnprotectFailed: "pipe_srtp_unprotect_failed"
        case .pipeRTCPIgnored: "pipe_rtcp_ignored"
        case .tcpFrameInvalid: "tcp_frame_invalid"
        case .tcpHandshakeTimeout: "tcp_handshake_timeout"
        case .tcpConnectionLimit: "tcp_connection_limit"
        case .tcpBacklogFull: "tcp_backlog_full"
        }
    }
}
