import Crypto
public import NIOCore

/// Writes a STUN message attribute by attribute into a ByteBuffer, keeping the header's length
/// field current so MESSAGE-INTEGRITY and FINGERPRINT can be computed as they are appended
/// (pion/stun's Build/AddTo style, without the allocations).
///
/// ```swift
/// var builder = STUNMessageBuilder(type: .bindingSuccessResponse, transactionID: request.transactionID)
/// builder.addXORMappedAddress(source)
/// builder.addMessageIntegrity(key: passwordBytes)
/// builder.addFingerprint()
/// let datagram = builder.buffer
/// ```
/// Order rules (RFC 5389 §15.4, §15.5): MESSAGE-INTEGRITY after every attribute it protects,
/// FINGERPRINT last. Breaking them is a programmer error.
public struct STUNMessageBuilder: Sendable {
    /// The bytes written so far (a complete message after each `add…`).
    public private(set) var buffer: ByteBuffer
    private let start: Int
    private let transactionID: STUNTransactionID
    private var hasIntegrity = false
    private var hasFingerprint = false

    /// Starts a message (header only) at the end of `buffer`.
    public init(type: STUNMessageType, transactionID: STUNTransactionID, buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
        self.start = buffer.writerIndex
        self.transactionID = transactionID
        self.buffer.writeInteger(type.rawValue)
        self.buffer.writeInteger(UInt16(0))
        self.buffer.writeInteger(STUNMessage.magicCookie)
        self.buffer.writeBytes(transactionID.bytes)
    }

    /// Appends an attribute with `value`, padded to 4 bytes with `padding` (RFC 5389 §15 lets
    /// padding be any value; RFC 5769's vectors use spaces, so tests can reproduce them exactly).
    public mutating func addAttribute(_ type: STUNAttributeType, value: some Collection<UInt8>, padding: UInt8 = 0) {
        beginAttribute(type)
        buffer.writeBytes(value)
        endAttribute(padding: padding)
    }

    /// USERNAME (RFC 5389 §15.3; at most 513 bytes).
    public mutating func addUsername(_ username: String) {
        addAttribute(.username, value: Array(username.utf8))
    }

    /// SOFTWARE (RFC 5389 §15.10).
    public mutating func addSoftware(_ software: String) {
        addAttribute(.software, value: Array(software.utf8))
    }

    /// XOR-MAPPED-ADDRESS (RFC 5389 §15.2).
    public mutating func addXORMappedAddress(_ address: TransportAddress) {
        beginAttribute(.xorMappedAddress)
        buffer.writeSTUNAddress(address, xorWith: transactionID)
        endAttribute()
    }

    /// MAPPED-ADDRESS (RFC 5389 §15.1), for RFC 3489 clients.
    public mutating func addMappedAddress(_ address: TransportAddress) {
        beginAttribute(.mappedAddress)
        buffer.writeSTUNAddress(address, xorWith: nil)
        endAttribute()
    }

    /// PRIORITY (RFC 8445 §7.1.1).
    public mutating func addPriority(_ priority: UInt32) {
        beginAttribute(.priority)
        buffer.writeInteger(priority)
        endAttribute()
    }

    /// USE-CANDIDATE (RFC 8445 §7.1.2), no value.
    public mutating func addUseCandidate() {
        addAttribute(.useCandidate, value: EmptyCollection())
    }

    /// ICE-CONTROLLING with its tie-breaker (RFC 8445 §7.1.3).
    public mutating func addICEControlling(_ tieBreaker: UInt64) {
        beginAttribute(.iceControlling)
        buffer.writeInteger(tieBreaker)
        endAttribute()
    }

    /// ICE-CONTROLLED with its tie-breaker (RFC 8445 §7.1.3).
    public mutating func addICEControlled(_ tieBreaker: UInt64) {
        beginAttribute(.iceControlled)
        buffer.writeInteger(tieBreaker)
        endAttribute()
    }

    /// ERROR-CODE (RFC 5389 §15.6):
    /// ```
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |           Reserved, should be 0         |Class|     Number    |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |      Reason Phrase (variable)                                ..
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    public mutating func addErrorCode(_ error: STUNErrorCode) {
        beginAttribute(.errorCode)
        buffer.writeInteger(UInt32(error.code / 100) << 8 | UInt32(error.code % 100))
        buffer.writeString(error.reason)
        endAttribute()
    }

    /// MESSAGE-INTEGRITY keyed with `key` (RFC 5389 §15.4): HMAC-SHA1 of everything so far, with
    /// the length field already counting this attribute.
    public mutating func addMessageIntegrity(key: [UInt8]) {
        precondition(!hasIntegrity && !hasFingerprint, "MESSAGE-INTEGRITY added twice or after FINGERPRINT")
        let offset = buffer.writerIndex - start
        // Length as it will be with the 24-byte attribute; integrity() patches it the same way.
        guard let message = buffer.getSlice(at: start, length: offset) else {
            preconditionFailure("STUNMessageBuilder lost its own header")
        }
        let mac = STUNMessage.integrity(of: message, upTo: offset, key: SymmetricKey(data: key))
        beginAttribute(.messageIntegrity)
        buffer.writeBytes(mac)
        endAttribute()
        hasIntegrity = true
    }

    /// FINGERPRINT (RFC 5389 §15.5): must be the last attribute.
    public mutating func addFingerprint() {
        precondition(!hasFingerprint, "FINGERPRINT added twice")
        beginAttribute(.fingerprint)
        buffer.writeInteger(UInt32(0))
        endAttribute()
        // The length field now covers FINGERPRINT, as the CRC requires; CRC everything before it.
        let crcEnd = buffer.writerIndex - 8
        let crc = buffer.withUnsafeReadableBytes { raw in
            var crc = CRC32()
            let base = start - buffer.readerIndex
            crc.update(UnsafeRawBufferPointer(rebasing: raw[base..<(crcEnd - buffer.readerIndex)]))
            return crc.value
        }
        buffer.setInteger(crc ^ STUNMessage.fingerprintXOR, at: buffer.writerIndex - 4)
        hasFingerprint = true
    }

    // MARK: - Private

    private var attributeStart = 0

    private mutating func beginAttribute(_ type: STUNAttributeType) {
        precondition(!hasFingerprint, "attribute \(type) after FINGERPRINT")
        precondition(!hasIntegrity || type == .fingerprint, "attribute \(type) after MESSAGE-INTEGRITY")
        attributeStart = buffer.writerIndex
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(0))
    }

    private mutating func endAttribute(padding: UInt8 = 0) {
        let valueLength = buffer.writerIndex - attributeStart - 4
        precondition(valueLength <= 0xFFFF, "STUN attribute value of \(valueLength) bytes")
        buffer.setInteger(UInt16(valueLength), at: attributeStart + 2)
        buffer.writeRepeatingByte(padding, count: (4 - valueLength % 4) % 4)
        buffer.setInteger(UInt16(buffer.writerIndex - start - STUNMessage.headerLength), at: start + 2)
    }
}
