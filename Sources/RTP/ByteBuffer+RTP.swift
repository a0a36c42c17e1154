public import NIOCore

extension ByteBuffer {
    /// Parses the readable bytes as an RTP packet and runs `body` with a mutable view over them,
    /// or returns nil (without calling `body`) when they are not a valid RTP packet.
    ///
    /// The view must not escape `body`. If the buffer's storage is shared it is copied once first
    /// (ByteBuffer copy-on-write), so a received datagram that is uniquely owned is edited in place.
    @inlinable
    public mutating func withRTPPacketView<Result>(_ body: (RTPPacketView) throws -> Result) rethrows -> Result? {
        try withUnsafeMutableReadableBytes { bytes in
            guard let view = RTPPacketView(bytes) else { return nil }
            return try body(view)
        }
    }

    /// Writes an RTP fixed header (no CSRCs, no extension) followed by `payload`; for tests, probes
    /// and tools. Returns the number of bytes written.
    @discardableResult
    public mutating func writeRTPPacket(
        payloadType: UInt8,
        sequenceNumber: UInt16,
        timestamp: UInt32,
        ssrc: UInt32,
        marker: Bool = false,
        payload: some Collection<UInt8>
    ) -> Int {
        precondition(payloadType < 128, "RTP payload type \(payloadType) does not fit in 7 bits")
        var written = writeInteger(UInt8(0x80))
        written += writeInteger((marker ? 0x80 : 0) | payloadType)
        written += writeInteger(sequenceNumber)
        written += writeInteger(timestamp)
        written += writeInteger(ssrc)
        written += writeBytes(payload)
        return written
    }
}
