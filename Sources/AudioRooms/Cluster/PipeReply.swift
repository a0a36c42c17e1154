import MediasoupWire

/// A's answer to a ``PipeRequest``: its end of the pipe and the producer's parameters over it.
public struct PipeReply: Sendable, Hashable {
    public var id: UInt64
    public var from: String
    public var end: PipeEnd
    public var kind: MediaKind
    public var rtpParameters: RtpParameters
    public var paused: Bool
}
