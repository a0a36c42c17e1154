/// An SRTP protection profile as negotiated by DTLS-SRTP.
///
/// The raw value is the two-octet `SRTPProtectionProfile` identifier of the IANA
/// "DTLS-SRTP Protection Profiles" registry (RFC 5764 §4.1.2, RFC 7714 §14.2); libsrtp's
/// `srtp_profile_t` uses the same numbers, and so does the DTLS module's `DTLSSRTPProfile`,
/// so the two convert with `init(rawValue:)`.
///
/// Lengths in bytes (RFC 5764 §4.1.2 and RFC 7714 §14.2):
///
/// | profile                 | key | salt | SRTP tag | SRTCP tag |
/// |-------------------------|-----|------|----------|-----------|
/// | SRTP_AEAD_AES_256_GCM   | 32  | 12   | 16       | 16        |
/// | SRTP_AEAD_AES_128_GCM   | 16  | 12   | 16       | 16        |
/// | SRTP_AES128_CM_SHA1_80  | 16  | 14   | 10       | 10        |
/// | SRTP_AES128_CM_SHA1_32  | 16  | 14   | 4        | 10        |
public enum SRTPProfile: UInt16, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` {0x00, 0x01}.
    case aes128CMHMACSHA1_80 = 0x0001
    /// `SRTP_AES128_CM_HMAC_SHA1_32` {0x00, 0x02}; SRTCP keeps an 80-bit tag (RFC 5764 §4.1.2).
    case aes128CMHMACSHA1_32 = 0x0002
    /// `SRTP_AEAD_AES_128_GCM` {0x00, 0x07} (RFC 7714).
    case aeadAES128GCM = 0x0007
    /// `SRTP_AEAD_AES_256_GCM` {0x00, 0x08} (RFC 7714).
    case aeadAES256GCM = 0x0008

    /// Master key length in bytes.
    public var keyLength: Int {
        switch self {
        case .aeadAES256GCM: 32
        case .aeadAES128GCM, .aes128CMHMACSHA1_80, .aes128CMHMACSHA1_32: 16
        }
    }

    /// Master salt length in bytes (96 bits for GCM, RFC 7714 §12; 112 bits for AES-CM, RFC 3711 §8.2).
    public var saltLength: Int {
        switch self {
        case .aeadAES256GCM, .aeadAES128GCM: 12
        case .aes128CMHMACSHA1_80, .aes128CMHMACSHA1_32: 14
        }
    }

    /// `keyLength + saltLength`: the size of the key‖salt blob an ``SRTPSession`` is created from.
    public var keyAndSaltLength: Int { self.keyLength + self.saltLength }

    /// Authentication tag length appended to SRTP packets.
    public var rtpAuthTagLength: Int {
        switch self {
        case .aeadAES256GCM, .aeadAES128GCM: 16
        case .aes128CMHMACSHA1_80: 10
        case .aes128CMHMACSHA1_32: 4
        }
    }

    /// Authentication tag length appended to SRTCP packets (80 bits even for the _32 profile).
    public var rtcpAuthTagLength: Int {
        switch self {
        case .aeadAES256GCM, .aeadAES128GCM: 16
        case .aes128CMHMACSHA1_80, .aes128CMHMACSHA1_32: 10
        }
    }

    /// Bytes `protectRTP` appends: the tag (we never use an MKI).
    public var rtpOverhead: Int { self.rtpAuthTagLength }

    /// Bytes `protectRTCP` appends: the 32-bit E‖SRTCP index (RFC 3711 §3.4) and the tag.
    public var rtcpOverhead: Int { 4 + self.rtcpAuthTagLength }

    /// The name mediasoup uses for the crypto suite (`srtpParameters.cryptoSuite`, logs).
    public var mediasoupName: String {
        switch self {
        case .aeadAES256GCM: "AEAD_AES_256_GCM"
        case .aeadAES128GCM: "AEAD_AES_128_GCM"
        case .aes128CMHMACSHA1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aes128CMHMACSHA1_32: "AES_CM_128_HMAC_SHA1_32"
        }
    }

    public var description: String { self.mediasoupName }
}
