/// An error from the ORTC negotiation functions in ``ORTC``.
///
/// Shaped like `NIOSSHError`: an extensible ``ErrorType`` to switch on plus a human-readable
/// message that says what was wrong and where (`codecs[0].mimeType`), mirroring the
/// `TypeError`/`UnsupportedError` split of mediasoup's `node/src/ortc.ts`.
public struct ORTCError: Error, Sendable, Hashable {
    /// The category of the error.
    public struct ErrorType: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Hashable { case invalidParameters, unsupported, payloadTypesExhausted }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input is malformed (mediasoup throws `TypeError`): missing or ill-typed field,
        /// bad MIME type, out-of-range payload type, duplicated payload type, …
        public static let invalidParameters = ErrorType(.invalidParameters)
        /// The input is well-formed but cannot be served (mediasoup throws `UnsupportedError`):
        /// unknown codec, no codec in common with the remote capabilities, …
        public static let unsupported = ErrorType(.unsupported)
        /// No dynamic payload type (96–127) is left for another codec.
        public static let payloadTypesExhausted = ErrorType(.payloadTypesExhausted)

        public var description: String { base.rawValue }
    }

    /// The category of the error.
    public var type: ErrorType
    /// What exactly was wrong, for logs and for the `details` of an error ack.
    public var message: String

    @inline(never)
    static func invalid(_ message: String) -> ORTCError {
        ORTCError(type: .invalidParameters, message: message)
    }

    @inline(never)
    static func unsupported(_ message: String) -> ORTCError {
        ORTCError(type: .unsupported, message: message)
    }

    @inline(never)
    static func payloadTypesExhausted() -> ORTCError {
        ORTCError(type: .payloadTypesExhausted, message: "cannot allocate more dynamic codec payload types")
    }
}

extension ORTCError: CustomStringConvertible {
    public var description: String { "ORTCError.\(type): \(message)" }
}
