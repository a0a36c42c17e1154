import COpenSSL
import CPrefetch
import CSRTPCrypto

/// The session keys of one direction of SRTP or of SRTCP, loaded once: on a CPU with AES-NI
/// (``CSRTPCrypto``) one 64-byte aligned block of round keys, GHASH key and salt that the per-packet
/// calls use directly; elsewhere an OpenSSL AES-GCM or AES-CTR context whose key schedule every
/// packet reuses (only the IV changes). The AES-CM profiles add an HMAC-SHA1 key whose pad
/// blocks are hashed once (``CSRTPCrypto``).
/// The IV and MAC scratch space is allocated here too, so the per-packet calls allocate nothing.
///
/// Why not OpenSSL everywhere: its EVP calls cost ~230 ns per 100-byte AES-256-GCM packet on
/// this machine (IV re-init, AAD update, update, final, tag ctrl, each through the provider
/// layer) against ~80 ns for CSRTPCrypto, and its key state is spread over the EVP context and the
/// provider's GCM context: in a fan-out every line of key state is a cache miss per consumer.
final class SRTPCipher {
    let isGCM: Bool
    private let decrypting: Bool
    /// The AES-NI key (nil when the CPU lacks AES-NI: then `context` does the AES).
    private let aes: OpaquePointer?
    private let context: OpaquePointer?
    /// The HMAC-SHA1 key (AES-CM profiles).
    private let mac: OpaquePointer?
    /// One 64-byte, cache-line aligned block holds the salt, the IV and the digest (the OpenSSL
    /// path and HMAC only; the AES-NI GCM path never touches it).
    private let scratch: UnsafeMutableRawPointer
    /// The session salt, zero-padded to 16 bytes (GCM uses the first 12): scratch[0..<16].
    private let salt: UnsafeMutablePointer<UInt8>
    /// scratch[16..<32].
    private let iv: UnsafeMutablePointer<UInt8>
    /// The last HMAC-SHA1 output (20 bytes), also the sink of GCM's empty final block: scratch[32..<64].
    let digest: UnsafeMutablePointer<UInt8>

    /// - Parameter aesNI: use ``CSRTPCrypto`` when the CPU has it (false: OpenSSL only, for tests).
    init(profile: SRTPProfile, masterKey: [UInt8], masterSalt: [UInt8], rtcp: Bool, decrypting: Bool, aesNI: Bool) throws(SRTPError) {
        isGCM = profile == .aeadAES128GCM || profile == .aeadAES256GCM
        self.decrypting = decrypting
        let key = try SRTPKeyDerivation.derive(
            masterKey: masterKey, masterSalt: masterSalt, label: rtcp ? .rtcpEncryption : .rtpEncryption, length: profile.keyLength)
        let sessionSalt = try SRTPKeyDerivation.derive(
            masterKey: masterKey, masterSalt: masterSalt, label: rtcp ? .rtcpSalt : .rtpSalt, length: profile.saltLength)
        let authenticationKey =
            isGCM
            ? []
            : try SRTPKeyDerivation.derive(
                masterKey: masterKey, masterSalt: masterSalt, label: rtcp ? .rtcpAuthentication : .rtpAuthentication, length: 20)
        scratch = .allocate(byteCount: 64, alignment: 64)
        let bytes = scratch.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        salt = bytes
        iv = bytes + 16
        digest = bytes + 32
        for (offset, byte) in sessionSalt.prefix(16).enumerated() { salt[offset] = byte }
        aes = aesNI ? msab_srtp_aes_new(key, Int32(key.count), sessionSalt, Int32(min(sessionSalt.count, 14))) : nil
        var ready = true
        if aes == nil, let context = EVP_CIPHER_CTX_new() {
            self.context = context
            if isGCM {
                let cipher = profile.keyLength == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm()
                ready =
                    decrypting
                    ? EVP_DecryptInit_ex(context, cipher, nil, key, nil) == 1
                    : EVP_EncryptInit_ex(context, cipher, nil, key, nil) == 1
            } else {
                // AES-CM is its own inverse: both directions run the CTR keystream.
                ready = EVP_EncryptInit_ex(context, EVP_aes_128_ctr(), nil, key, nil) == 1
            }
        } else {
            context = nil
        }
        mac = isGCM ? nil : msab_srtp_hmac_new(authenticationKey, authenticationKey.count)
        // Every property is set: deinit frees what was allocated.
        guard ready, aes != nil || context != nil, isGCM || mac != nil else { throw SRTPError(type: .initFail) }
    }

    /// Asks for this cipher's lines (object, key block or OpenSSL context, HMAC key, scratch) ahead of use.
    @inline(__always)
    func prefetch() {
        msab_prefetch_lines(Unmanaged.passUnretained(self).toOpaque(), 1)
        if let aes { msab_srtp_aes_prefetch(aes) } else { msab_prefetch_lines(UnsafeRawPointer(context), 2) }
        if let mac {
            msab_prefetch_lines(UnsafeRawPointer(mac), 3)  // two SHA_CTX, 96 bytes each
        }
        if aes == nil || mac != nil { msab_prefetch(scratch) }
    }

    deinit {
        if let context { EVP_CIPHER_CTX_free(context) }
        msab_srtp_hmac_free(mac)
        msab_srtp_aes_free(aes)
        scratch.deallocate()
    }

    // MARK: - IVs

    /// AES-CM (RFC 3711 §4.1.1): IV = (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16), the
    /// index being the 48-bit SRTP packet index or the 31-bit SRTCP index.
    @inline(__always)
    private func setCounterIV(ssrc: UInt32, index: UInt64) {
        for k in 0..<16 { iv[k] = salt[k] }
        iv[4] ^= UInt8(truncatingIfNeeded: ssrc >> 24)
        iv[5] ^= UInt8(truncatingIfNeeded: ssrc >> 16)
        iv[6] ^= UInt8(truncatingIfNeeded: ssrc >> 8)
        iv[7] ^= UInt8(truncatingIfNeeded: ssrc)
        for k in 0..<6 { iv[8 + k] ^= UInt8(truncatingIfNeeded: index >> UInt64(40 - 8 * k)) }
        iv[14] = 0
        iv[15] = 0
    }

    /// AES-GCM (RFC 7714 §8.1, §9.1): IV = (00 00 ‖ SSRC ‖ 48 bits) XOR salt, the 48 bits being
    /// ROC ‖ SEQ for SRTP and 00 00 ‖ 0 ‖ index for SRTCP.
    @inline(__always)
    private func setGCMIV(ssrc: UInt32, index: UInt64) {
        iv[0] = salt[0]
        iv[1] = salt[1]
        iv[2] = salt[2] ^ UInt8(truncatingIfNeeded: ssrc >> 24)
        iv[3] = salt[3] ^ UInt8(truncatingIfNeeded: ssrc >> 16)
        iv[4] = salt[4] ^ UInt8(truncatingIfNeeded: ssrc >> 8)
        iv[5] = salt[5] ^ UInt8(truncatingIfNeeded: ssrc)
        for k in 0..<6 { iv[6 + k] = salt[6 + k] ^ UInt8(truncatingIfNeeded: index >> UInt64(40 - 8 * k)) }
    }

    // MARK: - Transforms (in place)

    // `Int32(length)` below: lengths are of one datagram's packet (< 2^16 bytes), checked
    // against its buffer by SRTPSession before any call; they cannot reach 2^31.

    /// XORs the AES-CM keystream into `length` bytes at `data`.
    func counterMode(ssrc: UInt32, index: UInt64, _ data: UnsafeMutablePointer<UInt8>, _ length: Int) throws(SRTPError) {
        if let aes { return msab_srtp_ctr(aes, ssrc, index, data, length) }
        setCounterIV(ssrc: ssrc, index: index)
        var written: Int32 = 0
        guard EVP_EncryptInit_ex(context, nil, nil, nil, iv) == 1 else { throw SRTPError(type: .initFail) }
        guard length > 0 else { return }
        guard EVP_EncryptUpdate(context, data, &written, data, Int32(length)) == 1 else { throw SRTPError(type: .initFail) }
    }

    /// HMAC-SHA1 over `a` ‖ `b` into ``digest``.
    func authenticate(_ a: UnsafePointer<UInt8>, _ aLength: Int, _ b: UnsafePointer<UInt8>?, _ bLength: Int) throws(SRTPError) {
        guard let mac else { throw SRTPError(type: .initFail) }
        msab_srtp_hmac_digest(mac, a, aLength, b, bLength, digest)
    }

    /// AES-GCM encryption of `length` bytes at `data` in place, authenticating `aad` ‖ `aad2`
    /// too; writes the 16-byte tag at `tag`.
    func seal(
        ssrc: UInt32, index: UInt64, aad: UnsafePointer<UInt8>, _ aadLength: Int, aad2: UnsafePointer<UInt8>?, _ aad2Length: Int,
        _ data: UnsafeMutablePointer<UInt8>, _ length: Int, tag: UnsafeMutablePointer<UInt8>
    ) throws(SRTPError) {
        if let aes {
            return msab_srtp_gcm_seal(aes, ssrc, index, aad, aadLength, aad2, aad2Length, data, length, tag)
        }
        setGCMIV(ssrc: ssrc, index: index)
        var written: Int32 = 0
        guard EVP_EncryptInit_ex(context, nil, nil, nil, iv) == 1,
            EVP_EncryptUpdate(context, nil, &written, aad, Int32(aadLength)) == 1,
            aad2Length == 0 || EVP_EncryptUpdate(context, nil, &written, aad2, Int32(aad2Length)) == 1,
            length == 0 || EVP_EncryptUpdate(context, data, &written, data, Int32(length)) == 1,
            EVP_EncryptFinal_ex(context, digest, &written) == 1,
            msab_gcm_get_tag(context, tag, 16) == 1
        else { throw SRTPError(type: .initFail) }
    }

    /// AES-GCM decryption in place; false when the tag does not verify.
    func open(
        ssrc: UInt32, index: UInt64, aad: UnsafePointer<UInt8>, _ aadLength: Int, aad2: UnsafePointer<UInt8>?, _ aad2Length: Int,
        _ data: UnsafeMutablePointer<UInt8>, _ length: Int, tag: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        if let aes { return msab_srtp_gcm_open(aes, ssrc, index, aad, aadLength, aad2, aad2Length, data, length, tag) == 1 }
        setGCMIV(ssrc: ssrc, index: index)
        var written: Int32 = 0
        return EVP_DecryptInit_ex(context, nil, nil, nil, iv) == 1
            && EVP_DecryptUpdate(context, nil, &written, aad, Int32(aadLength)) == 1
            && (aad2Length == 0 || EVP_DecryptUpdate(context, nil, &written, aad2, Int32(aad2Length)) == 1)
            && (length == 0 || EVP_DecryptUpdate(context, data, &written, data, Int32(length)) == 1)
            && msab_gcm_set_tag(context, tag, 16) == 1
            && EVP_DecryptFinal_ex(context, digest, &written) == 1
    }
}
