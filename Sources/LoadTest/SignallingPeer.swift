import NIOCore

/// What ``WebSocketConnectionHandler`` reports a signalling connection's I/O to: a room
/// participant (``VirtualParticipant``, ``JanusParticipant``) or a broadcast receiver (``BroadcastReceiver``).
protocol SignallingPeer: AnyObject {
    func signallingActive()
    func signallingBytes(_ buffer: inout ByteBuffer)
    func signallingFlush()
    func signallingClosed()
    func fail(_ reason: String)
}
