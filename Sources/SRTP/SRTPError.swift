/// Why an SRTP operation failed.
///
/// One error struct for the module (as `NIOSSHError`): `type` is what callers switch on;
/// `status` keeps libsrtp's raw `srtp_err_status_t` for diagnostics.
public struct SRTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct ErrorType: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case authFail, replayFail, badParam, malformed, bufferTooSmall, initFail, other
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The authentication tag did not verify (tampered data or a wrong key).
        public static let authFail = ErrorType(.authFail)
        /// The packet index was already seen, or is older than the replay window.
        public static let replayFail = ErrorType(.replayFail)
        /// A parameter was rejected (e.g. key‖salt of the wrong length for the profile).
        public static let badParam = ErrorType(.badParam)
        /// The packet is too short, or its header does not fit its length.
        public static let malformed = ErrorType(.malformed)
        /// The caller's buffer lacks room for the authentication tag / SRTCP trailer.
        public static let bufferTooSmall = ErrorType(.bufferTooSmall)
        /// libsrtp could not be initialised or could not create the session.
        public static let initFail = ErrorType(.initFail)
        /// Any other libsrtp failure (see ``SRTPError/status``).
        public static let other = ErrorType(.other)

        public var description: String { String(describing: self.base) }
    }

    /// What went wrong.
    public var type: ErrorType
    /// libsrtp's `srtp_err_status_t` value, or 0 when the failure was found before calling libsrtp.
    public var status: Int32

    public var description: String { "SRTPError(\(self.type), status: \(self.status))" }

    @inline(never)
    static func libsrtp(_ status: Int32) -> SRTPError {
        // Values of srtp_err_status_t (srtp2/srtp.h).
        let type: ErrorType =
            switch status {
            case 7: .authFail  // srtp_err_status_auth_fail
            case 9, 10: .replayFail  // srtp_err_status_replay_fail, srtp_err_status_replay_old
            case 2: .badParam  // srtp_err_status_bad_param
            case 21: .malformed  // srtp_err_status_parse_err
            case 5: .initFail  // srtp_err_status_init_fail
            default: .other
            }
        return SRTPError(type: type, status: status)
    }

    @inline(never)
    static func local(_ type: ErrorType) -> SRTPError { SRTPError(type: type, status: 0) }
}
