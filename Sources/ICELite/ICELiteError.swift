/// Errors from the ICELite module (programmer-supplied configuration, never peer data).
public struct ICELiteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct ErrorType: Hashable, Sendable, CustomStringConvertible {
        @usableFromInline enum Base: Hashable, Sendable {
            case invalidUsernameFragment
            case invalidPassword
        }

        @usableFromInline let base: Base

        /// A ufrag shorter than 4 characters or not made of ice-chars (RFC 8839 §5.4).
        public static let invalidUsernameFragment = ErrorType(base: .invalidUsernameFragment)
        /// A password shorter than 22 characters or not made of ice-chars (RFC 8839 §5.4).
        public static let invalidPassword = ErrorType(base: .invalidPassword)

        public var description: String { String(describing: base) }
    }

    /// What went wrong.
    public var type: ErrorType
    private var diagnostics: String

    private init(_ type: ErrorType, _ diagnostics: String) {
        self.type = type
        self.diagnostics = diagnostics
    }

    public var description: String { "ICELiteError.\(type): \(diagnostics)" }

    @inline(never) static func invalidUsernameFragment(_ value: String) -> ICELiteError {
        ICELiteError(.invalidUsernameFragment, "ufrag of \(value.count) characters: need ≥ 4 ice-chars")
    }

    @inline(never) static func invalidPassword(_ value: String) -> ICELiteError {
        ICELiteError(.invalidPassword, "password of \(value.count) characters: need ≥ 22 ice-chars")
    }

    public static func == (lhs: ICELiteError, rhs: ICELiteError) -> Bool { lhs.type == rhs.type }
    public func hash(into hasher: inout Hasher) { hasher.combine(type) }
}
