import MediasoupWire

/// One side of a cross-node pipe: where the other side sends to, and the key it protects with.
public struct PipeEnd: Sendable, Hashable {
    public var ip: String
    public var port: UInt16
    public var srtpParameters: SrtpParameters?

    public init(ip: String, port: UInt16, srtpParameters: SrtpParameters?) {
        self.ip = ip
        self.port = port
        self.srtpParameters = srtpParameters
    }
}
