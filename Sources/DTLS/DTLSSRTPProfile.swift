/// A DTLS-SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2).
///
/// The raw value is the IANA `SRTPProtectionProfile` identifier, the same number the SRTP
/// module's `SRTPProfile` uses, so `SRTPProfile(rawValue: profile.rawValue)` converts.
/// (DTLS does not depend on SRTP, hence the twin enum.)
public enum DTLSSRTPProfile: UInt16, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case aes128CMHMACSHA1_80 = 0x0001
    case aes128CMHMACSHA1_32 = 0x0002
    case aeadAES128GCM = 0x0007
    case aeadAES256GCM = 0x0008

    /// Our offer, most preferred first: AEAD_AES_256_GCM (what aiortc picks),
    /// AEAD_AES_128_GCM, AES128_CM_SHA1_80 (what Chrome picks), AES128_CM_SHA1_32.
    public static let defaultOffer: [DTLSSRTPProfile] = [.aeadAES256GCM, .aeadAES128GCM, .aes128CMHMACSHA1_80, .aes128CMHMACSHA1_32]

    /// The name OpenSSL's `SSL_CTX_set_tlsext_use_srtp` understands.
    public var openSSLName: String {
        switch self {
        case .aeadAES256GCM: "SRTP_AEAD_AES_256_GCM"
        case .aeadAES128GCM: "SRTP_AEAD_AES_128_GCM"
        case .aes128CMHMACSHA1_80: "SRTP_AES128_CM_SHA1_80"
        case .aes128CMHMACSHA1_32: "SRTP_AES128_CM_SHA1_32"
        }
    }

    /// SRTP master key length in bytes.
    public var keyLength: Int { self == .aeadAES256GCM ? 32 : 16 }

    /// SRTP master salt length in bytes (12 for GCM, 14 for AES-CM).
    public var saltLength: Int {
        switch self {
        case .aeadAES256GCM, .aeadAES128GCM: 12
        case .aes128CMHMACSHA1_80, .aes128CMHMACSHA1_32: 14
        }
    }

    public var description: String { self.openSSLName }
}
