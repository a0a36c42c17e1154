public import NIOCore

/// Recognises the speakers' audio at a listener: an RTP payload is "verified" when it is
/// byte for byte one of ``OpusFixture``'s frames (a 440 Hz tone), so a listener knows that what
/// arrived is the audio that was sent, not just some packet with a valid SRTP tag. Servers may
/// rewrite sequence numbers, timestamps and SSRCs (Janus's VideoRoom does), never the payload.
///
/// A lookup by 64-bit FNV-1a hash of the payload bytes (no allocation per packet; a collision
/// with one of 50 frames is not a practical concern for a load test's counter).
public enum OpusFixturePayloads {
    private static let hashes: Set<UInt64> = Set(OpusFixture.frames.map { fnv1a($0) })

    /// Whether `packet` (a decrypted RTP packet, reader at its first byte) carries a fixture frame.
    /// False for a malformed header (RFC 3550 §5.1: CSRCs, extension and padding skipped).
    public static func contains(rtpPacket packet: ByteBuffer) -> Bool {
        packet.withUnsafeReadableBytes { bytes -> Bool in
            guard bytes.count >= 12 else { return false }
            let first = bytes[0]
            var start = 12 + Int(first & 0x0F) * 4
            if first & 0x10 != 0 {
                guard bytes.count >= start + 4 else { return false }
                let words = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
                start += 4 + words * 4
            }
            var end = bytes.count
            if first & 0x20 != 0 {
                guard let padding = bytes.last, padding > 0 else { return false }
                end -= Int(padding)
            }
            guard start <= end else { return false }
            return hashes.contains(fnv1a(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
        }
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
