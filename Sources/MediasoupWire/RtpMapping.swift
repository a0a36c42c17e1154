/// How a producer's own RTP identifiers map onto the router's (mediasoup `RtpMapping`).
///
/// mediasoup's mapping has `codecs` and `encodings`. We add ``headerExtensions``: the producer
/// chooses its own RFC 8285 ids (aiortc: mid = 1, audio level = 2; Chrome: audio level = 1,
/// mid = 4) and the SFU must read them with the producer's ids and write them with the router's
/// ids for every consumer. The mediasoup worker derives the same table from the producer's
/// parameters; computing it once here keeps the packet path free of URI lookups.
public struct RtpMapping: Codable, Sendable, Hashable {
    /// Producer payload type → router payload type.
    public struct CodecMapping: Codable, Sendable, Hashable {
        /// Payload type the producer sends.
        public var payloadType: Int
        /// Payload type in the router's capabilities (what consumers receive).
        public var mappedPayloadType: Int

        public init(payloadType: Int, mappedPayloadType: Int) {
            self.payloadType = payloadType
            self.mappedPayloadType = mappedPayloadType
        }
    }

    /// Producer stream → SSRC the router uses internally (and consumables advertise).
    public struct EncodingMapping: Codable, Sendable, Hashable {
        /// The producer's SSRC, if it signalled one.
        public var ssrc: UInt32?
        /// The producer's RID, if it signalled one.
        public var rid: String?
        /// The producer's scalability mode, if any.
        public var scalabilityMode: String?
        /// The router-side SSRC of this stream.
        public var mappedSsrc: UInt32

        public init(ssrc: UInt32? = nil, rid: String? = nil, scalabilityMode: String? = nil, mappedSsrc: UInt32) {
            self.ssrc = ssrc
            self.rid = rid
            self.scalabilityMode = scalabilityMode
            self.mappedSsrc = mappedSsrc
        }
    }

    /// Producer header extension id → router header extension id (same URI).
    public struct HeaderExtensionMapping: Codable, Sendable, Hashable {
        /// The extension URI.
        public var uri: String
        /// The id the producer uses.
        public var id: Int
        /// The router's preferred id for this URI and kind (what consumables advertise).
        public var mappedId: Int

        public init(uri: String, id: Int, mappedId: Int) {
            self.uri = uri
            self.id = id
            self.mappedId = mappedId
        }
    }

    /// Codec payload type mapping, media codecs first, then RTX codecs (mediasoup's order).
    public var codecs: [CodecMapping]
    /// One entry per producer encoding, in order.
    public var encodings: [EncodingMapping]
    /// Header extensions the router understands for this kind; others are not mapped.
    public var headerExtensions: [HeaderExtensionMapping]

    public init(codecs: [CodecMapping], encodings: [EncodingMapping], headerExtensions: [HeaderExtensionMapping] = []) {
        self.codecs = codecs
        self.encodings = encodings
        self.headerExtensions = headerExtensions
    }

    /// The router payload type for a producer payload type, or nil when the producer never signalled it.
    public func mappedPayloadType(for payloadType: Int) -> Int? {
        codecs.first { $0.payloadType == payloadType }?.mappedPayloadType
    }

    /// The router id for a producer header extension id, or nil when the router does not use it.
    public func mappedHeaderExtensionId(for id: Int) -> Int? {
        headerExtensions.first { $0.id == id }?.mappedId
    }
}
