import Foundation
import JWTKit

/// Stand-alone identity: HS256 JWTs signed with `MSAB_JWT_SECRET` (design.md §3).
///
/// Claims: `sub` (the user id, a positive integer as a string), `exp` (required), the public profile
/// fields (`name`, `avatar`, `signature`, `frame`, `gender`, `country`, `wealth_xp`, `charm_xp`), and an
/// optional `rooms` map of room id → `owner` | `admin` that the server trusts because it is signed.
public struct TokenAuthority: UserAuthenticator {
    private let keys: JWTKeyCollection

    /// - Parameter secret: at least 32 bytes (jwt-kit asserts on shorter HMAC keys in debug builds,
    ///   and a short HS256 key is weak anyway).
    public init(secret: String) async {
        precondition(secret.utf8.count >= 32, "HS256 secret must be at least 32 bytes")
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
    }

    public func authenticate(token: String) async throws -> AuthenticatedUser? {
        // Anything jwt-kit refuses (bad signature, malformed, expired, wrong algorithm) is simply
        // an invalid token; verification itself cannot fail for other reasons.
        guard let claims = try? await keys.verify(token, as: MSABClaims.self) else { return nil }
        guard let id = Int(claims.sub.value), id > 0 else { return nil }
        var fields: [(key: String, value: ProfileValue)] = []
        for (name, value) in claims.profileFields { fields.append((name, .string(value))) }
        var roles: [String: RoomRole] = [:]
        for (room, role) in claims.rooms ?? [:] {
            guard let parsed = RoomRole(rawValue: role) else { return nil }
            roles[room] = parsed
        }
        return AuthenticatedUser(profile: UserProfile(id: id, fields: fields), signedRoomRoles: roles, token: token)
    }

    /// Mints a token (the `msab token` command and the tests).
    public func mint(
        userID: Int, profile: [String: String] = [:], rooms: [String: RoomRole] = [:],
        lifetime: TimeInterval = 24 * 3600, now: Date = Date()
    ) async throws -> String {
        var claims = MSABClaims(
            sub: SubjectClaim(value: String(userID)),
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: (now.timeIntervalSince1970 + lifetime).rounded(.down))))
        claims.name = profile["name"]
        claims.avatar = profile["avatar"]
        claims.signature = profile["signature"]
        claims.frame = profile["frame"]
        claims.gender = profile["gender"]
        claims.country = profile["country"]
        claims.wealth_xp = profile["wealth_xp"]
        claims.charm_xp = profile["charm_xp"]
        claims.rooms = rooms.isEmpty ? nil : rooms.mapValues(\.rawValue)
        return try await keys.sign(claims)
    }
}

/// The claims of an msab stand-alone token.
struct MSABClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var name: String?
    var avatar: String?
    var signature: String?
    var frame: String?
    var gender: String?
    var country: String?
    var wealth_xp: String?
    var charm_xp: String?
    var rooms: [String: String]?

    init(sub: SubjectClaim, exp: ExpirationClaim) {
        self.sub = sub
        self.exp = exp
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }

    var profileFields: [(String, String)] {
        [
            ("name", name), ("avatar", avatar), ("signature", signature), ("frame", frame), ("gender", gender),
            ("country", country), ("wealth_xp", wealth_xp), ("charm_xp", charm_xp),
        ]
        .compactMap { key, value in value.map { (key, $0) } }
    }
}
