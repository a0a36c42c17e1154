import Crypto

extension STUNMessage {
    /// A Binding success response (RFC 5389 §7.3.1.1, RFC 8445 §7.3.1.2.2): XOR-MAPPED-ADDRESS of
    /// the request's source, MESSAGE-INTEGRITY with the local password, FINGERPRINT.
    public static func bindingSuccess(transactionID: [UInt8], mapped: TransportAddress, password: [UInt8]) -> [UInt8] {
        var out = header(type: 0x0101, transactionID: transactionID)
        appendXORMappedAddress(&out, mapped, transactionID)
        appendIntegrityAndFingerprint(&out, key: password)
        return out
    }

    /// A Binding error response (400 Bad Request, 401 Unauthorized, 487 Role Conflict). 401 and 400
    /// carry no MESSAGE-INTEGRITY (the request could not be authenticated).
    public static func bindingError(transactionID: [UInt8], code: Int, reason: String, password: [UInt8]?) -> [UInt8] {
        var out = header(type: 0x0111, transactionID: transactionID)
        var value: [UInt8] = [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8)
        let length = value.count
        while value.count % 4 != 0 { value.append(0) }
        out += [0x00, 0x09, UInt8(length >> 8), UInt8(length & 0xFF)] + value
        setLength(&out)
        if let password { appendIntegrityAndFingerprint(&out, key: password) } else { appendFingerprint(&out) }
        return out
    }

    static func header(type: UInt16, transactionID: [UInt8]) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xFF), 0, 0, 0x21, 0x12, 0xA4, 0x42] + transactionID
    }

    static func setLength(_ out: inout [UInt8]) {
        let length = out.count - 20
        out[2] = UInt8(length >> 8)
        out[3] = UInt8(length & 0xFF)
    }

    static func appendXORMappedAddress(_ out: inout [UInt8], _ address: TransportAddress, _ transactionID: [UInt8]) {
        let port = address.port ^ UInt16(magicCookie >> 16)
        let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
        let mask = cookie + transactionID
        let raw = address.addressBytes
        let xored = raw.enumerated().map { $0.element ^ mask[$0.offset] }
        let family: UInt8 = address.family == .ipv4 ? 0x01 : 0x02
        let length = 4 + raw.count
        out += [0x00, 0x20, UInt8(length >> 8), UInt8(length & 0xFF), 0, family, UInt8(port >> 8), UInt8(port & 0xFF)] + xored
        setLength(&out)
    }

    static func appendIntegrityAndFingerprint(_ out: inout [UInt8], key: [UInt8]) {
        // The length covers MESSAGE-INTEGRITY when the HMAC is computed.
        let lengthWithIntegrity = out.count - 20 + 24
        out[2] = UInt8(lengthWithIntegrity >> 8)
        out[3] = UInt8(lengthWithIntegrity & 0xFF)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: out, using: SymmetricKey(data: key))
        out += [0x00, 0x08, 0x00, 0x14] + Array(mac)
        appendFingerprint(&out)
    }

    static func appendFingerprint(_ out: inout [UInt8]) {
        let lengthWithFingerprint = out.count - 20 + 8
        out[2] = UInt8(lengthWithFingerprint >> 8)
        out[3] = UInt8(lengthWithFingerprint & 0xFF)
        let crc = CRC32.checksum(out) ^ 0x5354_554E
        out += [0x80, 0x28, 0x00, 0x04, UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }
}
