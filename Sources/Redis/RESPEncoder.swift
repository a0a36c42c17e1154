import NIOCore

/// Writes commands the way every Redis client sends them: an array of bulk strings
/// (`*<argc> CR LF` then `$<len> CR LF <bytes> CR LF` per argument; see the grammar in RESPDecoder.swift).
/// The inline command format is never used: it is not binary-safe.
public enum RESPEncoder {
    public static func encodeCommand(_ arguments: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            switch argument.storage {
            case .string(let text):
                buffer.writeStaticString("$")
                buffer.writeString(String(text.utf8.count))
                buffer.writeStaticString("\r\n")
                buffer.writeString(text)
            case .bytes(let bytes):
                buffer.writeStaticString("$")
                buffer.writeString(String(bytes.readableBytes))
                buffer.writeStaticString("\r\n")
                buffer.writeImmutableBuffer(bytes)
            case .int(let value):
                let text = String(value)
                buffer.writeStaticString("$")
                buffer.writeString(String(text.utf8.count))
                buffer.writeStaticString("\r\n")
                buffer.writeString(text)
            }
            buffer.writeStaticString("\r\n")
        }
    }

    /// The encoded size, to allocate once for a pipeline.
    static func encodedSize(_ arguments: [RESPArgument]) -> Int {
        var size = 16
        for argument in arguments {
            switch argument.storage {
            case .string(let text): size += text.utf8.count + 16
            case .bytes(let bytes): size += bytes.readableBytes + 16
            case .int: size += 36
            }
        }
        return size
    }
}
