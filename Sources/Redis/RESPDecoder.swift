import NIOCore

// RESP, the REdis Serialization Protocol (redis.io "Redis serialization protocol specification"),
// as this decoder reads it. Every frame starts with one type byte and every line ends in CR LF:
//
//   value      = simple / error / integer / bulk / null / aggregate / double / boolean
//              / big-number / blob-error / verbatim / attribute
//   simple     = "+" text CRLF                  RESP2  +OK
//   error      = "-" text CRLF                  RESP2  -ERR unknown command
//   integer    = ":" [sign] 1*DIGIT CRLF        RESP2  :-42           (signed 64-bit)
//   bulk       = "$" length CRLF length*OCTET CRLF / "$-1" CRLF            (binary-safe; -1 = null)
//   array      = "*" count CRLF count*value / "*-1" CRLF                   (-1 = null)
//   null       = "_" CRLF                       RESP3
//   double     = "," ( [sign] digits ["." digits] [("e"/"E") [sign] digits] / "inf" / "-inf" / "nan" ) CRLF
//   boolean    = "#" ( "t" / "f" ) CRLF         RESP3
//   big-number = "(" [sign] 1*DIGIT CRLF        RESP3
//   blob-error = "!" length CRLF length*OCTET CRLF                 RESP3
//   verbatim   = "=" length CRLF 3ALPHA ":" (length-4)*OCTET CRLF  RESP3  =15 CRLF txt:Some string CRLF
//   map        = "%" count CRLF count*(value value)                RESP3  (count = number of pairs)
//   set        = "~" count CRLF count*value                        RESP3
//   push       = ">" count CRLF count*value                        RESP3  (out of band: pub/sub, invalidation)
//   attribute  = "|" count CRLF count*(value value) value          RESP3  (metadata about the value that follows)
//   length, count = 1*DIGIT ; a decimal without sign, or exactly "-1" where a null is allowed
//
//   Example, HGETALL in RESP2:  *4\r\n $1\r\n a\r\n $1\r\n 1\r\n $1\r\n b\r\n $1\r\n 2\r\n
//
// Where we are stricter than the spec (every byte is hostile, style.md): a length or count above the
// configured limit, a negative length other than -1, a sign or a non-digit in a length, any Int64
// overflow, CR not followed by LF, a line longer than `maxLineLength`, nesting deeper than
// `maxDepth`, and a single reply larger than `maxValueBytes` are all `RedisError.protocolError`; the
// connection is then dropped. RESP3 streamed strings and aggregates (`$?`, `*?`, `;`, `.`) are
// refused too: Redis never sends them.

/// A sans-I/O incremental RESP2/RESP3 decoder: feed it whatever the socket delivered, then call
/// `next()` until it returns nil. Splits anywhere (inside CR LF, inside a bulk string, between an
/// aggregate's elements) are fine: complete lines are consumed as they arrive, partial aggregates
/// wait on an explicit stack of at most `maxDepth` frames, so nothing is parsed twice and no
/// recursion depth is chosen by the input.
public struct RESPDecoder: Sendable {
    /// Bounds on what one server may make us buffer or build.
    public struct Limits: Sendable, Hashable {
        /// Longest bulk string, blob error or verbatim string (Redis's own `proto-max-bulk-len` is 512 MiB).
        public var maxBulkLength: Int
        /// Most elements in one array, set or push, and most pairs in one map or attribute.
        public var maxAggregateCount: Int
        /// Deepest nesting of aggregates (attributes count as a level).
        public var maxDepth: Int
        /// Longest simple line (type byte excluded) before its CR LF.
        public var maxLineLength: Int
        /// A budget for one complete reply: its wire bytes plus 32 per element (a proxy for the
        /// memory the decoded tree takes, so a reply of millions of tiny elements is bounded too).
        public var maxValueBytes: Int

        public init(
            maxBulkLength: Int = 512 * 1024 * 1024,
            maxAggregateCount: Int = 1_048_576,
            maxDepth: Int = 32,
            maxLineLength: Int = 64 * 1024,
            maxValueBytes: Int = 1024 * 1024 * 1024
        ) {
            self.maxBulkLength = maxBulkLength
            self.maxAggregateCount = maxAggregateCount
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
            self.maxValueBytes = maxValueBytes
        }
    }

    /// What the client uses: 64 MiB bulk strings and 256 MiB per reply (msab's values are small; a
    /// larger reply means something is wrong, and buffering it would only hurt the process).
    public static let clientLimits = Limits(maxBulkLength: 64 * 1024 * 1024, maxValueBytes: 256 * 1024 * 1024)

    /// Bytes charged per decoded element against `maxValueBytes`.
    static let elementOverhead = 32

    private enum AggregateKind: Sendable {
        case array, set, push, map, attribute
        /// An attribute map has been read; the next value is the one it describes.
        case attributed([RESPPair])
    }

    private struct Frame: Sendable {
        var kind: AggregateKind
        /// Values still to come (for a map, twice the pair count).
        var remaining: Int
        var elements: [RESPValue]
    }

    private enum BlobKind: Sendable { case bulk, error, verbatim }

    /// The result of one parsing step.
    private enum Step {
        case needMoreData
        /// A complete scalar (or empty aggregate) to fold into the open aggregates.
        case value(RESPValue)
        /// An aggregate header was read and its frame pushed.
        case opened
    }

    public let limits: Limits
    private var buffer = ByteBuffer()
    /// Partially built aggregates, innermost last. Never more than `limits.maxDepth`.
    private var stack: [Frame] = []
    /// A blob header was consumed; its body (plus CR LF) is awaited.
    private var pendingBlob: (kind: BlobKind, length: Int)?
    /// How many bytes of the current, unfinished line were already searched for CR.
    private var scannedLineBytes = 0
    /// Budget spent by the reply being decoded (see `Limits.maxValueBytes`).
    private var valueBytes = 0
    /// Once the stream is malformed, it stays malformed: resynchronising RESP is impossible.
    private var failure: RedisError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes fed but not yet consumed into values.
    public var bufferedBytes: Int { buffer.readableBytes }

    /// Appends bytes from the network.
    public mutating func feed(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            // The common case (a read holding whole replies): adopt the read buffer, no copy.
            buffer = bytes
            return
        }
        // Reclaim consumed space once it is at least as large as what is left to move.
        if buffer.readerIndex > 0, buffer.readerIndex >= buffer.readableBytes {
            buffer.discardReadBytes()
        }
        buffer.writeImmutableBuffer(bytes)
    }

    /// The next complete top-level value, or nil when more bytes are needed.
    public mutating func next() throws(RedisError) -> RESPValue? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func decodeNext() throws(RedisError) -> RESPValue? {
        while true {
            let value: RESPValue
            switch try step() {
            case .needMoreData: return nil
            case .opened: continue
            case .value(let scalar): value = scalar
            }
            if let complete = try fold(value) {
                valueBytes = 0
                return complete
            }
        }
    }

    /// Adds `value` to the innermost open aggregate, closing every aggregate it completes. Returns
    /// the top-level value once one is complete.
    private mutating func fold(_ value: RESPValue) throws(RedisError) -> RESPValue? {
        try charge(Self.elementOverhead)
        var value = value
        while !stack.isEmpty {
            let top = stack.count - 1
            stack[top].elements.append(value)
            stack[top].remaining -= 1
            if stack[top].remaining > 0 { return nil }
            let frame = stack.removeLast()
            switch frame.kind {
            case .array: value = .array(frame.elements)
            case .set: value = .set(frame.elements)
            case .push: value = .push(frame.elements)
            case .map: value = .map(Self.pairs(frame.elements))
            case .attributed(let attributes): value = .attribute(attributes, frame.elements[0])
            case .attribute:
                // The attribute map is done; it wraps the value that follows, at the same depth.
                stack.append(Frame(kind: .attributed(Self.pairs(frame.elements)), remaining: 1, elements: []))
                return nil
            }
        }
        return value
    }

    private static func pairs(_ flat: [RESPValue]) -> [RESPPair] {
        var pairs: [RESPPair] = []
        pairs.reserveCapacity(flat.count / 2)
        var index = 0
        while index + 1 < flat.count {
            pairs.append(RESPPair(key: flat[index], value: flat[index + 1]))
            index += 2
        }
        return pairs
    }

    private mutating func charge(_ bytes: Int) throws(RedisError) {
        valueBytes += bytes
        if valueBytes > limits.maxValueBytes {
            throw .protocolError("reply larger than \(limits.maxValueBytes) bytes")
        }
    }

    // MARK: - One frame

    private mutating func step() throws(RedisError) -> Step {
        if let blob = pendingBlob {
            // length + 2 cannot overflow: length <= maxBulkLength, checked when the header was read.
            guard buffer.readableBytes >= blob.length + 2 else { return .needMoreData }
            guard var body = buffer.readSlice(length: blob.length) else { return .needMoreData }
            guard buffer.readInteger(as: UInt8.self) == Self.cr, buffer.readInteger(as: UInt8.self) == Self.lf else {
                throw .protocolError("blob of \(blob.length) bytes not followed by CR LF")
            }
            pendingBlob = nil
            try charge(blob.length + 2)
            switch blob.kind {
            case .bulk:
                return .value(.bulkString(body))
            case .error:
                return .value(.error(String(buffer: body)))
            case .verbatim:
                // "txt:" — a three-byte format and a colon precede the text.
                guard body.readableBytes >= 4, body.getInteger(at: body.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":") else {
                    throw .protocolError("verbatim string without its format prefix")
                }
                body.moveReaderIndex(forwardBy: 4)
                return .value(.verbatimString(String(buffer: body)))
            }
        }

        guard let (type, line) = try readLine() else { return .needMoreData }
        switch type {
        case UInt8(ascii: "+"):
            return .value(.simpleString(String(buffer: line)))
        case UInt8(ascii: "-"):
            return .value(.error(String(buffer: line)))
        case UInt8(ascii: ":"):
            return .value(.integer(try Self.parseInteger(line)))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let length = try parseLength(line, nullable: type == UInt8(ascii: "$")) else { return .value(.null) }
            guard length <= limits.maxBulkLength else {
                throw .protocolError("bulk length \(length) above the limit \(limits.maxBulkLength)")
            }
            let kind: BlobKind = type == UInt8(ascii: "$") ? .bulk : type == UInt8(ascii: "!") ? .error : .verbatim
            pendingBlob = (kind, length)
            return try step()
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard stack.count < limits.maxDepth else {
                throw .protocolError("aggregates nested deeper than \(limits.maxDepth)")
            }
            guard let count = try parseLength(line, nullable: type == UInt8(ascii: "*")) else { return .value(.null) }
            guard count <= limits.maxAggregateCount else {
                throw .protocolError("aggregate count \(count) above the limit \(limits.maxAggregateCount)")
            }
            let kind: AggregateKind
            // count <= maxAggregateCount, so doubling for key/value aggregates cannot overflow.
            let values: Int
            switch type {
            case UInt8(ascii: "*"): (kind, values) = (.array, count)
            case UInt8(ascii: "~"): (kind, values) = (.set, count)
            case UInt8(ascii: ">"): (kind, values) = (.push, count)
            case UInt8(ascii: "%"): (kind, values) = (.map, count * 2)
            default: (kind, values) = (.attribute, count * 2)
            }
            if count == 0 {
                switch kind {
                case .array: return .value(.array([]))
                case .set: return .value(.set([]))
                case .push: return .value(.push([]))
                case .map: return .value(.map([]))
                case .attribute, .attributed:
                    stack.append(Frame(kind: .attributed([]), remaining: 1, elements: []))
                    return .opened
                }
            }
            // Reserve only a little: the count is a claim, the memory is spent as elements arrive.
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(values, 16))
            stack.append(Frame(kind: kind, remaining: values, elements: elements))
            return .opened
        case UInt8(ascii: "_"):
            guard line.readableBytes == 0 else { throw .protocolError("null with a payload") }
            return .value(.null)
        case UInt8(ascii: "#"):
            switch line.readableBytesView.first {
            case UInt8(ascii: "t") where line.readableBytes == 1: return .value(.boolean(true))
            case UInt8(ascii: "f") where line.readableBytes == 1: return .value(.boolean(false))
            default: throw .protocolError("boolean is neither t nor f")
            }
        case UInt8(ascii: ","):
            return .value(.double(try Self.parseDouble(line)))
        case UInt8(ascii: "("):
            return .value(.bigNumber(try Self.parseBigNumber(line)))
        case UInt8(ascii: ";"), UInt8(ascii: "."):
            throw .protocolError("RESP3 streamed types are not supported")
        default:
            throw .protocolError("unknown RESP type byte 0x\(String(type, radix: 16))")
        }
    }

    /// Every type byte of RESP2 and RESP3 (streamed `;` and `.` included, to refuse them by name).
    static let typeBytes: Set<UInt8> = Set("+-:$*_,#!=(%~>|;.".utf8)

    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

    /// Consumes one CR LF terminated line; returns its type byte and the text between it and CR.
    private mutating func readLine() throws(RedisError) -> (UInt8, ByteBuffer)? {
        let readable = buffer.readableBytes
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        // Refuse an unknown type byte at once rather than after scanning up to a line limit for CR.
        guard Self.typeBytes.contains(type) else {
            throw .protocolError("unknown RESP type byte 0x\(String(type, radix: 16))")
        }
        let from = max(1, scannedLineBytes)
        let crOffset: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = from
            while index < bytes.count {
                if bytes[index] == Self.cr { return index }
                index += 1
            }
            return nil
        }
        guard let crOffset else {
            // type byte + maxLineLength content, and still no CR.
            if readable > limits.maxLineLength + 1 {
                throw .protocolError("line longer than \(limits.maxLineLength) bytes")
            }
            scannedLineBytes = readable
            return nil
        }
        if crOffset > limits.maxLineLength + 1 {
            throw .protocolError("line longer than \(limits.maxLineLength) bytes")
        }
        guard crOffset + 1 < readable else {
            // CR is the last byte so far; look at it again when LF may have arrived.
            scannedLineBytes = crOffset
            return nil
        }
        guard buffer.getInteger(at: buffer.readerIndex + crOffset + 1, as: UInt8.self) == Self.lf else {
            throw .protocolError("CR not followed by LF")
        }
        scannedLineBytes = 0
        try charge(crOffset + 2)
        buffer.moveReaderIndex(forwardBy: 1)
        guard let line = buffer.readSlice(length: crOffset - 1) else {
            return nil  // unreachable: crOffset + 2 <= readable
        }
        buffer.moveReaderIndex(forwardBy: 2)
        return (type, line)
    }

    // MARK: - Numbers (checked arithmetic only: a wire value never traps)

    /// `[+-]?DIGIT+` as a signed 64-bit integer.
    static func parseInteger(_ line: ByteBuffer) throws(RedisError) -> Int64 {
        let result: Int64? = line.withUnsafeReadableBytes { bytes in
            guard !bytes.isEmpty else { return nil }
            var index = 0
            var negative = false
            if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
                negative = bytes[0] == UInt8(ascii: "-")
                index = 1
            }
            guard index < bytes.count else { return nil }
            var value: Int64 = 0
            while index < bytes.count {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let digit = Int64(byte &- UInt8(ascii: "0"))
                // Accumulate towards the sign so Int64.min is representable.
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                value = next
                index += 1
            }
            return value
        }
        guard let result else { throw .protocolError("not a 64-bit integer: \(Self.preview(line))") }
        return result
    }

    /// A length or count: digits only, or exactly `-1` (null) where `nullable`. Returns nil for null.
    private func parseLength(_ line: ByteBuffer, nullable: Bool) throws(RedisError) -> Int? {
        if line.readableBytes == 2, line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: "-"),
            line.getInteger(at: line.readerIndex + 1, as: UInt8.self) == UInt8(ascii: "1")
        {
            guard nullable else { throw .protocolError("a null length where none is allowed") }
            return nil
        }
        if line.readableBytes == 1, line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: "?") {
            throw .protocolError("RESP3 streamed types are not supported")
        }
        // No sign at all: "-5" and "+5" are not lengths.
        guard let first = line.getInteger(at: line.readerIndex, as: UInt8.self), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw .protocolError("invalid length: \(Self.preview(line))")
        }
        let value = try Self.parseInteger(line)
        guard let length = Int(exactly: value) else { throw .protocolError("length out of range") }
        return length
    }

    static func parseDouble(_ line: ByteBuffer) throws(RedisError) -> Double {
        let text = String(buffer: line)
        switch text.lowercased() {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default: break
        }
        // Only decimal notation: Double(String) would also take hex floats and "infinity".
        let allowed = text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
        guard allowed, let value = Double(text) else { throw .protocolError("not a double: \(Self.preview(line))") }
        return value
    }

    static func parseBigNumber(_ line: ByteBuffer) throws(RedisError) -> String {
        let text = String(buffer: line)
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .protocolError("not a big number: \(Self.preview(line))")
        }
        return text
    }

    /// At most 32 bytes of an offending line, for the error message.
    static func preview(_ line: ByteBuffer) -> String {
        String(buffer: line.getSlice(at: line.readerIndex, length: min(32, line.readableBytes)) ?? line).debugDescription
    }
}
