import Crypto
import NIOCore

// STUN (RFC 5389 §6): a 20-byte header, then TLV attributes padded to 4 bytes.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0|     STUN Message Type     |         Message Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Magic Cookie                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Transaction ID (96 bits)                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// ICE (RFC 8445 §7.1.2, §16) adds PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING.

/// A parsed STUN message: the attributes an ICE-lite agent reads, by offset into the bytes so
/// MESSAGE-INTEGRITY and FINGERPRINT can be checked over the original.
public struct STUNMessage: Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442

    public enum Class: UInt16, Sendable { case request = 0, indication = 1, success = 2, error = 3 }

    public enum AttributeType: UInt16 {
        case mappedAddress = 0x0001, username = 0x0006, messageIntegrity = 0x0008, errorCode = 0x0009
        case xorMappedAddress = 0x0020, priority = 0x0024, useCandidate = 0x0025, software = 0x8022
        case fingerprint = 0x8028, iceControlled = 0x8029, iceControlling = 0x802A
    }

    public var messageClass: Class
    public var method: UInt16
    public var transactionID: [UInt8]
    public var username: String?
    public var priority: UInt32?
    public var useCandidate = false
    public var iceControlling: UInt64?
    public var iceControlled: UInt64?
    /// Offset of the MESSAGE-INTEGRITY attribute header, if present.
    public var integrityOffset: Int?
    public var integrity: [UInt8]?
    public var fingerprintOffset: Int?
    public var fingerprint: UInt32?
    public var errorCode: Int?
    public var xorMappedAddress: TransportAddress?
    /// The whole message (for integrity checks).
    public var bytes: [UInt8]

    /// Whether the first bytes look like STUN (RFC 7983: first byte 0–3, and the magic cookie).
    public static func isSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 20 && bytes[0] < 4 && bytes.load(fromByteOffset: 4, as: UInt32.self).bigEndian == magicCookie
    }

    /// nil for anything that is not a well-formed STUN message.
    public init?(bytes raw: UnsafeRawBufferPointer) {
        guard raw.count >= 20, raw[0] & 0xC0 == 0 else { return nil }
        let type = UInt16(raw[0]) << 8 | UInt16(raw[1])
        let length = Int(UInt16(raw[2]) << 8 | UInt16(raw[3]))
        guard length % 4 == 0, 20 + length == raw.count,
              UInt32(raw[4]) << 24 | UInt32(raw[5]) << 16 | UInt32(raw[6]) << 8 | UInt32(raw[7]) == Self.magicCookie else { return nil }
        // Type bits: M11..M0 interleaved with C1 C0 (RFC 5389 §6).
        let cls = (type >> 7 & 0x2) | (type >> 4 & 0x1)
        method = (type & 0x000F) | (type >> 1 & 0x0070) | (type >> 2 & 0x0F80)
        messageClass = Class(rawValue: cls)!
        bytes = Array(raw)
        transactionID = Array(bytes[8..<20])
        var offset = 20
        while offset + 4 <= bytes.count {
            let attrType = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let attrLength = Int(UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3]))
            let value = offset + 4
            guard value + attrLength <= bytes.count else { return nil }
            // Nothing but FINGERPRINT may follow MESSAGE-INTEGRITY; nothing may follow FINGERPRINT.
            if fingerprintOffset != nil { return nil }
            if integrityOffset != nil, attrType != AttributeType.fingerprint.rawValue {
                offset = value + (attrLength + 3) / 4 * 4
                continue
            }
            switch AttributeType(rawValue: attrType) {
            case .username:
                username = String(decoding: bytes[value..<value + attrLength], as: UTF8.self)
            case .priority where attrLength == 4:
                priority = Self.u32(bytes, value)
            case .useCandidate:
                useCandidate = true
            case .iceControlling where attrLength == 8:
                iceControlling = UInt64(Self.u32(bytes, value)) << 32 | UInt64(Self.u32(bytes, value + 4))
            case .iceControlled where attrLength == 8:
                iceControlled = UInt64(Self.u32(bytes, value)) << 32 | UInt64(Self.u32(bytes, value + 4))
            case .messageIntegrity where attrLength == 20:
                integrityOffset = offset
                integrity = Array(bytes[value..<value + 20])
            case .fingerprint where attrLength == 4:
                fingerprintOffset = offset
                fingerprint = Self.u32(bytes, value)
            case .errorCode where attrLength >= 4:
                errorCode = Int(bytes[value + 2] & 0x07) * 100 + Int(bytes[value + 3])
            case .xorMappedAddress where attrLength >= 8:
                xorMappedAddress = Self.xorAddress(bytes, value, attrLength, transactionID)
            default:
                break
            }
            offset = value + (attrLength + 3) / 4 * 4
        }
        guard offset == bytes.count else { return nil }
    }

    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func xorAddress(_ b: [UInt8], _ i: Int, _ length: Int, _ txid: [UInt8]) -> TransportAddress? {
        let port = (UInt16(b[i + 2]) << 8 | UInt16(b[i + 3])) ^ UInt16(magicCookie >> 16)
        if b[i + 1] == 0x01, length >= 8 {
            let x = u32(b, i + 4) ^ magicCookie
            return TransportAddress(ipv4: (UInt8(x >> 24), UInt8(x >> 16 & 0xFF), UInt8(x >> 8 & 0xFF), UInt8(x & 0xFF)), port: port)
        }
        if b[i + 1] == 0x02, length >= 20 {
            let mask = withUnsafeBytes(of: magicCookie.bigEndian) { Array($0) } + txid
            let raw = (0..<16).map { b[i + 4 + $0] ^ mask[$0] }
            var hi: UInt64 = 0, lo: UInt64 = 0
            for k in 0..<8 { hi = hi << 8 | UInt64(raw[k]) }
            for k in 8..<16 { lo = lo << 8 | UInt64(raw[k]) }
            return TransportAddress(ipv6: hi, lo, port: port)
        }
        return nil
    }

    /// RFC 5389 §15.4: HMAC-SHA1 over the message up to MESSAGE-INTEGRITY, with the header length
    /// adjusted to end just after it.
    public func hasValidIntegrity(key: [UInt8]) -> Bool {
        guard let offset = integrityOffset, let integrity else { return false }
        var prefix = Array(bytes[0..<offset])
        let adjusted = offset - 20 + 24
        prefix[2] = UInt8(adjusted >> 8)
        prefix[3] = UInt8(adjusted & 0xFF)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: prefix, using: SymmetricKey(data: key))
        return Array(mac) == integrity
    }

    /// RFC 5389 §15.5: CRC-32 of the message up to FINGERPRINT, XOR 0x5354554E.
    public var hasValidFingerprint: Bool {
        guard let offset = fingerprintOffset, let fingerprint else { return false }
        return CRC32.checksum(bytes[0..<offset]) ^ 0x5354_554E == fingerprint
    }
}
