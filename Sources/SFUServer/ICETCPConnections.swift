import SFU
import STUN

/// The worker's open ICE-TCP connections by tuple: where ``UDPBatchSink`` sends packets whose
/// destination is a TCP tuple. Confined to the worker's event loop.
final class ICETCPConnections {
    private var handlers: [TransportAddress: ICETCPConnectionHandler] = [:]
    /// Connections written to since the last flush.
    private var written: [ICETCPConnectionHandler] = []
    /// Counts a packet that could not be sent (the worker's drop counters).
    var dropped: (DropReason) -> Void = { _ in }

    var count: Int { handlers.count }

    func add(_ handler: ICETCPConnectionHandler, for tuple: TransportAddress) {
        handlers[tuple] = handler
    }

    func remove(_ handler: ICETCPConnectionHandler, for tuple: TransportAddress) {
        if handlers[tuple] === handler { handlers[tuple] = nil }
    }

    /// One packet for `destination`, framed onto its connection (not flushed yet).
    func send(to destination: TransportAddress, capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        guard let handler = handlers[destination] else { return dropped(.tcpBacklogFull) }
        // Remember each connection once per burst (its own flag: a fan-out may write to
        // thousands of connections, so no search of the list).
        let first = !handler.needsFlush
        guard handler.enqueue(capacity: capacity, write) else { return dropped(.tcpBacklogFull) }
        if first && handler.needsFlush { written.append(handler) }
    }

    /// Closes every connection (worker shutdown: the listener's close leaves its children open).
    func closeAll() {
        for handler in Array(handlers.values) { handler.closeConnection() }
    }

    /// Flushes every connection written to.
    func flush() {
        guard !written.isEmpty else { return }
        for handler in written { handler.flush() }
        written.removeAll(keepingCapacity: true)
    }
}
