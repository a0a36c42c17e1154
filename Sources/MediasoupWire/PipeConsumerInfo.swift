/// A pipe consumer, as the remote router needs it to create the pipe producer (mediasoup
/// `pipeConsumer.{id, kind, rtpParameters, producerPaused}`).
public struct PipeConsumerInfo: Codable, Sendable, Hashable {
    public var id: String
    public var producerId: String
    public var kind: MediaKind
    /// The producer's consumable parameters with the pipe SSRC in `encodings[0].ssrc`.
    public var rtpParameters: RtpParameters
    public var producerPaused: Bool

    public init(id: String, producerId: String, kind: MediaKind, rtpParameters: RtpParameters, producerPaused: Bool) {
        self.id = id
        self.producerId = producerId
        self.kind = kind
        self.rtpParameters = rtpParameters
        self.producerPaused = producerPaused
    }
}
