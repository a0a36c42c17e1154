/// One value of a codec's (or header extension's) `parameters` record.
///
/// mediasoup types `parameters` as `any`, but in practice it is a record of `string | number`
/// (fmtp values from SDP: `useinbandfec: 1`, `profile-level-id: "42e01f"`), and some clients
/// send booleans. The enum keeps the JSON type so a value round-trips exactly: a JSON integer
/// stays an integer (`1`, never `1.0`), which matters because mediasoup-client writes these
/// values verbatim into `a=fmtp` lines.
///
/// JSON numbers that are whole and fit in `Int` decode as ``integer(_:)`` (JavaScript has a single
/// number type, so `1` and `1.0` are the same value there too); other numbers decode as ``double(_:)``.
public enum CodecParameterValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
}

extension CodecParameterValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Order matters: a JSON `true` must not become 1, and `1` must not become 1.0.
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "codec parameter value must be a string, number or boolean"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}

extension CodecParameterValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension CodecParameterValue {
    /// The value as an integer when it is a JSON number with no fractional part (`apt`, `num_streams`).
    public var integerValue: Int? {
        switch self {
        case .integer(let value): value
        case .double(let value): value.rounded() == value && abs(value) < 1e15 ? Int(value) : nil
        case .string, .bool: nil
        }
    }

    /// Whether the value is a JSON number (mediasoup accepts only strings and numbers in `parameters`).
    public var isNumber: Bool {
        switch self {
        case .integer, .double: true
        case .string, .bool: false
        }
    }
}

/// The `parameters` record of a codec or header extension.
public typealias CodecParameters = [String: CodecParameterValue]
