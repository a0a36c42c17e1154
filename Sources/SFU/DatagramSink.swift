import NIOCore
import STUN

/// Where a worker's outgoing datagrams go: the NIO shell's UDP channel, or a test's in-memory
/// peer. Confined to the worker's event loop.
///
/// The packet path writes straight into the sink's memory (``send(to:capacity:_:)``), so the
/// per-consumer copy + rewrite + SRTP protect needs no buffer of its own and the shell can batch
/// many datagrams into one allocation.
package protocol DatagramSink: AnyObject {
    /// Lets `write` fill one datagram of at most `capacity` bytes for `destination`; `write`
    /// returns the number of bytes to send (0 = send nothing).
    func send(to destination: TransportAddress, capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int)
}

extension DatagramSink {
    /// Sends a copy of `datagram`'s readable bytes (control traffic: STUN, DTLS, RTCP).
    package func send(_ datagram: ByteBuffer, to destination: TransportAddress) {
        datagram.withUnsafeReadableBytes { bytes in
            send(to: destination, capacity: bytes.count) { out in
                guard let source = bytes.baseAddress, let target = out.baseAddress else { return 0 }
                target.copyMemory(from: source, byteCount: bytes.count)
                return bytes.count
            }
        }
    }
}
