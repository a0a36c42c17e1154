/// `transport:create`'s answer, shaped as mediasoup-client's `createSendTransport`/`createRecvTransport`
/// expect it (`{id, iceParameters, iceCandidates, dtlsParameters}`).
public struct WebRtcTransportInfo: Codable, Sendable, Hashable {
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
