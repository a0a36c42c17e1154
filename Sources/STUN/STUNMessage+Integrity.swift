import Crypto
import NIOCore

/// The result of checking an optional protection attribute.
public enum STUNCheck: Sendable, Hashable {
    /// The attribute is not in the message.
    case absent
    /// The attribute is present and correct.
    case valid
    /// The attribute is present and wrong.
    case invalid
}

extension STUNMessage {
    /// FINGERPRINT = CRC-32 of the message up to (excluding) the attribute, XOR 0x5354554E
    /// (RFC 5389 §15.5).
    public static let fingerprintXOR: UInt32 = 0x5354_554E

    /// Checks FINGERPRINT. The parser guarantees it is the last attribute, so the header's length
    /// field already covers it, as the CRC requires.
    public func checkFingerprint() -> STUNCheck {
        guard let attribute = attribute(.fingerprint) else { return .absent }
        guard let received = attribute.value.getInteger(at: attribute.value.readerIndex, as: UInt32.self) else { return .invalid }
        let computed = bytes.withUnsafeReadableBytes { raw in
            var crc = CRC32()
            crc.update(UnsafeRawBufferPointer(rebasing: raw[0..<attribute.offset]))
            return crc.value ^ Self.fingerprintXOR
        }
        return computed == received ? .valid : .invalid
    }

    /// Checks MESSAGE-INTEGRITY with `key` (RFC 5389 §15.4): HMAC-SHA1 over the message up to the
    /// attribute, with the header's length field adjusted to end just after MESSAGE-INTEGRITY
    /// (so a FINGERPRINT that follows it is excluded). For ICE the key is the password bytes
    /// (short-term credentials, RFC 8445 §7.2.2); see ``longTermKey(username:realm:password:)``.
    public func checkMessageIntegrity(key: [UInt8]) -> STUNCheck {
        guard let attribute = attribute(.messageIntegrity) else { return .absent }
        let expected = Self.integrity(of: bytes, upTo: attribute.offset, key: SymmetricKey(data: key))
        let received = Array(attribute.value.readableBytesView)
        return expected == received ? .valid : .invalid
    }

    /// HMAC-SHA1 over `message[0..<offset]` with the length field set to `offset - 20 + 24`.
    static func integrity(of message: ByteBuffer, upTo offset: Int, key: SymmetricKey) -> HashedAuthenticationCode<Insecure.SHA1> {
        var hmac = HMAC<Insecure.SHA1>(key: key)
        message.withUnsafeReadableBytes { raw in
            hmac.update(data: UnsafeRawBufferPointer(rebasing: raw[0..<2]))
            let adjusted = UInt16(offset - STUNMessage.headerLength + 24).bigEndian
            withUnsafeBytes(of: adjusted) { hmac.update(data: $0) }
            hmac.update(data: UnsafeRawBufferPointer(rebasing: raw[4..<offset]))
        }
        return hmac.finalize()
    }

    /// The long-term credential key, MD5(username ":" realm ":" password) (RFC 5389 §15.4).
    /// The password must already be SASLprep-processed (RFC 4013); this module does not
    /// implement SASLprep because ICE uses short-term credentials.
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        Array(Insecure.MD5.hash(data: Array("\(username):\(realm):\(password)".utf8)))
    }
}
