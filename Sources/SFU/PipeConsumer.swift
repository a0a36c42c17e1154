import RTP

/// A local producer sent over a ``PipeTransport`` to another router (mediasoup `PipeConsumer`,
/// audio: one stream).
///
/// Unlike a ``Consumer`` it has no client: it is never paused on its own (a paused producer
/// forwards nothing, and the pause itself reaches the remote pipe producer over the control
/// path), keeps the producer's sequence numbers and timestamps, and only puts its pipe SSRC in
/// the packet, the demux key on the receiving worker.
///
/// Confined to its worker's event loop.
package final class PipeConsumer {
    // MARK: - Stored properties

    /// Lower-case UUID.
    package let id: String
    /// The producer it sends (the id the remote pipe producer takes).
    package let producerId: String
    /// `unowned(unsafe)`: read for every packet, and closing a pipe transport closes and unlinks
    /// its consumers first (all on the worker's loop).
    unowned(unsafe) let transport: PipeTransport
    /// The SSRC on the pipe, unique among this worker's streams to the remote tuple.
    package let ssrc: UInt32
    package private(set) var closed = false
    @exclusivity(unchecked) private(set) var packets: UInt64 = 0

    // MARK: - Init

    init(id: String, producerId: String, transport: PipeTransport, ssrc: UInt32) {
        self.id = id
        self.producerId = producerId
        self.transport = transport
        self.ssrc = ssrc
    }

    // MARK: - Packet path

    /// Sends one router-space packet of its producer to the remote router.
    @inline(__always)
    func forward(_ packet: RTPPacketView) {
        guard !closed else { return }
        if transport.sendRTP(packet, ssrc: ssrc) { packets &+= 1 }
    }

    func markClosed() {
        closed = true
    }
}
