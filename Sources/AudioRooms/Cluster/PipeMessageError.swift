/// Why a pipe message was refused.
public struct PipeMessageError: Error, Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case tooLarge, malformed, missingField, outOfRange, unknownType
    }

    public var kind: Kind
    public var field: String?

    init(_ kind: Kind, _ field: String? = nil) {
        self.kind = kind
        self.field = field
    }
}
