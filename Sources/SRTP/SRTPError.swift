/// Why an SRTP operation failed.
///
/// One error struct for the module (as `NIOSSHError`): `type` is what callers switch on.
public struct SRTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct ErrorType: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case authFail, replayFail, badParam, malformed, bufferTooSmall, initFail, keyExpired
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
        /// OpenSSL could not set up or run a cipher.
        public static let initFail = ErrorType(.initFail)
        /// The SRTCP index space (2^31 packets per SSRC) is used up, or too many SSRCs use one session.
        public static let keyExpired = ErrorType(.keyExpired)

        public var description: String { String(describing: self.base) }
    }

    /// What went wrong.
    public var type: ErrorType

    public init(type: ErrorType) { self.type = type }

    public var description: String { "SRTPError(\(self.type))" }
}
