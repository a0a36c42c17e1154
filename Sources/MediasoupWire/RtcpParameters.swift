/// RTCP settings of a producer or consumer (mediasoup `RtcpParameters`).
///
/// `mux` is not in mediasoup's server-side type but mediasoup-client sends it (always `true`);
/// it is kept so the object round-trips.
public struct RtcpParameters: Codable, Sendable, Hashable {
    /// The RTCP CNAME (RFC 3550 §6.5.1) of the sender.
    public var cname: String?
    /// Reduced-size RTCP (RFC 5506); validation defaults it to `true`.
    public var reducedSize: Bool?
    /// RTP/RTCP multiplexing (RFC 5761); mediasoup-client only.
    public var mux: Bool?

    public init(cname: String? = nil, reducedSize: Bool? = nil, mux: Bool? = nil) {
        self.cname = cname
        self.reducedSize = reducedSize
        self.mux = mux
    }
}
