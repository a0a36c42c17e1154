/// Why a DTLS operation or handshake failed.
///
/// One error struct for the module (as `NIOSSHError`): `type` is what callers switch on,
/// `reason` carries diagnostics (OpenSSL's error string, the alert received, …).
public struct DTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct ErrorType: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case fingerprintMismatch, handshakeFailed, noSRTPProfile, keyExportFailed, retransmissionsExhausted
            case certificate, invalidFingerprint, openSSL
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The peer's certificate does not match any fingerprint signalled for it (RFC 8122 §5).
        public static let fingerprintMismatch = ErrorType(.fingerprintMismatch)
        /// OpenSSL aborted the handshake (bad message, fatal alert from the peer, no common cipher…).
        public static let handshakeFailed = ErrorType(.handshakeFailed)
        /// The handshake completed without a use_srtp extension agreement (RFC 5764 §4.1).
        public static let noSRTPProfile = ErrorType(.noSRTPProfile)
        /// `SSL_export_keying_material` failed.
        public static let keyExportFailed = ErrorType(.keyExportFailed)
        /// The peer stayed silent through every retransmission (RFC 6347 §4.2.4).
        public static let retransmissionsExhausted = ErrorType(.retransmissionsExhausted)
        /// Generating, loading or exporting a certificate failed.
        public static let certificate = ErrorType(.certificate)
        /// A signalled fingerprint is malformed or uses an unknown hash.
        public static let invalidFingerprint = ErrorType(.invalidFingerprint)
        /// Setting up OpenSSL failed.
        public static let openSSL = ErrorType(.openSSL)

        public var description: String { String(describing: self.base) }
    }

    /// What went wrong.
    public var type: ErrorType
    /// Human-readable detail for logs; not meant to be matched on.
    public var reason: String

    public init(type: ErrorType, reason: String) {
        self.type = type
        self.reason = reason
    }

    public var description: String { "DTLSError(\(self.type): \(self.reason))" }
}
