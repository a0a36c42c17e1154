/// Who a connected socket is, and what the identity provider says about their rooms.
public struct AuthenticatedUser: Sendable {
    public var profile: UserProfile
    /// Room roles signed into a stand-alone token (`rooms: {"42": "owner"}`); nil in Laravel mode,
    /// where roles are asked of the backend (contract §3.8).
    public var signedRoomRoles: [String: RoomRole]?
    /// The token after `Bearer ` stripping (kept to key caches; never broadcast).
    public var token: String

    public init(profile: UserProfile, signedRoomRoles: [String: RoomRole]?, token: String) {
        self.profile = profile
        self.signedRoomRoles = signedRoomRoles
        self.token = token
    }

    public var id: Int { profile.id }
}

/// A user's standing in one room.
public enum RoomRole: String, Sendable, Hashable, Codable {
    case owner
    case admin
    case member
}

/// Checks a bearer token and says who it belongs to.
public protocol UserAuthenticator: Sendable {
    /// `nil` means the token is not valid (contract: "Invalid credentials"). Throwing means the check
    /// itself could not be made ("Authentication failed").
    func authenticate(token: String) async throws -> AuthenticatedUser?
}
