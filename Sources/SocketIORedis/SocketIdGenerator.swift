/// Socket ids of the shape Socket.IO v4 gives them (`base64id.generateId()`): 15 bytes, 12
/// random ones followed by the low 24 bits of a 32-bit sequence number (base64id writes the
/// big-endian sequence at offset 11, then copies the 12 random bytes over offsets 0-11), in
/// base64 with `/` → `_` and `+` → `-`: 20 characters. Node's sharded adapter takes "a string of
/// length 20" for a socket id, so ids minted here must keep that shape to be treated alike.
public struct SocketIdGenerator<Generator: RandomNumberGenerator> {
    var generator: Generator
    /// base64id's `sequenceNumber`: incremented (wrapping as JavaScript's `| 0`) before each id.
    public private(set) var sequenceNumber: Int32

    /// `generator` must be cryptographically secure in production: ids are unguessable
    /// capabilities (a socket id is a room anyone could target).
    public init(generator: Generator, sequenceNumber: Int32 = 0) {
        self.generator = generator
        self.sequenceNumber = sequenceNumber
    }

    public mutating func next() -> String {
        sequenceNumber &+= 1
        var bytes = [UInt8](repeating: 0, count: 15)
        let sequence = UInt32(bitPattern: sequenceNumber)
        for index in 0..<4 { bytes[11 + index] = UInt8(truncatingIfNeeded: sequence >> (24 - 8 * index)) }
        let first = generator.next()
        let second = generator.next()
        for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: first >> (8 * index)) }
        for index in 0..<4 { bytes[8 + index] = UInt8(truncatingIfNeeded: second >> (8 * index)) }
        return Self.base64URL(bytes)
    }

    static var alphabet: [UInt8] { Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8) }

    /// Base64 of a multiple of 3 bytes (no padding), in the URL-safe alphabet.
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Self.alphabet
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(chunk >> UInt32(shift) & 0x3f)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `id` has the shape of a Socket.IO v4 socket id: 20 characters of the URL-safe
    /// base64 alphabet (the sharded adapter's test is the length alone).
    public static func isSocketIdShaped(_ id: String) -> Bool {
        let alphabet = Self.alphabet
        return id.utf8.count == 20 && id.utf8.allSatisfy { alphabet.contains($0) }
    }
}

extension SocketIdGenerator: Sendable where Generator: Sendable {}

extension SocketIdGenerator where Generator == SystemRandomNumberGenerator {
    /// Ids from the system's secure generator (getrandom on Linux).
    public init() {
        self.init(generator: SystemRandomNumberGenerator())
    }
}
