import Foundation
import NIOCore
import Redis

/// `auth:token:{hash}` and `auth:revoked:{hash}` in Redis (contract §6.2), shared by the nodes
/// and with Laravel, which sets the revocation markers.
struct RedisTokenCache: SharedTokenCache {
    let redis: RedisClient

    func isRevoked(_ hash: String) async throws -> Bool {
        guard try await redis.send(["EXISTS", .string("auth:revoked:\(hash)")]).int == 1 else { return false }
        _ = try? await redis.send(["DEL", .string("auth:token:\(hash)")])
        return true
    }

    func cachedUser(_ hash: String) async throws -> Data? {
        try await redis.send(["GET", .string("auth:token:\(hash)")]).bytes.map { Data($0.readableBytesView) }
    }

    func store(_ hash: String, user: Data, ttl: Duration) async throws {
        _ = try await redis.send(["SET", .string("auth:token:\(hash)"), .bytes(Array(user)), "EX", .int(Int(ttl.components.seconds))])
    }
}
