import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1

/// FlyLive identity: a Laravel Sanctum token checked by `POST /api/v1/internal/auth/validate`
/// (contract §2.3 step 4), with the reference's 300 s cache and its fail-closed rule: any error,
/// timeout, non-2xx answer or unreadable body makes the token invalid.
///
/// Refusals Laravel gave (a 4xx other than 408/429, or a 2xx body that is not a user) are cached
/// too, for `refusalTTL` (10 s): a client retrying a bad token costs Laravel one call per 10 s,
/// not one per attempt. Transport errors, timeouts and 5xx are not cached: Laravel being briefly
/// down must not keep a good token out once it is back.
public final class SanctumValidator: UserAuthenticator {
    private let http: LaravelHTTP
    /// In a cluster: the reference's Redis cache and revocation markers (contract §2.3 step 4).
    private let shared: (any SharedTokenCache)?
    private let cacheTTL: Duration
    private let refusalTTL: Duration
    private let cache = NIOLockedValueBox<[String: (user: AuthenticatedUser, expires: ContinuousClock.Instant)]>([:])
    private let refusals = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
    /// Each cache's bound: expired entries go first, then everything (a flood of distinct tokens).
    static let cacheLimit = 100_000

    public init(http: LaravelHTTP, shared: (any SharedTokenCache)? = nil, cacheTTL: Duration = .seconds(300), refusalTTL: Duration = .seconds(10)) {
        self.http = http
        self.shared = shared
        self.cacheTTL = cacheTTL
        self.refusalTTL = refusalTTL
    }

    /// Lower-case hex SHA-256 of the token, the reference's cache and revocation key.
    public static func tokenHash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public func authenticate(token: String) async throws -> AuthenticatedUser? {
        let key = Self.tokenHash(token)
        let now = ContinuousClock.now
        if let shared {
            // Revocation first, fail closed: a marker, or no answer, makes the token invalid here.
            guard let revoked = try? await shared.isRevoked(key), !revoked else {
                cache.withLockedValue { $0[key] = nil }
                return nil
            }
        }
        if let hit = cache.withLockedValue({ $0[key] }), hit.expires > now { return hit.user }
        if let shared, let body = try? await shared.cachedUser(key), let profile = try? UserProfile(laravelJSON: body) {
            let user = AuthenticatedUser(profile: profile, signedRoomRoles: nil, token: token)
            cache.withLockedValue { cache in
                Self.makeRoom(in: &cache, now: now) { $0.expires }
                cache[key] = (user, now + cacheTTL)
            }
            return user
        }
        if let until = refusals.withLockedValue({ $0[key] }), until > now { return nil }
        guard let response = try? await http.send(.POST, "/api/v1/internal/auth/validate", bearer: token) else { return nil }
        guard response.isSuccess, let profile = try? UserProfile(laravelJSON: response.body) else {
            if response.isSuccess || ((400..<500).contains(response.status) && response.status != 408 && response.status != 429) {
                refusals.withLockedValue { refusals in
                    Self.makeRoom(in: &refusals, now: now) { $0 }
                    refusals[key] = now + refusalTTL
                }
            }
            return nil
        }
        let user = AuthenticatedUser(profile: profile, signedRoomRoles: nil, token: token)
        cache.withLockedValue { cache in
            Self.makeRoom(in: &cache, now: now) { $0.expires }
            cache[key] = (user, now + cacheTTL)
        }
        refusals.withLockedValue { $0[key] = nil }
        try? await shared?.store(key, user: response.body, ttl: cacheTTL)
        return user
    }

    /// Keeps a cache under ``cacheLimit`` before an insert: expired entries go first, then
    /// everything (a flood of distinct tokens).
    private static func makeRoom<Value>(
        in table: inout [String: Value], now: ContinuousClock.Instant,
        expires: (Value) -> ContinuousClock.Instant
    ) {
        if table.count >= cacheLimit { table = table.filter { expires($0.value) > now } }
        if table.count >= cacheLimit { table.removeAll() }
    }
}

/// The cluster's token cache (`auth:token:{hash}`, 300 s) and Laravel's revocation markers
/// (`auth:revoked:{hash}`), keyed by the token's SHA-256 hex.
public protocol SharedTokenCache: Sendable {
    func isRevoked(_ hash: String) async throws -> Bool
    func cachedUser(_ hash: String) async throws -> Data?
    func store(_ hash: String, user: Data, ttl: Duration) async throws
}

extension UserProfile {
    /// Reads the Laravel user object (contract §2.4). `id` must be a positive integer (or a string
    /// holding one); scalar fields are kept, nested objects and arrays are not part of a profile.
    public init(laravelJSON data: Data) throws {
        self = try JSONDecoder().decode(LaravelUser.self, from: data).profile
    }
}

/// Decodes a Laravel user with JSONDecoder's strict typing (a JSON `true` is never a number).
private struct LaravelUser: Decodable {
    var profile: UserProfile

    struct NotAUser: Error {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let idKey = AnyCodingKey("id")
        let id: Int
        if let number = try? container.decode(Int.self, forKey: idKey) {
            id = number
        } else if let text = try? container.decode(String.self, forKey: idKey), let number = Int(text) {
            id = number
        } else {
            throw NotAUser()
        }
        guard id > 0 else { throw NotAUser() }
        var fields: [(key: String, value: ProfileValue)] = []
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where key.stringValue != "id" {
            if (try? container.decodeNil(forKey: key)) == true {
                fields.append((key.stringValue, .null))
            } else if let value = try? container.decode(Bool.self, forKey: key) {
                fields.append((key.stringValue, .bool(value)))
            } else if let value = try? container.decode(Int.self, forKey: key) {
                fields.append((key.stringValue, .int(value)))
            } else if let value = try? container.decode(Double.self, forKey: key) {
                fields.append((key.stringValue, .double(value)))
            } else if let value = try? container.decode(String.self, forKey: key) {
                fields.append((key.stringValue, .string(value)))
            }
        }
        profile = UserProfile(id: id, fields: fields)
    }
}
