/// Errors from the STUN codec: malformed messages from a peer. An extensible struct with cold-path
/// factories (style: NIOSSHError).
public struct STUNError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct ErrorType: Hashable, Sendable, CustomStringConvertible {
        @usableFromInline enum Base: Hashable, Sendable {
            case notSTUN
            case truncated
            case invalidLength
            case malformedAttribute
            case attributeAfterFingerprint
        }

        @usableFromInline let base: Base

        /// The first two bits are not 0, or the magic cookie is wrong (RFC 5389 §6): not STUN at all.
        public static let notSTUN = ErrorType(base: .notSTUN)
        /// Fewer bytes than the header's length field promises.
        public static let truncated = ErrorType(base: .truncated)
        /// The length field is not a multiple of 4, or disagrees with the datagram size.
        public static let invalidLength = ErrorType(base: .invalidLength)
        /// An attribute's length runs past the message, or a known attribute has the wrong size.
        public static let malformedAttribute = ErrorType(base: .malformedAttribute)
        /// Something follows FINGERPRINT, which must be last (RFC 5389 §15.5).
        public static let attributeAfterFingerprint = ErrorType(base: .attributeAfterFingerprint)

        public var description: String { String(describing: base) }
    }

    /// What went wrong.
    public var type: ErrorType
    private var diagnostics: String

    private init(_ type: ErrorType, _ diagnostics: String) {
        self.type = type
        self.diagnostics = diagnostics
    }

    public var description: String { "STUNError.\(type): \(diagnostics)" }

    @inline(never) static func notSTUN(_ what: String) -> STUNError { STUNError(.notSTUN, what) }
    @inline(never) static func truncated(_ what: String) -> STUNError { STUNError(.truncated, what) }
    @inline(never) static func invalidLength(_ what: String) -> STUNError { STUNError(.invalidLength, what) }
    @inline(never) static func malformedAttribute(_ what: String) -> STUNError { STUNError(.malformedAttribute, what) }
    @inline(never) static func attributeAfterFingerprint(_ what: String) -> STUNError { STUNError(.attributeAfterFingerprint, what) }

    public static func == (lhs: STUNError, rhs: STUNError) -> Bool { lhs.type == rhs.type }
    public func hash(into hasher: inout Hasher) { hasher.combine(type) }
}
