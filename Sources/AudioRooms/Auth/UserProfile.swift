/// The user behind a socket, as the identity provider described it (a signed token's claims in
/// stand-alone mode, the Laravel user JSON in FlyLive mode; contract §2.4).
///
/// Only `id` is required. Profile fields are kept as the provider sent them (strings or numbers),
/// and private fields (email, phone, date of birth, coins, diamonds) are kept server-side only:
/// room broadcasts use `publicFields` (design.md §2, fix 12).
public struct UserProfile: Sendable, Hashable {
    public var id: Int
    /// Every field the provider sent except `id`, in its order.
    public var fields: [(key: String, value: ProfileValue)]

    public init(id: Int, fields: [(key: String, value: ProfileValue)] = []) {
        self.id = id
        self.fields = fields
    }

    /// The public profile fields, in this order, that room members may see about each other.
    public static let publicFieldNames = ["name", "avatar", "signature", "frame", "gender", "country", "wealth_xp", "charm_xp"]

    public subscript(field: String) -> ProfileValue? {
        fields.first { $0.key == field }?.value
    }

    public var name: String? { self["name"]?.stringValue }
    public var avatar: String? { self["avatar"]?.stringValue }

    /// `id` followed by the public fields that are present.
    public var publicFields: [(key: String, value: ProfileValue)] {
        [("id", .int(id))] + Self.publicFieldNames.compactMap { name in self[name].map { (name, $0) } }
    }

    public static func == (lhs: UserProfile, rhs: UserProfile) -> Bool {
        lhs.id == rhs.id && lhs.fields.elementsEqual(rhs.fields) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        for field in fields {
            hasher.combine(field.key)
            hasher.combine(field.value)
        }
    }
}

/// A scalar profile value: Laravel sends decimal strings for money-like fields, numbers for ids.
public enum ProfileValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
