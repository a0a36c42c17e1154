public import NIOCore

/// One attribute of a received STUN message: its type, its value bytes (a slice sharing the
/// message's storage) and where its header starts in the message.
///
/// RFC 5389 §15:
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Type                  |            Length             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Value (variable)                ....
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Values are padded to a multiple of 4 bytes; `Length` excludes the padding.
public struct STUNAttribute: Sendable, Hashable {
    public var type: STUNAttributeType
    /// The value without padding.
    public var value: ByteBuffer
    /// Offset of the attribute header from the start of the message.
    public var offset: Int

    public init(type: STUNAttributeType, value: ByteBuffer, offset: Int) {
        self.type = type
        self.value = value
        self.offset = offset
    }
}
