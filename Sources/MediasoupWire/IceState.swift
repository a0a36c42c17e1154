/// ICE state of a WebRTC transport (mediasoup `IceState`).
public enum IceState: String, Codable, Sendable, Hashable, CaseIterable {
    case new
    case connected
    case completed
    case disconnected
    case closed
}
