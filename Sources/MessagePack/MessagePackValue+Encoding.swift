public import NIOCore

// The encoder follows notepack.io `lib/encode.js` (3.0.x) format by format:
//   integers  → positive fixint, uint 8/16/32/64 (0xcc-0xcf) for ≥ 0; negative fixint,
//               int 8/16/32/64 (0xd0-0xd3) for < 0: always the smallest that holds the value
//   floats    → float 64 (0xcb), never float 32
//   strings   → fixstr (< 32 bytes), str 8/16/32 (0xd9-0xdb), length in UTF-8 bytes
//   binary    → bin 8/16/32 (0xc4-0xc6)
//   arrays    → fixarray (< 16), array 16/32 (0xdc, 0xdd); maps → fixmap (< 16), map 16/32 (0xde, 0xdf)
//   timestamp → the spec's three sizes (notepack 3 writes a Date this way; see below)
//   ext       → fixext 1/2/4/8/16 when the size allows, else ext 8/16/32
// so a message built here is byte for byte what a Node peer publishes for the same value.

extension MessagePackValue {
    /// The encoded bytes in a new buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }

    /// The encoded bytes as an array.
    public var encodedBytes: [UInt8] {
        let buffer = encoded()
        return Array(buffer.readableBytesView)
    }

    /// Appends the encoding of this value to `buffer`.
    ///
    /// A string, binary, array or map of 2^32 or more elements cannot be written in MessagePack;
    /// such a value is a programming error (nothing that came off the wire through the decoder's
    /// limits is that large) and stops the process, as notepack throws "… too large".
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .nil:
            buffer.writeInteger(UInt8(0xc0))
        case .bool(let value):
            buffer.writeInteger(UInt8(value ? 0xc3 : 0xc2))
        case .int(let value):
            if value >= 0 {
                Self.writeUnsigned(UInt64(value), into: &buffer)
            } else {
                Self.writeNegative(value, into: &buffer)
            }
        case .uint(let value):
            Self.writeUnsigned(value, into: &buffer)
        case .float(let value):
            buffer.writeInteger(UInt8(0xcb))
            buffer.writeInteger(value.bitPattern)
        case .string(let value):
            let length = value.utf8.count
            if length < 0x20 {
                buffer.writeInteger(UInt8(0xa0 | length))
            } else {
                Self.writeHeader(length: length, format8: 0xd9, format16: 0xda, format32: 0xdb, into: &buffer)
            }
            buffer.writeString(value)
        case .binary(let value):
            Self.writeHeader(length: value.readableBytes, format8: 0xc4, format16: 0xc5, format32: 0xc6, into: &buffer)
            buffer.writeImmutableBuffer(value)
        case .array(let elements):
            if elements.count < 0x10 {
                buffer.writeInteger(UInt8(0x90 | elements.count))
            } else {
                Self.writeHeader(length: elements.count, format8: nil, format16: 0xdc, format32: 0xdd, into: &buffer)
            }
            for element in elements { element.encode(into: &buffer) }
        case .map(let map):
            if map.count < 0x10 {
                buffer.writeInteger(UInt8(0x80 | map.count))
            } else {
                Self.writeHeader(length: map.count, format8: nil, format16: 0xde, format32: 0xdf, into: &buffer)
            }
            for entry in map.entries {
                entry.key.encode(into: &buffer)
                entry.value.encode(into: &buffer)
            }
        case .ext(let type, let data):
            Self.writeExtensionHeader(type: type, length: data.count, into: &buffer)
            buffer.writeBytes(data)
        case .timestamp(let seconds, let nanoseconds):
            Self.writeTimestamp(seconds: seconds, nanoseconds: nanoseconds, into: &buffer)
        }
    }

    static func writeUnsigned(_ value: UInt64, into buffer: inout ByteBuffer) {
        switch value {
        case 0..<0x80:
            buffer.writeInteger(UInt8(truncatingIfNeeded: value))
        case 0x80..<0x100:
            buffer.writeInteger(UInt8(0xcc))
            buffer.writeInteger(UInt8(truncatingIfNeeded: value))
        case 0x100..<0x1_0000:
            buffer.writeInteger(UInt8(0xcd))
            buffer.writeInteger(UInt16(truncatingIfNeeded: value))
        case 0x1_0000..<0x1_0000_0000:
            buffer.writeInteger(UInt8(0xce))
            buffer.writeInteger(UInt32(truncatingIfNeeded: value))
        default:
            buffer.writeInteger(UInt8(0xcf))
            buffer.writeInteger(value)
        }
    }

    static func writeNegative(_ value: Int64, into buffer: inout ByteBuffer) {
        switch value {
        case -0x20..<0:
            buffer.writeInteger(Int8(truncatingIfNeeded: value))
        case -0x80..<0:
            buffer.writeInteger(UInt8(0xd0))
            buffer.writeInteger(Int8(truncatingIfNeeded: value))
        case -0x8000..<0:
            buffer.writeInteger(UInt8(0xd1))
            buffer.writeInteger(Int16(truncatingIfNeeded: value))
        case -0x8000_0000..<0:
            buffer.writeInteger(UInt8(0xd2))
            buffer.writeInteger(Int32(truncatingIfNeeded: value))
        default:
            buffer.writeInteger(UInt8(0xd3))
            buffer.writeInteger(value)
        }
    }

    /// Writes a length header: `format8` + 8-bit length when there is such a format and the
    /// length fits (arrays and maps have none: their short form lives in the type byte), else
    /// `format16` + 16-bit or `format32` + 32-bit length.
    static func writeHeader(length: Int, format8: UInt8?, format16: UInt8, format32: UInt8, into buffer: inout ByteBuffer) {
        precondition(length <= Int(UInt32.max), "MessagePack cannot hold 2^32 or more elements or bytes")
        if let format8, length < 0x100 {
            buffer.writeInteger(format8)
            buffer.writeInteger(UInt8(truncatingIfNeeded: length))
        } else if length < 0x1_0000 {
            buffer.writeInteger(format16)
            buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        } else {
            buffer.writeInteger(format32)
            buffer.writeInteger(UInt32(truncatingIfNeeded: length))
        }
    }

    static func writeExtensionHeader(type: Int8, length: Int, into buffer: inout ByteBuffer) {
        switch length {
        case 1: buffer.writeInteger(UInt8(0xd4))
        case 2: buffer.writeInteger(UInt8(0xd5))
        case 4: buffer.writeInteger(UInt8(0xd6))
        case 8: buffer.writeInteger(UInt8(0xd7))
        case 16: buffer.writeInteger(UInt8(0xd8))
        default:
            // ext 8/16/32: the length comes before the type.
            writeHeader(length: length, format8: 0xc7, format16: 0xc8, format32: 0xc9, into: &buffer)
        }
        buffer.writeInteger(type)
    }

    /// The timestamp extension's three sizes (spec, "Timestamp extension type"): 32-bit when the
    /// seconds fit in 32 unsigned bits and there are no nanoseconds (`d6 ff` + seconds, what
    /// notepack 3 writes for a whole-second Date), 64-bit when the seconds fit in 34 bits
    /// (`d7 ff` + nanoseconds << 34 | seconds), 96-bit otherwise (`c7 0c ff` + nanoseconds + seconds).
    /// Nanoseconds of a second or more are carried into the seconds (saturating), so what is
    /// written is always a valid timestamp.
    static func writeTimestamp(seconds: Int64, nanoseconds: UInt32, into buffer: inout ByteBuffer) {
        var seconds = seconds
        var nanoseconds = nanoseconds
        if nanoseconds >= 1_000_000_000 {
            let (sum, overflow) = seconds.addingReportingOverflow(Int64(nanoseconds / 1_000_000_000))
            seconds = overflow ? .max : sum
            nanoseconds %= 1_000_000_000
        }
        if seconds >= 0, seconds >> 34 == 0 {
            if nanoseconds == 0, seconds <= Int64(UInt32.max) {
                buffer.writeInteger(UInt8(0xd6))
                buffer.writeInteger(Int8(-1))
                buffer.writeInteger(UInt32(truncatingIfNeeded: seconds))
            } else {
                buffer.writeInteger(UInt8(0xd7))
                buffer.writeInteger(Int8(-1))
                buffer.writeInteger(UInt64(nanoseconds) << 34 | UInt64(seconds))
            }
        } else {
            buffer.writeInteger(UInt8(0xc7))
            buffer.writeInteger(UInt8(12))
            buffer.writeInteger(Int8(-1))
            buffer.writeInteger(nanoseconds)
            buffer.writeInteger(seconds)
        }
    }
}
