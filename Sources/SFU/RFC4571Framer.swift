import NIOCore

/// Splits an ICE-TCP byte stream into packets (RFC 4571 §2, used by RFC 6544 §3):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// -----------------------------------------------------------------
/// |             LENGTH            |  RTP or RTCP packet ...       |
/// -----------------------------------------------------------------
/// ```
///
/// LENGTH is big-endian and counts the packet's bytes only. Reads may split a frame anywhere (even
/// inside the length), so bytes are held until a whole frame is there. Hostile input (style R6):
/// a zero length (RFC 4571 allows it, but no STUN, DTLS, RTP or RTCP packet is empty, so it is
/// garbage) or a length above ``maximumFrameLength`` is refused and the caller closes the
/// connection, so the buffer never holds more than one maximal frame plus its prefix and one read.
///
/// A value type with no I/O: the NIO shell feeds it reads, tests feed it bytes.
package struct RFC4571Framer: Sendable {
    /// Why a stream was refused.
    package enum FramingError: Error, Sendable, Hashable {
        /// A frame announced 0 bytes.
        case zeroLength
        /// A frame announced more than ``maximumFrameLength`` bytes (the announced length).
        case oversized(Int)
    }

    /// The largest packet accepted: a 1,500-byte MTU datagram plus headroom for a DTLS flight
    /// record (Chrome's certificate flight stays below it); anything larger is not media.
    package static let defaultMaximumFrameLength = 1_500 + 548

    package let maximumFrameLength: Int
    private var buffer: ByteBuffer?

    package init(maximumFrameLength: Int = RFC4571Framer.defaultMaximumFrameLength) {
        self.maximumFrameLength = max(1, min(maximumFrameLength, Int(UInt16.max)))
    }

    /// Bytes held back waiting for the rest of their frame.
    package var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    /// Appends one read (consumes `bytes`).
    package mutating func append(_ bytes: inout ByteBuffer) {
        if buffer == nil || buffer?.readableBytes == 0 {
            buffer = bytes
        } else {
            buffer!.writeBuffer(&bytes)
        }
        bytes.moveReaderIndex(to: bytes.writerIndex)
    }

    /// The next whole packet (a slice without the prefix), nil when more bytes are needed.
    /// - Throws: ``FramingError`` when the next length is 0 or too large; the stream is then
    ///   unusable (framing is lost) and must be closed.
    package mutating func nextFrame() throws(FramingError) -> ByteBuffer? {
        guard var held = buffer, let length = held.getInteger(at: held.readerIndex, as: UInt16.self) else { return nil }
        let size = Int(length)
        guard size > 0 else { throw .zeroLength }
        guard size <= maximumFrameLength else { throw .oversized(size) }
        guard held.readableBytes >= 2 + size else { return nil }
        held.moveReaderIndex(forwardBy: 2)
        let frame = held.readSlice(length: size)
        if held.readableBytes == 0 {
            buffer = nil
        } else {
            // Drop consumed bytes now and then so a long-lived connection's buffer does not grow.
            if held.readerIndex > 4096 { held.discardReadBytes() }
            buffer = held
        }
        return frame
    }

    /// Writes `packet` (1 … 65,535 bytes) with its length prefix into `out`; false (nothing
    /// written) for a size the framing cannot carry.
    @discardableResult
    package static func frame(_ packet: UnsafeRawBufferPointer, into out: inout ByteBuffer) -> Bool {
        guard let length = UInt16(exactly: packet.count), length > 0 else { return false }
        out.writeInteger(length)
        out.writeBytes(packet)
        return true
    }
}
