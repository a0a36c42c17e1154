/// `audio:consume`'s answer (`{id, producerId, kind, rtpParameters}`).
public struct ConsumerInfo: Codable, Sendable, Hashable {
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
