import COpenSSL

// A deliberately plain, slow, independent SRTP model written from RFC 3711 and RFC 7714,
// built on OpenSSL's AES/HMAC primitives (libsrtp here is built on NSS). The RFC vectors are
// stated at the session-key level, below libsrtp's key derivation, so the tests first pin this
// model to the RFC vectors and then require the libsrtp wrapper to produce byte-identical
// packets from a master key. Test support only: nothing here is used by the SRTP module.
enum ReferenceSRTP {
    // MARK: - Primitives

    /// One AES block encryption (the AES-CM and KDF PRF building block).
    static func aesBlock(key: [UInt8], _ block: [UInt8]) -> [UInt8] {
        precondition(block.count == 16)
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        let cipher = key.count == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb()
        precondition(EVP_EncryptInit_ex(ctx, cipher, nil, key, nil) == 1)
        EVP_CIPHER_CTX_set_padding(ctx, 0)
        var out = [UInt8](repeating: 0, count: 32)
        var outLength: Int32 = 0
        precondition(EVP_EncryptUpdate(ctx, &out, &outLength, block, 16) == 1 && outLength == 16)
        return Array(out[0..<16])
    }

    /// AES in counter mode as RFC 3711 §4.1.1 defines it: block j is AES(IV + j), where only
    /// the low 16 bits count (the IV's low 16 bits are zero for SRTP).
    static func keystream(key: [UInt8], iv: [UInt8], count: Int, firstBlock: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        var j = firstBlock
        while out.count < count {
            var counter = iv
            let sum = Int(counter[14]) << 8 | Int(counter[15]) + j
            counter[14] = UInt8((sum >> 8) & 0xFF)
            counter[15] = UInt8(sum & 0xFF)
            out += aesBlock(key: key, counter)
            j += 1
        }
        return Array(out[0..<count])
    }

    static func hmacSHA1(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        precondition(HMAC(EVP_sha1(), key, Int32(key.count), data, data.count, &digest, &length) != nil)
        return digest
    }

    /// AES-GCM encryption with a 96-bit IV and a 16-octet tag.
    static func gcmSeal(key: [UInt8], iv: [UInt8], aad: [UInt8], plaintext: [UInt8]) -> (ciphertext: [UInt8], tag: [UInt8]) {
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        let cipher = key.count == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm()
        precondition(EVP_EncryptInit_ex(ctx, cipher, nil, nil, nil) == 1)
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1)
        precondition(EVP_EncryptInit_ex(ctx, nil, nil, key, iv) == 1)
        var length: Int32 = 0
        precondition(EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1)
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        precondition(EVP_EncryptUpdate(ctx, &out, &length, plaintext, Int32(plaintext.count)) == 1)
        var final: Int32 = 0
        out.withUnsafeMutableBufferPointer { buffer in
            precondition(EVP_EncryptFinal_ex(ctx, buffer.baseAddress! + Int(length), &final) == 1)
        }
        var tag = [UInt8](repeating: 0, count: 16)
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1)
        return (Array(out[0..<(Int(length) + Int(final))]), tag)
    }

    // MARK: - RFC 3711 §4.3 key derivation (key_derivation_rate = 0)

    /// Labels of RFC 3711 §4.3.2.
    enum Label: UInt8 {
        case rtpEncryption = 0, rtpAuthentication = 1, rtpSalt = 2
        case rtcpEncryption = 3, rtcpAuthentication = 4, rtcpSalt = 5
    }

    /// `x = key_id XOR master_salt` with key_id = label ‖ r (r = 0 with kdr 0), both right-aligned
    /// in 112 bits; the output is the AES-CM keystream under the master key with IV `x · 2^16`.
    /// A 96-bit GCM master salt is first padded to 112 bits with zeros (RFC 7714 §11).
    static func deriveKey(masterKey: [UInt8], masterSalt: [UInt8], label: Label, length: Int) -> [UInt8] {
        var x = masterSalt + [UInt8](repeating: 0, count: 14 - masterSalt.count)
        x[7] ^= label.rawValue
        return keystream(key: masterKey, iv: x + [0, 0], count: length)
    }

    struct SessionKeys {
        var encryption: [UInt8]
        var salt: [UInt8]
        var authentication: [UInt8]
    }

    static func sessionKeys(masterKey: [UInt8], masterSalt: [UInt8], rtcp: Bool, gcm: Bool) -> SessionKeys {
        let saltLength = gcm ? 12 : 14
        return SessionKeys(
            encryption: deriveKey(
                masterKey: masterKey, masterSalt: masterSalt, label: rtcp ? .rtcpEncryption : .rtpEncryption,
                length: masterKey.count),
            salt: deriveKey(masterKey: masterKey, masterSalt: masterSalt, label: rtcp ? .rtcpSalt : .rtpSalt, length: saltLength),
            authentication: gcm
                ? []
                : deriveKey(
                    masterKey: masterKey, masterSalt: masterSalt, label: rtcp ? .rtcpAuthentication : .rtpAuthentication,
                    length: 20)
        )
    }

    // MARK: - Packets

    static func rtpHeaderLength(_ packet: [UInt8]) -> Int {
        var length = 12 + 4 * Int(packet[0] & 0x0F)
        if packet[0] & 0x10 != 0 {
            length += 4 + 4 * (Int(packet[length + 2]) << 8 | Int(packet[length + 3]))
        }
        return length
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// RFC 3711 §3.1/§4.1.1/§4.2: AES-CM encryption of the payload, HMAC-SHA1 over the
    /// encrypted packet ‖ ROC, tag truncated to `tagLength`.
    static func protectRTPCM(_ packet: [UInt8], keys: SessionKeys, tagLength: Int, roc: UInt32 = 0) -> [UInt8] {
        let headerLength = rtpHeaderLength(packet)
        let ssrc = Array(packet[8..<12])
        let index = be32(roc) + Array(packet[2..<4])  // 48-bit packet index ROC ‖ SEQ
        var iv = keys.salt + [0, 0]
        for k in 0..<4 { iv[4 + k] ^= ssrc[k] }
        for k in 0..<6 { iv[8 + k] ^= index[k] }
        let payload = Array(packet[headerLength...])
        let stream = keystream(key: keys.encryption, iv: iv, count: payload.count)
        let encrypted = Array(packet[..<headerLength]) + zip(payload, stream).map { $0 ^ $1 }
        let tag = hmacSHA1(key: keys.authentication, encrypted + be32(roc))
        return encrypted + tag[0..<tagLength]
    }

    /// RFC 3711 §3.4: SRTCP with AES-CM, E = 1, the index below the tag.
    static func protectRTCPCM(_ packet: [UInt8], keys: SessionKeys, index: UInt32) -> [UInt8] {
        var iv = keys.salt + [0, 0]
        for k in 0..<4 { iv[4 + k] ^= packet[4 + k] }
        let index48: [UInt8] = [0, 0] + be32(index)
        for k in 0..<6 { iv[8 + k] ^= index48[k] }
        let payload = Array(packet[8...])
        let stream = keystream(key: keys.encryption, iv: iv, count: payload.count)
        let encrypted = Array(packet[..<8]) + zip(payload, stream).map { $0 ^ $1 } + be32(0x8000_0000 | index)
        return encrypted + hmacSHA1(key: keys.authentication, encrypted)[0..<10]
    }

    /// RFC 7714 §8: IV = (00 00 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt, AAD = the RTP header.
    static func protectRTPGCM(_ packet: [UInt8], keys: SessionKeys, roc: UInt32 = 0) -> [UInt8] {
        let headerLength = rtpHeaderLength(packet)
        let block: [UInt8] = [0, 0] + Array(packet[8..<12]) + be32(roc) + Array(packet[2..<4])
        let iv = zip(block, keys.salt).map { $0 ^ $1 }
        let sealed = gcmSeal(
            key: keys.encryption, iv: iv, aad: Array(packet[..<headerLength]), plaintext: Array(packet[headerLength...]))
        return Array(packet[..<headerLength]) + sealed.ciphertext + sealed.tag
    }

    /// RFC 7714 §9: IV = (00 00 ‖ SSRC ‖ 00 00 ‖ 0‖index) XOR salt, AAD = 8-octet header ‖ E‖index;
    /// the packet ends with the tag and then E‖index.
    static func protectRTCPGCM(_ packet: [UInt8], keys: SessionKeys, index: UInt32) -> [UInt8] {
        let block: [UInt8] = [0, 0] + Array(packet[4..<8]) + [0, 0] + be32(index)
        let iv = zip(block, keys.salt).map { $0 ^ $1 }
        let trailer = be32(0x8000_0000 | index)
        let sealed = gcmSeal(key: keys.encryption, iv: iv, aad: Array(packet[..<8]) + trailer, plaintext: Array(packet[8...]))
        return Array(packet[..<8]) + sealed.ciphertext + sealed.tag + trailer
    }
}
