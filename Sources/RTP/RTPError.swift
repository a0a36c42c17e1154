/// Errors from the RTP module: malformed RTP/RTCP input from a peer. A struct with an extensible
/// `ErrorType` and cold-path factories (style: NIOSSHError), so new cases are not breaking changes.
public struct RTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct ErrorType: Hashable, Sendable, CustomStringConvertible {
        @usableFromInline enum Base: Hashable, Sendable {
            case truncated
            case unsupportedVersion
            case invalidLength
            case invalidPadding
            case malformed
            case tooManyItems
        }

        @usableFromInline let base: Base

        /// Fewer bytes than a header or a length field promises.
        public static let truncated = ErrorType(base: .truncated)
        /// The version field is not 2.
        public static let unsupportedVersion = ErrorType(base: .unsupportedVersion)
        /// A length field is inconsistent with the structure (e.g. too short for its count).
        public static let invalidLength = ErrorType(base: .invalidLength)
        /// The padding count is 0 or larger than the packet.
        public static let invalidPadding = ErrorType(base: .invalidPadding)
        /// Any other structural error.
        public static let malformed = ErrorType(base: .malformed)
        /// More items than a legitimate peer sends (NACK FCI entries, SDES items per chunk): refused
        /// so that one datagram cannot buy unbounded work.
        public static let tooManyItems = ErrorType(base: .tooManyItems)

        public var description: String { String(describing: base) }
    }

    /// What went wrong.
    public var type: ErrorType
    private var diagnostics: String

    private init(_ type: ErrorType, _ diagnostics: String) {
        self.type = type
        self.diagnostics = diagnostics
    }

    public var description: String { "RTPError.\(type): \(diagnostics)" }

    @inline(never) static func truncated(_ what: String) -> RTPError { RTPError(.truncated, what) }
    @inline(never) static func unsupportedVersion(_ version: UInt8) -> RTPError { RTPError(.unsupportedVersion, "version \(version)") }
    @inline(never) static func invalidLength(_ what: String) -> RTPError { RTPError(.invalidLength, what) }
    @inline(never) static func invalidPadding(_ what: String) -> RTPError { RTPError(.invalidPadding, what) }
    @inline(never) static func malformed(_ what: String) -> RTPError { RTPError(.malformed, what) }
    @inline(never) static func tooManyItems(_ what: String) -> RTPError { RTPError(.tooManyItems, what) }

    public static func == (lhs: RTPError, rhs: RTPError) -> Bool { lhs.type == rhs.type }
    public func hash(into hasher: inout Hasher) { hasher.combine(type) }
}
