public import MediasoupWire

/// Why the SFU refused a request; the app maps these to MSAB's error strings.
public struct SFUError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case unknownRouter, unknownTransport, unknownProducer, unknownConsumer
        case alreadyConnected, badDtlsParameters, unsupportedParameters, cannotConsume, closed, internalError
    }

    public var kind: Kind
    public var detail: String
    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind)\(detail.isEmpty ? "" : ": \(detail)")" }
}

/// `transport:create`'s answer, as mediasoup-client expects it.
public struct WebRtcTransportInfo: Codable, Sendable {
    public var id: String
    public var iceParameters: IceParameters
    public var iceCandidates: [IceCandidate]
    public var dtlsParameters: DtlsParameters
}

/// `audio:consume`'s answer.
public struct ConsumerInfo: Codable, Sendable {
    public var id: String
    public var producerId: String
    public var kind: MediaKind
    public var rtpParameters: RtpParameters
}

/// What a router reports upward (mediasoup's Router/observer events).
public enum MediaRouterEvent: Sendable {
    case transportClosed(transportId: String, reason: String)
    case producerClosed(producerId: String, reason: String)
    case consumerClosed(consumerId: String, reason: String)
    case dominantSpeaker(producerId: String, volume: Int)
    case audioLevels([(producerId: String, volume: Int)])
    case silence
}

/// Named reasons for every packet the SFU drops (style.md R6; mediasoup's DropReason).
public enum DropReason: String, Sendable, CaseIterable {
    case unknownKind = "unknown_kind"
    case stunMalformed = "stun_malformed"
    case stunNotBindingRequest = "stun_not_binding_request"
    case stunUnknownUsername = "stun_unknown_username"
    case stunBadIntegrity = "stun_bad_integrity"
    case stunBadFingerprint = "stun_bad_fingerprint"
    case stunMissingAttribute = "stun_missing_attribute"
    case stunRoleConflict = "stun_role_conflict"
    case unknownTuple = "unknown_tuple"
    case dtlsNotConnected = "dtls_not_connected"
    case srtpUnprotectFailed = "srtp_unprotect_failed"
    case rtpMalformed = "rtp_malformed"
    case unknownSSRC = "unknown_ssrc"
    case unknownPayloadType = "unknown_payload_type"
    case producerPaused = "producer_paused"
    case rtcpMalformed = "rtcp_malformed"
    case srtpProtectFailed = "srtp_protect_failed"
}
