import COpenSSL

/// The SRTP key derivation function (RFC 3711 §4.3, with a key derivation rate of 0 as DTLS-SRTP
/// uses; RFC 7714 §11 for the AES-GCM profiles).
///
///     x  = key_id XOR master_salt     key_id = label ‖ r (r = 0), right-aligned in 112 bits
///     session key = AES-CM keystream under the master key, starting at IV = x · 2^16
///
/// A 96-bit GCM master salt is padded to 112 bits with zeros first. Runs once per session, so
/// it may allocate.
enum SRTPKeyDerivation {
    enum Label: UInt8 {
        case rtpEncryption = 0x00, rtpAuthentication = 0x01, rtpSalt = 0x02
        case rtcpEncryption = 0x03, rtcpAuthentication = 0x04, rtcpSalt = 0x05
    }

    static func derive(masterKey: [UInt8], masterSalt: [UInt8], label: Label, length: Int) throws(SRTPError) -> [UInt8] {
        var iv = masterSalt + [UInt8](repeating: 0, count: 16 - masterSalt.count)
        iv[7] ^= label.rawValue
        guard let context = EVP_CIPHER_CTX_new() else { throw SRTPError(type: .initFail) }
        defer { EVP_CIPHER_CTX_free(context) }
        let cipher = masterKey.count == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr()
        guard EVP_EncryptInit_ex(context, cipher, nil, masterKey, iv) == 1 else { throw SRTPError(type: .initFail) }
        var output = [UInt8](repeating: 0, count: length)
        var written: Int32 = 0
        let zeros = [UInt8](repeating: 0, count: length)
        guard EVP_EncryptUpdate(context, &output, &written, zeros, Int32(length)) == 1, written == Int32(length) else {
            throw SRTPError(type: .initFail)
        }
        return output
    }
}
