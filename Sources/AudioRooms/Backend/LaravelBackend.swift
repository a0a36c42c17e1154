import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The FlyLive Laravel backend (contract §3.8 role checks, §6.3 status posts, §7.1 gift batches).
public final class LaravelBackend: RoomBackend {
    let http: LaravelHTTP
    let logger: Logger
    /// Owner ids fetched from Laravel, cached 30 s as the reference does.
    private let ownerCache = NIOLockedValueBox<[String: (owner: Int, expires: ContinuousClock.Instant)]>([:])

    public init(http: LaravelHTTP, logger: Logger) {
        self.http = http
        self.logger = logger
    }

    struct NoOwner: Error {}

    /// `GET /api/v1/internal/rooms/{roomId}` → top-level numeric `owner_id`, within 5 s.
    func ownerId(of roomId: String) async throws -> Int {
        if let hit = ownerCache.withLockedValue({ $0[roomId] }), hit.expires > .now { return hit.owner }
        let response = try await http.send(.GET, "/api/v1/internal/rooms/\(Self.pathSegment(roomId))", timeout: .seconds(5))
        guard response.isSuccess,
            let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let number = object["owner_id"] as? NSNumber, !(object["owner_id"] is Bool),
            number.doubleValue.isFinite, number.doubleValue == number.doubleValue.rounded()
        else { throw NoOwner() }
        let owner = number.intValue
        ownerCache.withLockedValue { $0[roomId] = (owner, .now + .seconds(30)) }
        return owner
    }

    public func role(of user: AuthenticatedUser, in roomId: String) async throws -> RoomRole {
        if try await ownerId(of: roomId) == user.id { return .owner }
        return await memberRole(user.id, roomId) ?? .member
    }

    public func isManager(_ user: AuthenticatedUser, in roomId: String) async -> Bool {
        if let owner = try? await ownerId(of: roomId), owner == user.id { return true }
        return await memberRole(user.id, roomId) == .admin
    }

    /// `GET …/members/{userId}/role` → `{role}`; 404 or any error → nil.
    func memberRole(_ userId: Int, _ roomId: String) async -> RoomRole? {
        guard let response = try? await http.send(.GET, "/api/v1/internal/rooms/\(Self.pathSegment(roomId))/members/\(userId)/role"),
            response.isSuccess,
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let role = object["role"] as? String
        else { return nil }
        return RoomRole(rawValue: role)
    }

    public func postRoomStatus(roomId: String, isLive: Bool, participantCount: Int, endedAt: Date?) async {
        var body: [String: Any] = ["is_live": isLive, "participant_count": participantCount]
        if let endedAt { body["ended_at"] = HealthReport.isoTimestamp(endedAt) }
        do {
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            let response = try await http.send(.POST, "/api/v1/internal/rooms/\(Self.pathSegment(roomId))/status", json: data)
            if !response.isSuccess { logger.error("room status post refused", metadata: ["room": "\(roomId)", "status": "\(response.status)"]) }
        } catch {
            logger.error("room status post failed", metadata: ["room": "\(roomId)", "error": "\(error)"])
        }
    }

    struct BatchResponse: Decodable {
        var processed_count: Int
        var failed: [GiftFailure]
    }

    struct BatchRefused: Error { var status: Int }

    public func settleGifts(_ batch: [GiftTransaction]) async throws -> [GiftFailure] {
        let transactions = batch.map { gift -> GiftTransaction in
            var copy = gift
            copy.sender_socket_id = nil
            return copy
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(["transactions": transactions])
        let response = try await http.send(.POST, "/api/v1/internal/gifts/batch", json: body)
        guard response.isSuccess else { throw BatchRefused(status: response.status) }
        // A 2xx without a well-formed `failed` list is a failure of the whole batch (contract §7.1 step 4).
        return try JSONDecoder().decode(BatchResponse.self, from: response.body).failed
    }

    /// Room ids are opaque client strings; unlike the reference, escape them in the path.
    static func pathSegment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}
