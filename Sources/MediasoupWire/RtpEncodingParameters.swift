/// The RTX stream of an encoding (`{ssrc}` in mediasoup's `RtpEncodingParameters.rtx`).
public struct RtxParameters: Codable, Sendable, Hashable {
    /// SSRC of the retransmission stream.
    public var ssrc: UInt32

    public init(ssrc: UInt32) {
        self.ssrc = ssrc
    }
}

/// One RTP stream of a producer or consumer (mediasoup `RtpEncodingParameters`).
public struct RtpEncodingParameters: Codable, Sendable, Hashable {
    /// SSRC of the media stream.
    public var ssrc: UInt32?
    /// RID (simulcast) of the stream.
    public var rid: String?
    /// Payload type of the codec this encoding uses.
    public var codecPayloadType: Int?
    /// RTX stream, if any.
    public var rtx: RtxParameters?
    /// Discontinuous transmission (Opus DTX); validation defaults it to `false`.
    public var dtx: Bool?
    /// SVC/simulcast scalability mode (`L1T3`, …).
    public var scalabilityMode: String?
    /// Resolution scale (video).
    public var scaleResolutionDownBy: Double?
    /// Maximum bitrate in bps.
    public var maxBitrate: Int?

    public init(
        ssrc: UInt32? = nil,
        rid: String? = nil,
        codecPayloadType: Int? = nil,
        rtx: RtxParameters? = nil,
        dtx: Bool? = nil,
        scalabilityMode: String? = nil,
        scaleResolutionDownBy: Double? = nil,
        maxBitrate: Int? = nil
    ) {
        self.ssrc = ssrc
        self.rid = rid
        self.codecPayloadType = codecPayloadType
        self.rtx = rtx
        self.dtx = dtx
        self.scalabilityMode = scalabilityMode
        self.scaleResolutionDownBy = scaleResolutionDownBy
        self.maxBitrate = maxBitrate
    }
}
