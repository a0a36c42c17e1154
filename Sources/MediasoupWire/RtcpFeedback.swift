/// An RTCP feedback mechanism a codec supports (`a=rtcp-fb`), e.g. `{type: "nack", parameter: "pli"}`.
///
/// Mirrors mediasoup `RtcpFeedback`. ORTC validation fills a missing `parameter` with `""`.
public struct RtcpFeedback: Codable, Sendable, Hashable {
    /// Feedback type: `nack`, `ccm`, `goog-remb`, `transport-cc`, …
    public var type: String
    /// Feedback parameter (`pli`, `fir`), or empty.
    public var parameter: String?

    public init(type: String, parameter: String? = nil) {
        self.type = type
        self.parameter = parameter
    }
}
