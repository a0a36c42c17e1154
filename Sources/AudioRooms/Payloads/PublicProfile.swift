/// A user's public profile as room members see it (design.md §2 fix 12): `id` and the public
/// fields the identity provider gave, never email, phone, date of birth, coins or diamonds.
public struct PublicProfile: Encodable, Sendable, Equatable {
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
            case .double(let d): try container.encode(d, forKey: codingKey)
            case .bool(let b): try container.encode(b, forKey: codingKey)
            case .null: try container.encodeNil(forKey: codingKey)
            }
        }
        if let isSpeaker { try container.encode(isSpeaker, forKey: AnyCodingKey("isSpeaker")) }
    }
}
