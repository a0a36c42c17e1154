/// A pipe transport's local side, for the remote side's `connect` (mediasoup
/// `pipeTransport.tuple` + `srtpParameters`).
public struct PipeTransportInfo: Codable, Sendable, Hashable {
    public var id: String
    /// The address and port the other worker sends to and sees our datagrams come from.
    public var ip: String
    public var port: UInt16
    /// Our outbound suite and key; nil when SRTP is off.
    public var srtpParameters: SrtpParameters?

    public init(id: String, ip: String, port: UInt16, srtpParameters: SrtpParameters?) {
        self.id = id
        self.ip = ip
        self.port = port
        self.srtpParameters = srtpParameters
    }
}
