import NIOCore

/// One argument of a command, sent as a RESP bulk string (binary-safe). Commands are written as
/// `client.send("SET", "key", .bytes(payload))` or `client.send(["INCRBY", "n", 5])`.
public struct RESPArgument: Sendable, Hashable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral {
    @usableFromInline enum Storage: Sendable, Hashable {
        case string(String)
        case bytes(ByteBuffer)
        case int(Int)
    }

    @usableFromInline let storage: Storage

    @inlinable init(storage: Storage) { self.storage = storage }

    public init(stringLiteral value: String) { storage = .string(value) }
    /// `client.send("GET", "room:\(id)")`
    public init(stringInterpolation: DefaultStringInterpolation) { storage = .string(String(stringInterpolation: stringInterpolation)) }
    public init(integerLiteral value: Int) { storage = .int(value) }

    /// UTF-8 text.
    public static func string(_ value: String) -> RESPArgument { RESPArgument(storage: .string(value)) }
    /// Raw bytes.
    public static func bytes(_ value: ByteBuffer) -> RESPArgument { RESPArgument(storage: .bytes(value)) }
    /// Raw bytes.
    public static func bytes(_ value: [UInt8]) -> RESPArgument { RESPArgument(storage: .bytes(ByteBuffer(bytes: value))) }
    /// A decimal integer (Redis parses numeric arguments from their text).
    public static func int(_ value: Int) -> RESPArgument { RESPArgument(storage: .int(value)) }
    /// A double as Redis reads it (`inf`/`-inf` spelled the way Redis accepts them).
    public static func double(_ value: Double) -> RESPArgument {
        if value == .infinity { return .string("+inf") }
        if value == -.infinity { return .string("-inf") }
        return .string(String(value))
    }
}

extension RESPArgument: CustomStringConvertible {
    public var description: String {
        switch storage {
        case .string(let text): text
        case .bytes(let buffer): String(buffer: buffer)
        case .int(let value): String(value)
        }
    }
}
