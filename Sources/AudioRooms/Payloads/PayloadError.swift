import Foundation

/// Why a client payload was refused: the issues found, as paths and messages. Acks only say
/// `"Invalid payload"`; chat and gift errors also carry the issues in the shape of Zod's
/// `error.format()` (`{_errors: [], field: {_errors: ["Required"]}}`), as the reference does.
public struct PayloadError: Error, Sendable, Equatable {
    public struct Issue: Sendable, Equatable {
        public var path: [String]
        public var message: String
    }

    public var issues: [Issue]

    public init(_ issues: [Issue]) { self.issues = issues }

    public init(path: String, _ message: String) {
        self.issues = [Issue(path: path.isEmpty ? [] : [path], message: message)]
    }

    /// Converts a JSONDecoder failure into issues.
    public init(decoding error: any Error) {
        guard let error = error as? DecodingError else {
            self.init(path: "", "Invalid input")
            return
        }
        func path(_ keys: [any CodingKey]) -> [String] { keys.map { $0.intValue.map(String.init) ?? $0.stringValue } }
        switch error {
        case .keyNotFound(let key, let context):
            self.init([Issue(path: path(context.codingPath + [key]), message: "Required")])
        case .typeMismatch(let type, let context):
            self.init([Issue(path: path(context.codingPath), message: "Expected \(Self.jsonTypeName(type))")])
        case .valueNotFound(let type, let context):
            self.init([Issue(path: path(context.codingPath), message: "Expected \(Self.jsonTypeName(type)), received null")])
        case .dataCorrupted(let context):
            self.init([Issue(path: path(context.codingPath), message: context.debugDescription)])
        @unknown default:
            self.init(path: "", "Invalid input")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Double.Type, is Int64.Type, is UInt32.Type, is UInt8.Type: "number"
        case is Bool.Type: "boolean"
        default: "object"
        }
    }

    /// Zod's `format()` tree.
    public var zodFormat: ZodFormat {
        var root = ZodFormat()
        for issue in issues { root.insert(issue.message, at: issue.path[...]) }
        return root
    }
}

/// A node of Zod's formatted error tree.
public struct ZodFormat: Encodable, Sendable, Equatable {
    public var errors: [String] = []
    public var children: [String: ZodFormat] = [:]

    mutating func insert(_ message: String, at path: ArraySlice<String>) {
        guard let head = path.first else {
            errors.append(message)
            return
        }
        var child = children[head] ?? ZodFormat()
        child.insert(message, at: path.dropFirst())
        children[head] = child
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        try container.encode(errors, forKey: AnyCodingKey("_errors"))
        for key in children.keys.sorted() { try container.encode(children[key], forKey: AnyCodingKey(key)) }
    }
}

/// A payload that checks its own constraints after decoding (lengths, ranges, formats).
public protocol ValidatedPayload: Decodable, Sendable {
    func validate() throws(PayloadError)
}

extension ValidatedPayload {
    public func validate() throws(PayloadError) {}
}

enum Check {
    /// Zod's uuid format (8-4-4-4-12 hex, any version).
    static func uuid(_ value: String, _ path: String) throws(PayloadError) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        let lengths = [8, 4, 4, 4, 12]
        guard parts.count == 5,
            zip(parts, lengths).allSatisfy({ part, length in
                part.count == length && part.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) }
            })
        else { throw PayloadError(path: path, "Invalid uuid") }
    }

    /// The longest room id, in UTF-16 code units (JavaScript's string length, as Zod's `max` counts).
    static let maxRoomIdLength = 128

    static func roomId(_ value: String) throws(PayloadError) {
        guard !value.isEmpty else { throw PayloadError(path: "roomId", "String must contain at least 1 character(s)") }
        try joinableRoomId(value)
    }

    /// `room:join` accepts an empty id (the reference's schema), but no id may be longer than
    /// ``maxRoomIdLength`` or look like a socket id.
    static func joinableRoomId(_ value: String) throws(PayloadError) {
        guard value.utf16.count <= maxRoomIdLength else {
            throw PayloadError(path: "roomId", "String must contain at most \(maxRoomIdLength) character(s)")
        }
        guard !isSocketIdShaped(value) else { throw PayloadError(path: "roomId", "Invalid room id") }
    }

    /// Socket.IO puts every socket in a room named by its id, and room ids share that namespace in
    /// the adapter: a room id that is a socket id would receive that socket's private events. Socket
    /// ids (ours and Node socket.io's, which may share a cluster) are 20 characters of base64url, so
    /// no such string is a room id. (Room names stay bare in the adapter, unprefixed, so that
    /// broadcasts keep the names Node nodes and Socket.IO emitters use.)
    static func isSocketIdShaped(_ value: String) -> Bool {
        value.utf8.count == 20
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }

    static func positive(_ value: Int, _ path: String) throws(PayloadError) {
        guard value > 0 else { throw PayloadError(path: path, "Number must be greater than 0") }
    }

    static func seatIndex(_ value: Int) throws(PayloadError) {
        guard (0...14).contains(value) else { throw PayloadError(path: "seatIndex", "Number must be between 0 and 14") }
    }
}
