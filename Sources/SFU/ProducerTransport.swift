/// What a producer arrives on: a client's ``WebRTCTransport`` or a ``PipeTransport`` from another
/// router (mediasoup's `Transport` base class, reduced to what the router needs to unlink a
/// producer). The packet path never goes through it: each transport calls the router directly.
protocol ProducerTransport: AnyObject {
    var id: String { get }
    /// Forgets `producer` (its SSRC demux entry included); the router closes it.
    func removeProducer(_ producer: Producer)
}

extension WebRTCTransport: ProducerTransport {}
