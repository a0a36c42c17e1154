public import NIOCore

extension MessagePackValue {
    /// Decodes exactly one value from the readable bytes of `buffer` (trailing bytes are an
    /// error, as in notepack's `decode`). Binary values are slices of `buffer`, not copies.
    public static func decode(
        _ buffer: ByteBuffer, limits: MessagePackLimits = .default
    ) throws(MessagePackDecodingError) -> MessagePackValue {
        var reader = MessagePackReader(buffer: buffer, limits: limits)
        let value = try reader.readValue(depth: 0)
        guard reader.index == reader.end else { throw reader.error(.trailingBytes) }
        return value
    }

    /// Decodes exactly one value from `bytes`.
    public static func decode(
        _ bytes: some Sequence<UInt8>, limits: MessagePackLimits = .default
    ) throws(MessagePackDecodingError) -> MessagePackValue {
        try decode(ByteBuffer(bytes: bytes), limits: limits)
    }
}

/// One pass over a message. Every read checks the remaining length first; nothing is allocated
/// for a declared length before that check (and the limits) passed.
struct MessagePackReader {
    let buffer: ByteBuffer
    let limits: MessagePackLimits
    let start: Int
    let end: Int
    var index: Int
    /// Values inside arrays and maps so far (against `limits.maximumElements`).
    var elements = 0

    init(buffer: ByteBuffer, limits: MessagePackLimits) {
        self.buffer = buffer
        self.limits = limits
        self.start = buffer.readerIndex
        self.end = buffer.writerIndex
        self.index = buffer.readerIndex
    }

    var remaining: Int { end - index }

    func error(_ reason: MessagePackDecodingError.Reason, at position: Int? = nil) -> MessagePackDecodingError {
        MessagePackDecodingError(reason, offset: (position ?? index) - start)
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(MessagePackDecodingError) -> T {
        guard remaining >= MemoryLayout<T>.size, let value = buffer.getInteger(at: index, as: T.self) else {
            throw error(.truncated)
        }
        index += MemoryLayout<T>.size
        return value
    }

    /// A length field as an Int, without trapping on any platform.
    mutating func readLength<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(MessagePackDecodingError) -> Int {
        let raw = try read(T.self)
        return Int(exactly: raw) ?? .max
    }

    mutating func readValue(depth: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        let position = index
        let prefix = try read(UInt8.self)
        switch prefix {
        case 0x00...0x7f: return .int(Int64(prefix))
        case 0x80...0x8f: return try readMap(count: Int(prefix & 0x0f), depth: depth, at: position)
        case 0x90...0x9f: return try readArray(count: Int(prefix & 0x0f), depth: depth, at: position)
        case 0xa0...0xbf: return .string(try readString(length: Int(prefix & 0x1f)))
        case 0xc0: return .nil
        case 0xc1: throw error(.invalidFormatByte(prefix), at: position)
        case 0xc2: return .bool(false)
        case 0xc3: return .bool(true)
        case 0xc4: return .binary(try readBinary(length: try readLength(UInt8.self)))
        case 0xc5: return .binary(try readBinary(length: try readLength(UInt16.self)))
        case 0xc6: return .binary(try readBinary(length: try readLength(UInt32.self)))
        case 0xc7: return try readExtension(length: try readLength(UInt8.self), format: prefix, at: position)
        case 0xc8: return try readExtension(length: try readLength(UInt16.self), format: prefix, at: position)
        case 0xc9: return try readExtension(length: try readLength(UInt32.self), format: prefix, at: position)
        case 0xca: return .float(Double(Float(bitPattern: try read(UInt32.self))))
        case 0xcb: return .float(Double(bitPattern: try read(UInt64.self)))
        case 0xcc: return .int(Int64(try read(UInt8.self)))
        case 0xcd: return .int(Int64(try read(UInt16.self)))
        case 0xce: return .int(Int64(try read(UInt32.self)))
        case 0xcf:
            let value = try read(UInt64.self)
            if let signed = Int64(exactly: value) { return .int(signed) }
            return .uint(value)
        case 0xd0: return .int(Int64(try read(Int8.self)))
        case 0xd1: return .int(Int64(try read(Int16.self)))
        case 0xd2: return .int(Int64(try read(Int32.self)))
        case 0xd3: return .int(try read(Int64.self))
        case 0xd4: return try readExtension(length: 1, format: prefix, at: position)
        case 0xd5: return try readExtension(length: 2, format: prefix, at: position)
        case 0xd6: return try readExtension(length: 4, format: prefix, at: position)
        case 0xd7: return try readExtension(length: 8, format: prefix, at: position)
        case 0xd8: return try readExtension(length: 16, format: prefix, at: position)
        case 0xd9: return .string(try readString(length: try readLength(UInt8.self)))
        case 0xda: return .string(try readString(length: try readLength(UInt16.self)))
        case 0xdb: return .string(try readString(length: try readLength(UInt32.self)))
        case 0xdc: return try readArray(count: try readLength(UInt16.self), depth: depth, at: position)
        case 0xdd: return try readArray(count: try readLength(UInt32.self), depth: depth, at: position)
        case 0xde: return try readMap(count: try readLength(UInt16.self), depth: depth, at: position)
        case 0xdf: return try readMap(count: try readLength(UInt32.self), depth: depth, at: position)
        default: return .int(Int64(Int8(bitPattern: prefix)))  // 0xe0...0xff: negative fixint
        }
    }

    /// Checks a container before anything is reserved for it: the nesting, the declared count
    /// against the remaining bytes (every value takes at least one byte), and the message's
    /// element budget.
    mutating func admitContainer(values: Int, depth: Int, at position: Int) throws(MessagePackDecodingError) {
        guard depth < limits.maximumDepth else { throw error(.depthLimitExceeded, at: position) }
        guard values <= remaining else { throw error(.truncated, at: position) }
        guard values <= limits.maximumElements - elements else { throw error(.elementLimitExceeded, at: position) }
        elements += values
    }

    mutating func readArray(count: Int, depth: Int, at position: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        try admitContainer(values: count, depth: depth, at: position)
        var items: [MessagePackValue] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try readValue(depth: depth + 1)) }
        return .array(items)
    }

    mutating func readMap(count: Int, depth: Int, at position: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        // A count near Int.max from a 32-bit field cannot overflow here: it is at most 2^32 - 1.
        let (values, overflow) = count.multipliedReportingOverflow(by: 2)
        try admitContainer(values: overflow ? .max : values, depth: depth, at: position)
        var entries: [(key: MessagePackValue, value: MessagePackValue)] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try readValue(depth: depth + 1)
            let value = try readValue(depth: depth + 1)
            entries.append((key, value))
        }
        return .map(MessagePackMap(entries))
    }

    mutating func readString(length: Int) throws(MessagePackDecodingError) -> String {
        let position = index
        guard length <= remaining else { throw error(.truncated) }
        guard length <= limits.maximumStringLength else { throw error(.stringTooLong) }
        index += length
        switch limits.invalidUTF8 {
        case .replace:
            guard let string = buffer.getString(at: position, length: length) else { throw error(.truncated, at: position) }
            return string
        case .reject:
            let string = buffer.withUnsafeReadableBytes { bytes in
                let from = position - buffer.readerIndex
                return String(validating: bytes[from..<(from + length)], as: UTF8.self)
            }
            guard let string else { throw error(.invalidUTF8, at: position) }
            return string
        }
    }

    mutating func readBinary(length: Int) throws(MessagePackDecodingError) -> ByteBuffer {
        guard length <= remaining else { throw error(.truncated) }
        guard length <= limits.maximumBinaryLength else { throw error(.binaryTooLong) }
        guard let slice = buffer.getSlice(at: index, length: length) else { throw error(.truncated) }
        index += length
        return slice
    }

    /// ext 8/16/32 and fixext 1/2/4/8/16 (`format` is the prefix byte). Beside the timestamp
    /// extension (type −1), notepack's decoder understands three legacy forms that older
    /// notepack encoders wrote, and so does this one:
    ///   - fixext 1 of type 0 (`d4 00 00`): `undefined` → nil;
    ///   - ext 8/16/32 of type 0: an ArrayBuffer → binary;
    ///   - fixext 8 of type 0 (`d7 00` + int64 milliseconds): a Date → the same instant as a timestamp.
    mutating func readExtension(length: Int, format: UInt8, at position: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        let type = try read(Int8.self)
        guard length <= remaining else { throw error(.truncated) }
        guard length <= limits.maximumBinaryLength else { throw error(.binaryTooLong) }
        let isFixed = format >= 0xd4
        switch type {
        case -1:
            return try readTimestamp(length: length, at: position)
        case 0 where format == 0xd4:
            index += 1
            return .nil
        case 0 where !isFixed:
            return .binary(try readBinary(length: length))
        case 0 where format == 0xd7:
            let milliseconds = try read(Int64.self)
            // Floor division, so instants before 1970 keep a non-negative nanosecond part.
            var seconds = milliseconds / 1000
            var remainder = milliseconds % 1000
            if remainder < 0 {
                seconds -= 1
                remainder += 1000
            }
            return .timestamp(seconds: seconds, nanoseconds: UInt32(remainder) * 1_000_000)
        default:
            guard let bytes = buffer.getBytes(at: index, length: length) else { throw error(.truncated) }
            index += length
            return .ext(type: type, data: bytes)
        }
    }

    mutating func readTimestamp(length: Int, at position: Int) throws(MessagePackDecodingError) -> MessagePackValue {
        switch length {
        case 4:
            return .timestamp(seconds: Int64(try read(UInt32.self)), nanoseconds: 0)
        case 8:
            let packed = try read(UInt64.self)
            let nanoseconds = UInt32(truncatingIfNeeded: packed >> 34)
            guard nanoseconds < 1_000_000_000 else { throw error(.invalidTimestamp, at: position) }
            return .timestamp(seconds: Int64(packed & 0x3_ffff_ffff), nanoseconds: nanoseconds)
        case 12:
            let nanoseconds = try read(UInt32.self)
            let seconds = try read(Int64.self)
            guard nanoseconds < 1_000_000_000 else { throw error(.invalidTimestamp, at: position) }
            return .timestamp(seconds: seconds, nanoseconds: nanoseconds)
        default:
            throw error(.invalidTimestamp, at: position)
        }
    }
}
