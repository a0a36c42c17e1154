/// Why a message is not acceptable MessagePack, and at which byte (from the message's start).
public struct MessagePackDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The message ends inside a value, or a declared length exceeds the bytes that remain.
        case truncated
        /// A complete value is followed by more bytes.
        case trailingBytes
        /// 0xc1, the one byte the spec never uses.
        case invalidFormatByte(UInt8)
        case depthLimitExceeded
        case elementLimitExceeded
        case stringTooLong
        case binaryTooLong
        case invalidUTF8
        /// An extension of type −1 whose size is not 4, 8 or 12, or whose nanoseconds exceed 999,999,999.
        case invalidTimestamp
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "MessagePack decoding error at byte \(offset): \(reason)" }
}
