import CSRTP

/// One direction of SRTP/SRTCP (libsrtp 2): inbound sessions unprotect what a peer sent,
/// outbound sessions protect what we send. In place, on the caller's buffer, which must have
/// `SRTPSession.trailerCapacity` spare bytes after the packet for protection.
/// Not thread-safe: confine it to one event loop.
public final class SRTPSession: @unchecked Sendable {
    public enum Direction: Sendable { case inbound, outbound }

    public enum Profile: Int32, Sendable {
        case aeadAES256GCM = 0, aeadAES128GCM = 1, aes128CMSHA1_80 = 2, aes128CMSHA1_32 = 3

        /// Key ‖ salt length libsrtp expects.
        public var keyAndSaltLength: Int {
            switch self {
            case .aeadAES256GCM: 44
            case .aeadAES128GCM: 28
            case .aes128CMSHA1_80, .aes128CMSHA1_32: 30
            }
        }
    }

    /// Room to leave after a packet for the auth tag / SRTCP index (libsrtp's SRTP_MAX_TRAILER_LEN + 4).
    public static let trailerCapacity = 16 + 128 + 4

    public struct SRTPError: Error, Sendable, Hashable {
        public var status: Int32
        /// libsrtp's srtp_err_status_t: 7 auth_fail, 9 replay_fail, 10 replay_old, 2 bad_param…
        public var isAuthFailure: Bool { status == 7 }
        public var isReplay: Bool { status == 9 || status == 10 }
    }

    let session: srtp_t

    public init(profile: Profile, direction: Direction, keyAndSalt: [UInt8]) throws {
        SRTPLibrary.initialize()
        guard keyAndSalt.count == profile.keyAndSaltLength else { throw SRTPError(status: 2) }
        var created: srtp_t?
        let status = keyAndSalt.withUnsafeBufferPointer { key in
            msab_srtp_create(&created, profile.rawValue, direction == .inbound ? 0 : 1, key.baseAddress)
        }
        guard status == 0, let created else { throw SRTPError(status: status) }
        session = created
    }

    deinit { srtp_dealloc(session) }

    /// Protects an RTP packet of `length` bytes in place; returns the new length.
    public func protectRTP(_ buffer: UnsafeMutableRawPointer, length: Int) throws(SRTPError) -> Int {
        var len = Int32(length)
        let status = srtp_protect(session, buffer, &len)
        guard status.rawValue == 0 else { throw SRTPError(status: Int32(status.rawValue)) }
        return Int(len)
    }

    public func unprotectRTP(_ buffer: UnsafeMutableRawPointer, length: Int) throws(SRTPError) -> Int {
        var len = Int32(length)
        let status = srtp_unprotect(session, buffer, &len)
        guard status.rawValue == 0 else { throw SRTPError(status: Int32(status.rawValue)) }
        return Int(len)
    }

    public func protectRTCP(_ buffer: UnsafeMutableRawPointer, length: Int) throws(SRTPError) -> Int {
        var len = Int32(length)
        let status = srtp_protect_rtcp(session, buffer, &len)
        guard status.rawValue == 0 else { throw SRTPError(status: Int32(status.rawValue)) }
        return Int(len)
    }

    public func unprotectRTCP(_ buffer: UnsafeMutableRawPointer, length: Int) throws(SRTPError) -> Int {
        var len = Int32(length)
        let status = srtp_unprotect_rtcp(session, buffer, &len)
        guard status.rawValue == 0 else { throw SRTPError(status: Int32(status.rawValue)) }
        return Int(len)
    }
}

/// One-time libsrtp set-up (mediasoup's DepLibSRTP).
enum SRTPLibrary {
    static let initialized: Bool = {
        srtp_init()
        return true
    }()

    static func initialize() { _ = initialized }
}
