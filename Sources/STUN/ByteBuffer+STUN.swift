public import NIOCore

extension ByteBuffer {
    /// Reads one STUN message (RFC 5389 §6, §15).
    ///
    /// Returns nil, consuming nothing, when fewer bytes are readable than the header (or its length
    /// field) needs. Throws when the bytes are not STUN (top bits, magic cookie), when the length
    /// is not a multiple of 4, when an attribute overruns the message, or when anything follows
    /// FINGERPRINT.
    public mutating func readSTUNMessage() throws(STUNError) -> STUNMessage? {
        let start = readerIndex
        guard readableBytes >= STUNMessage.headerLength,
            let rawType = getInteger(at: start, as: UInt16.self),
            let lengthField = getInteger(at: start + 2, as: UInt16.self),
            let cookie = getInteger(at: start + 4, as: UInt32.self),
            let idBytes = getBytes(at: start + 8, length: 12),
            let transactionID = STUNTransactionID(bytes: idBytes)
        else { return nil }
        let length = Int(lengthField)
        guard rawType & 0xC000 == 0 else { throw .notSTUN("first two bits are not zero") }
        guard cookie == STUNMessage.magicCookie else { throw .notSTUN("magic cookie 0x\(String(cookie, radix: 16))") }
        guard length % 4 == 0 else { throw .invalidLength("message length \(length) is not a multiple of 4") }
        guard readableBytes >= STUNMessage.headerLength + length else { return nil }

        var attributes: [STUNAttribute] = []
        var offset = STUNMessage.headerLength
        var sawIntegrity = false
        var sawFingerprint = false
        while offset < STUNMessage.headerLength + length {
            guard offset + 4 <= STUNMessage.headerLength + length,
                let rawAttributeType = getInteger(at: start + offset, as: UInt16.self),
                let rawValueLength = getInteger(at: start + offset + 2, as: UInt16.self)
            else {
                throw .malformedAttribute("attribute header at \(offset) overruns the message")
            }
            let type = STUNAttributeType(rawValue: rawAttributeType)
            let valueLength = Int(rawValueLength)
            let padded = (valueLength + 3) & ~3
            guard offset + 4 + padded <= STUNMessage.headerLength + length else {
                throw .malformedAttribute("attribute \(type) of \(valueLength) bytes at \(offset) overruns the message")
            }
            guard !sawFingerprint else { throw .attributeAfterFingerprint("attribute \(type) at \(offset)") }
            // RFC 5389 §15.4: ignore everything after MESSAGE-INTEGRITY except FINGERPRINT.
            if !sawIntegrity || type == .fingerprint {
                try Self.checkSize(type, valueLength)
                guard let value = getSlice(at: start + offset + 4, length: valueLength) else {
                    throw .malformedAttribute("attribute \(type) value at \(offset)")
                }
                attributes.append(STUNAttribute(type: type, value: value, offset: offset))
            }
            if type == .messageIntegrity { sawIntegrity = true }
            if type == .fingerprint { sawFingerprint = true }
            offset += 4 + padded
        }
        guard let bytes = readSlice(length: STUNMessage.headerLength + length) else { return nil }
        return STUNMessage(type: STUNMessageType(rawValue: rawType), transactionID: transactionID, attributes: attributes, bytes: bytes)
    }

    /// Fixed-size attributes must have their size; a wrong size is malformed, not ignorable,
    /// because verification would otherwise read the wrong bytes.
    private static func checkSize(_ type: STUNAttributeType, _ length: Int) throws(STUNError) {
        let expected: Int? =
            switch type {
            case .messageIntegrity: 20
            case .fingerprint, .priority: 4
            case .useCandidate: 0
            case .iceControlled, .iceControlling: 8
            default: nil
            }
        if let expected, expected != length {
            throw .malformedAttribute("\(type) has \(length) bytes, expected \(expected)")
        }
    }

    /// Reads a (XOR-)MAPPED-ADDRESS value (RFC 5389 §15.1, §15.2):
    /// ```
    ///  0                   1                   2                   3
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |x x x x x x x x|    Family     |         X-Port                |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                X-Address (Variable)
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    /// X-Port is the port XOR the top 16 bits of the magic cookie; an IPv4 X-Address is XORed with
    /// the cookie, an IPv6 one with the cookie followed by the transaction id. With `xorWith` nil
    /// the value is a plain MAPPED-ADDRESS. Nil when malformed.
    public mutating func readSTUNAddress(xorWith transactionID: STUNTransactionID?) -> TransportAddress? {
        let start = readerIndex
        guard let header = readInteger(as: UInt32.self) else { return nil }
        let family = UInt8(truncatingIfNeeded: header >> 16)
        var port = UInt16(truncatingIfNeeded: header)
        let xor = transactionID != nil
        if xor { port ^= UInt16(STUNMessage.magicCookie >> 16) }
        switch family {
        case 0x01:
            guard var ip = readInteger(as: UInt32.self) else {
                moveReaderIndex(to: start)
                return nil
            }
            if xor { ip ^= STUNMessage.magicCookie }
            return TransportAddress(ipv4: ip, port: port)
        case 0x02:
            guard var high = readInteger(as: UInt64.self), var low = readInteger(as: UInt64.self) else {
                moveReaderIndex(to: start)
                return nil
            }
            if let transactionID {
                high ^= UInt64(STUNMessage.magicCookie) << 32 | UInt64(transactionID.high)
                low ^= transactionID.low
            }
            return TransportAddress(ipv6High: high, low: low, port: port)
        default:
            moveReaderIndex(to: start)
            return nil
        }
    }

    /// Writes a (XOR-)MAPPED-ADDRESS value (see ``readSTUNAddress(xorWith:)``); returns its size.
    @discardableResult
    public mutating func writeSTUNAddress(_ address: TransportAddress, xorWith transactionID: STUNTransactionID?) -> Int {
        var port = address.port
        if transactionID != nil { port ^= UInt16(STUNMessage.magicCookie >> 16) }
        var written = writeInteger(UInt8(0))
        written += writeInteger(address.family.rawValue)
        written += writeInteger(port)
        if let ip = address.ipv4 {
            written += writeInteger(transactionID != nil ? ip ^ STUNMessage.magicCookie : ip)
        } else if var (high, low) = address.ipv6 {
            if let transactionID {
                high ^= UInt64(STUNMessage.magicCookie) << 32 | UInt64(transactionID.high)
                low ^= transactionID.low
            }
            written += writeInteger(high)
            written += writeInteger(low)
        }
        return written
    }
}
