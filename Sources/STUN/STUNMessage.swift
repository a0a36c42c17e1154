public import NIOCore

/// A decoded STUN message (RFC 5389 / RFC 8489): header fields, attributes in order, and the
/// message bytes themselves, which MESSAGE-INTEGRITY and FINGERPRINT verification need.
///
/// RFC 5389 §6:
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0|     STUN Message Type     |         Message Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Magic Cookie                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// |                     Transaction ID (96 bits)                  |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Parse with `ByteBuffer.readSTUNMessage()` or ``init(datagram:)``; build with
/// ``STUNMessageBuilder``.
public struct STUNMessage: Sendable, Hashable {
    /// 0x2112A442 (RFC 5389 §6).
    public static let magicCookie: UInt32 = 0x2112_A442
    /// The fixed header size.
    public static let headerLength = 20

    public var type: STUNMessageType
    public var transactionID: STUNTransactionID
    /// Attributes in wire order. Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are
    /// not included: RFC 5389 §15.4 says agents MUST ignore them.
    public var attributes: [STUNAttribute]
    /// The whole message as received (header included).
    public var bytes: ByteBuffer

    public init(type: STUNMessageType, transactionID: STUNTransactionID, attributes: [STUNAttribute], bytes: ByteBuffer) {
        self.type = type
        self.transactionID = transactionID
        self.attributes = attributes
        self.bytes = bytes
    }

    /// Parses one whole datagram: the message must fill it exactly (RFC 5389 §7.3: the length
    /// field must match the datagram). Throws on anything else.
    public init(datagram: ByteBuffer) throws(STUNError) {
        var buffer = datagram
        guard let message = try buffer.readSTUNMessage() else {
            throw .truncated("\(datagram.readableBytes)-byte datagram is shorter than its STUN header says")
        }
        guard buffer.readableBytes == 0 else {
            throw .invalidLength("\(buffer.readableBytes) bytes follow the STUN message in the datagram")
        }
        self = message
    }

    /// Parses a datagram given as raw bytes (copies them once); nil when it is not valid STUN.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard let message = try? STUNMessage(datagram: ByteBuffer(bytes: bytes)) else { return nil }
        self = message
    }

    /// Whether `bytes` start like a STUN message: top bits 0 and the magic cookie at offset 4
    /// (RFC 5389 §6/§7.3), a cheap check before parsing.
    public static func looksLikeSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= headerLength && bytes[0] & 0xC0 == 0
            && UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == magicCookie
    }

    // MARK: - Attribute access

    /// The first attribute of `type`.
    public func attribute(_ type: STUNAttributeType) -> STUNAttribute? {
        attributes.first { $0.type == type }
    }

    /// USERNAME (RFC 5389 §15.3) as UTF-8, nil when absent or not UTF-8.
    public var username: String? { string(.username) }
    /// SOFTWARE (RFC 5389 §15.10).
    public var software: String? { string(.software) }
    /// REALM (RFC 5389 §15.7).
    public var realm: String? { string(.realm) }
    /// NONCE (RFC 5389 §15.8).
    public var nonce: String? { string(.nonce) }

    /// PRIORITY (RFC 8445 §7.1.1), nil when absent or not 4 bytes.
    public var priority: UInt32? {
        guard let value = attribute(.priority)?.value, value.readableBytes == 4 else { return nil }
        return value.getInteger(at: value.readerIndex)
    }

    /// USE-CANDIDATE present (RFC 8445 §7.1.2).
    public var useCandidate: Bool { attribute(.useCandidate) != nil }

    /// ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3), nil when absent or not 8 bytes.
    public var iceControlling: UInt64? { uint64(.iceControlling) }

    /// ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3), nil when absent or not 8 bytes.
    public var iceControlled: UInt64? { uint64(.iceControlled) }

    /// XOR-MAPPED-ADDRESS (RFC 5389 §15.2), nil when absent or malformed.
    public var xorMappedAddress: TransportAddress? {
        guard var value = attribute(.xorMappedAddress)?.value else { return nil }
        return value.readSTUNAddress(xorWith: transactionID)
    }

    /// MAPPED-ADDRESS (RFC 5389 §15.1), nil when absent or malformed.
    public var mappedAddress: TransportAddress? {
        guard var value = attribute(.mappedAddress)?.value else { return nil }
        return value.readSTUNAddress(xorWith: nil)
    }

    /// ERROR-CODE (RFC 5389 §15.6), nil when absent or malformed.
    public var errorCode: STUNErrorCode? {
        guard var value = attribute(.errorCode)?.value, value.readableBytes >= 4,
            let word = value.readInteger(as: UInt32.self)
        else { return nil }
        let code = Int((word >> 8) & 0x7) * 100 + Int(word & 0xFF)
        guard (300...699).contains(code), word & 0xFF < 100 else { return nil }
        let reason = value.readString(length: value.readableBytes) ?? ""
        return STUNErrorCode(code: code, reason: reason)
    }

    /// Comprehension-required attributes this module does not understand (RFC 5389 §7.3.1: a
    /// server answers a request carrying any with 420 Unknown Attribute).
    public var unknownComprehensionRequiredAttributes: [STUNAttributeType] {
        attributes.lazy.map(\.type).filter { $0.isComprehensionRequired && !$0.isKnown }
    }

    private func string(_ type: STUNAttributeType) -> String? {
        guard let value = attribute(type)?.value else { return nil }
        return value.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) }
    }

    private func uint64(_ type: STUNAttributeType) -> UInt64? {
        guard let value = attribute(type)?.value, value.readableBytes == 8 else { return nil }
        return value.getInteger(at: value.readerIndex)
    }
}
