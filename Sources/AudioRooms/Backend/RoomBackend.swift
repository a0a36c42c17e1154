import Foundation

/// The identity and money side of the product, behind one small protocol with two
/// implementations (design.md §3): stand-alone (signed token claims, a local gift ledger) and
/// the FlyLive Laravel backend (contract §3.8, §6.3, §7.1).
public protocol RoomBackend: Sendable {
    /// The user's role in a room. Throws when the answer cannot be had ("Authorization check failed").
    func role(of user: AuthenticatedUser, in roomId: String) async throws -> RoomRole
    /// Whether the user may moderate (owner or admin). Laravel's manager check never throws: a
    /// failed lookup is simply "not allowed" (contract §3.8).
    func isManager(_ user: AuthenticatedUser, in roomId: String) async -> Bool
    /// `POST …/rooms/{id}/status`; failures are logged, never surfaced.
    func postRoomStatus(roomId: String, isLive: Bool, participantCount: Int, endedAt: Date?) async
    /// Settles a batch of gifts. Returns the per-transaction failures the backend reported; throws
    /// when the batch as a whole could not be settled (to be retried).
    func settleGifts(_ batch: [GiftTransaction]) async throws -> [GiftFailure]
}

/// One gift, as queued and as sent to Laravel (contract §3.20, §7.1).
public struct GiftTransaction: Codable, Sendable, Equatable {
    public var transaction_id: String
    public var room_id: String
    public var sender_id: Int
    public var recipient_id: Int
    public var gift_id: Int
    public var quantity: Int
    public var timestamp: Int64
    public var retryCount: Int?
    /// Not sent to the backend: whom to tell if it fails.
    public var sender_socket_id: String?
}

public struct GiftFailure: Codable, Sendable, Equatable {
    public var transaction_id: String
    public var code: Int
    public var reason: String
}

/// Stand-alone: roles are the token's signed `rooms` claim; gifts go to the local ledger.
public struct StandaloneBackend: RoomBackend {
    let ledger: GiftLedger

    public init(ledger: GiftLedger) { self.ledger = ledger }

    public func role(of user: AuthenticatedUser, in roomId: String) async throws -> RoomRole {
        user.signedRoomRoles?[roomId] ?? .member
    }

    public func isManager(_ user: AuthenticatedUser, in roomId: String) async -> Bool {
        let role = user.signedRoomRoles?[roomId] ?? .member
        return role == .owner || role == .admin
    }

    public func postRoomStatus(roomId: String, isLive: Bool, participantCount: Int, endedAt: Date?) async {}

    public func settleGifts(_ batch: [GiftTransaction]) async throws -> [GiftFailure] {
        try await ledger.append(batch)
        return []
    }
}
