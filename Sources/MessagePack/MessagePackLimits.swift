/// Bounds on what one MessagePack message may make the decoder build. Every declared length is
/// also checked against the bytes that remain before anything is allocated, so a 5-byte message
/// claiming 4 G array elements fails at once; these limits bound what a large, well-formed
/// message can cost.
public struct MessagePackLimits: Sendable, Hashable {
    /// The deepest nesting of arrays and maps: a value inside `maximumDepth` nested containers is
    /// accepted, one more level is refused (never a stack overflow).
    public var maximumDepth: Int
    /// The most values one message may hold in all its arrays and maps together (a map entry
    /// counts twice: key and value).
    public var maximumElements: Int
    /// The longest string, in UTF-8 bytes.
    public var maximumStringLength: Int
    /// The longest binary or extension payload, in bytes.
    public var maximumBinaryLength: Int
    /// What a string that is not valid UTF-8 becomes. `.replace` (the default) substitutes
    /// U+FFFD for each bad sequence, as Node's `Buffer.toString("utf8")` does inside notepack, so
    /// msab accepts exactly the strings a Node peer accepts; `.reject` makes it an error.
    public var invalidUTF8: InvalidUTF8Handling

    public enum InvalidUTF8Handling: Sendable, Hashable {
        case replace
        case reject
    }

    public init(
        maximumDepth: Int = 64, maximumElements: Int = 1_000_000, maximumStringLength: Int = 16 << 20,
        maximumBinaryLength: Int = 16 << 20, invalidUTF8: InvalidUTF8Handling = .replace
    ) {
        self.maximumDepth = maximumDepth
        self.maximumElements = maximumElements
        self.maximumStringLength = maximumStringLength
        self.maximumBinaryLength = maximumBinaryLength
        self.invalidUTF8 = invalidUTF8
    }

    public static let `default` = MessagePackLimits()
}
