/// Why the SFU refused a control request. The app maps ``Kind`` to MSAB's error strings
/// ("Transport not found", "Cannot consume", …); ``description`` is for logs.
///
/// Defined here rather than in `SFU` because it is part of the media control API the rooms call
/// through `SFUServer` (mediasoup's worker channel errors), and the rooms do not import `SFU`.
public struct SFUError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        case unknownRouter
        case unknownTransport
        case unknownProducer
        case unknownConsumer
        /// `connect` was already called on this transport.
        case alreadyConnected
        /// No usable fingerprint, or an unknown role.
        case badDtlsParameters
        /// `produce`: the rtpParameters do not validate or match no router codec; or not audio.
        case unsupportedRtpParameters
        /// `produce`: another producer on this transport uses the SSRC.
        case ssrcInUse
        /// `consume`: the capabilities cannot receive the producer.
        case cannotConsume
        /// `consume`: the transport already holds `SFUWorker.Settings.maxConsumersPerTransport`.
        case consumerLimitReached
        /// `consume`: this transport already consumes the producer (a second copy of one stream
        /// on one transport is only extra work; mediasoup-client could not tell them apart by MID).
        case alreadyConsuming
        /// The transport (or router) is closed.
        case transportClosed
        case routerClosed
        /// A pipe transport's `connect` got an unusable address or SRTP parameters.
        case badPipeParameters
        /// A pipe operation that needs a connected pipe transport came before `connect`.
        case pipeNotConnected
        /// A producer with this id already exists on the router (a pipe producer keeps its
        /// origin's id).
        case producerIdInUse
        /// The media server is not running (ports not bound, or shut down).
        case notRunning
        /// Something that should not fail did (OpenSSL, libsrtp).
        case internalError
    }

    public var kind: Kind
    /// Human-readable detail (ids, the validation message).
    public var detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var description: String {
        let text: String =
            switch kind {
            case .unknownRouter: "router not found"
            case .unknownTransport: "transport not found"
            case .unknownProducer: "producer not found"
            case .unknownConsumer: "consumer not found"
            case .alreadyConnected: "transport already connected"
            case .badDtlsParameters: "bad DTLS parameters"
            case .unsupportedRtpParameters: "unsupported RTP parameters"
            case .ssrcInUse: "SSRC already in use"
            case .cannotConsume: "cannot consume"
            case .consumerLimitReached: "consumer limit reached"
            case .alreadyConsuming: "already consuming this producer on this transport"
            case .transportClosed: "transport closed"
            case .routerClosed: "router closed"
            case .badPipeParameters: "bad pipe transport parameters"
            case .pipeNotConnected: "pipe transport not connected"
            case .producerIdInUse: "producer id already in use"
            case .notRunning: "media server not running"
            case .internalError: "internal error"
            }
        return detail.isEmpty ? text : "\(text): \(detail)"
    }
}
