import SocketIOParser

/// A user's public profile as room members see it (design.md §2 fix 12): `id` and the public
/// fields the identity provider gave, never email, phone, date of birth, coins or diamonds.
public struct PublicProfile: JSONValueConvertible, Sendable, Equatable {
    public var profile: UserProfile
    /// Extra flags some payloads carry (`isSpeaker` in `participants`).
    public var isSpeaker: Bool?

    public init(_ profile: UserProfile, isSpeaker: Bool? = nil) {
        self.profile = profile
        self.isSpeaker = isSpeaker
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for (key, value) in profile.publicFields {
            let codingKey = AnyCodingKey(key)
            switch value {
            case .string(let s): try container.encode(s, forKey: codingKey)
            case .int(let i): try container.encode(i, forKey: codingKey)
            // A non-finite number has no JSON spelling: null, as in `jsonValue` (an encoder would
            // throw, and the whole payload with it).
            case .double(let d) where d.isFinite: try container.encode(d, forKey: codingKey)
            case .double: try container.encodeNil(forKey: codingKey)
            case .bool(let b): try container.encode(b, forKey: codingKey)
            case .null: try container.encodeNil(forKey: codingKey)
            }
        }
        if let isSpeaker { try container.encode(isSpeaker, forKey: AnyCodingKey("isSpeaker")) }
    }

    /// The same object as `encode(to:)`, built directly (``JSONValueConvertible``): a `room:join`
    /// answer holds one per participant.
    public var jsonValue: JSONValue {
        let fields = profile.publicFields
        var entries: [(key: String, value: JSONValue)] = []
        entries.reserveCapacity(fields.count + 1)
        for (key, value) in fields { entries.append((key, value.jsonValue)) }
        if let isSpeaker { entries.append(("isSpeaker", .bool(isSpeaker))) }
        return .object(JSONObject(entries))
    }
}

extension ProfileValue {
    /// JSON for a profile field; a non-finite number (no JSON spelling) is null.
    var jsonValue: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .int(let i): .number(Double(i))
        case .double(let d): d.isFinite ? .number(d) : .null
        case .bool(let b): .bool(b)
        case .null: .null
        }
    }
}
