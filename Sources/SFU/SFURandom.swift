import Foundation

/// Where a worker's random numbers and ids come from (style R2 for randomness: the core is given
/// its generator, it does not reach for one).
///
/// Production uses ``SystemRandomNumberGenerator`` (the kernel's CSPRNG): ICE passwords, pipe
/// SRTP master keys and the RFC 3550 §5.1 initial sequence numbers/timestamps must not be
/// predictable. Tests pass a seeded generator so that ids, SSRCs and credentials repeat from run
/// to run.
extension RandomNumberGenerator {
    /// A lower-case RFC 9562 version-4 UUID string (mediasoup's id format) from 122 random bits.
    mutating func uuidString() -> String {
        let high = next()
        let low = next()
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * $0)) }
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // variant 10
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }

    /// `count` random bytes (keys).
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}
