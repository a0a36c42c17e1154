import MediasoupWire

/// What the rooms need from the SFU: one router per room. `SFUServer`'s `MediaServer` is the
/// production implementation (see `MediaServer+MediaPlane.swift`); tests can substitute a fake.
public protocol MediaPlane: Sendable {
    /// Creates the router of a room (on the least loaded worker).
    func makeRouter() async throws -> any RoomRouter
}

/// A room's router: mediasoup's Router/WebRtcTransport/Producer/Consumer, addressed by id.
public protocol RoomRouter: AnyObject, Sendable {
    var id: String { get }
    var rtpCapabilities: RtpCapabilities { get }
    /// Router events (closures of transports/producers/consumers, speaker detection). One reader.
    var mediaEvents: AsyncStream<RoomMediaEvent> { get }

    func createTransport() async throws -> TransportDescription
    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws
    func restartIce(_ transportId: String) async throws -> IceParameters
    func closeTransport(_ transportId: String) async

    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String
    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws
    func closeProducer(_ producerId: String) async

    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool
    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerDescription
    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws
    func closeConsumer(_ consumerId: String) async

    func close() async
}

/// The `transport:create` ack: mediasoup's transport parameters as mediasoup-client expects them.
public struct TransportDescription: Codable, Sendable {
    public var id: String
    public var iceParameters: IceParameters
    public var iceCandidates: [IceCandidate]
    public var dtlsParameters: DtlsParameters

    public init(id: String, iceParameters: IceParameters, iceCandidates: [IceCandidate], dtlsParameters: DtlsParameters) {
        self.id = id
        self.iceParameters = iceParameters
        self.iceCandidates = iceCandidates
        self.dtlsParameters = dtlsParameters
    }
}

/// The `audio:consume` ack.
public struct ConsumerDescription: Codable, Sendable {
    public var id: String
    public var producerId: String
    public var kind: MediaKind
    public var rtpParameters: RtpParameters

    public init(id: String, producerId: String, kind: MediaKind, rtpParameters: RtpParameters) {
        self.id = id
        self.producerId = producerId
        self.kind = kind
        self.rtpParameters = rtpParameters
    }
}

/// What a router tells its room.
public enum RoomMediaEvent: Sendable {
    case transportClosed(transportId: String, reason: String)
    case producerClosed(producerId: String, reason: String)
    case consumerClosed(consumerId: String, reason: String)
    /// The dominant speaker changed (volume in dBov, 0 loudest … -127).
    case dominantSpeaker(producerId: String, volume: Int)
    /// Loudest producers above the threshold, loudest first.
    case audioLevels([(producerId: String, volume: Int)])
    case silence
}

/// Refusals of a router that the room answers with their own error strings (anything else a
/// router throws is a failure: "Consume failed", "Server error", …).
public enum RoomMediaError: Error, Sendable, Hashable {
    /// The transport holds as many consumers as it may (`MSAB_MAX_CONSUMERS_PER_TRANSPORT`):
    /// `{error: "Consumer limit reached"}`.
    case consumerLimitReached
    /// The transport already consumes this producer: `{error: "Cannot consume"}`.
    case alreadyConsuming
}
