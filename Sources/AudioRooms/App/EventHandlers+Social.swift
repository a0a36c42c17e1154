import Foundation
import Logging
import SocketIO
import SocketIOParser

/// Chat, gifts and user lookup (contract §3.19–3.22): no acks, errors on the `error` event.
extension EventHandlers {
    func registerSocialEvents(_ socket: Socket, _ user: AuthenticatedUser) {
        let sid = socket.id
        let outbox = services.outbox

        socket.on("chat:message") { args, _ in
            let payload: ChatMessagePayload
            switch Self.decode(ChatMessagePayload.self, args) {
            case .failure(let error):
                return outbox.send("error", ErrorEvent(message: "Invalid payload", errors: error.zodFormat), to: .socket(sid))
            case .success(let decoded):
                payload = decoded
            }
            guard await self.joinedRoom(sid, payload.roomId) != nil else {
                return outbox.send("error", ErrorEvent(message: "Not in room", errors: nil), to: .socket(sid))
            }
            let now = self.services.now()
            switch await self.allow("chat:\(user.id)", limit: self.services.configuration.rateLimitMessagesPerMinute, now: now) {
            case true?: break
            case false?: return outbox.send("error", ErrorEvent(message: "Too many messages", errors: nil), to: .socket(sid))
            case nil: return outbox.send("error", ErrorEvent(message: "Internal error", errors: nil), to: .socket(sid))
            }
            outbox.send(
                "chat:message",
                ChatMessageEvent(
                    id: UUID().uuidString.lowercased(), userId: user.id, userName: user.profile.name,
                    avatar: user.profile.avatar, content: payload.content,
                    type: payload.type ?? "text", timestamp: now),
                to: .room(payload.roomId, except: nil))
        }

        socket.on("gift:send") { args, _ in
            let now = self.services.now()
            // Counted before validation, as the reference does.
            switch await self.allow("gift:\(user.id)", limit: 30, now: now) {
            case true?: break
            case false?: return outbox.send("error", ErrorEvent(message: "Too many gifts, please slow down", errors: nil), to: .socket(sid))
            case nil: return outbox.send("error", ErrorEvent(message: "Internal error", errors: nil), to: .socket(sid))
            }
            let payload: GiftSendPayload
            switch Self.decode(GiftSendPayload.self, args) {
            case .failure(let error):
                return outbox.send("error", ErrorEvent(message: "Invalid gift payload", errors: error.zodFormat), to: .socket(sid))
            case .success(let decoded):
                payload = decoded
            }
            guard await self.joinedRoom(sid, payload.roomId) != nil else {
                return outbox.send("error", ErrorEvent(message: "Not in room", errors: nil), to: .socket(sid))
            }
            let quantity = payload.quantity ?? 1
            let gift = GiftTransaction(
                transaction_id: "g_\(now)_\(sid)_\(Self.randomBase36(5))", room_id: payload.roomId,
                sender_id: user.id, recipient_id: payload.recipientId, gift_id: payload.giftId,
                quantity: quantity, timestamp: now, retryCount: nil, sender_socket_id: sid)
            do {
                try await self.services.giftQueue?.enqueue(gift)
            } catch {
                self.services.logger.error("gift queue write failed", metadata: ["error": "\(error)"])
                return outbox.send(
                    "gift:error",
                    GiftErrorEvent(
                        transactionId: gift.transaction_id, code: .text("QUEUE_FAILED"),
                        reason: "Gift could not be queued"), to: .socket(sid))
            }
            outbox.send(
                "gift:received",
                GiftReceivedEvent(
                    senderId: user.id, senderName: user.profile.name, senderAvatar: user.profile.avatar,
                    roomId: payload.roomId, giftId: payload.giftId, recipientId: payload.recipientId,
                    quantity: quantity),
                to: .room(payload.roomId, except: sid))
        }

        socket.on("gift:prepare") { args, _ in
            // No ack: over the budget, the `error` event of the other gift events says so.
            guard self.allowRoomEvent(by: user) else {
                return outbox.send("error", ErrorEvent(message: Self.tooManyRequests, errors: nil), to: .socket(sid))
            }
            guard case .success(let payload) = Self.decode(GiftPreparePayload.self, args),
                await self.joinedRoom(sid, payload.roomId) != nil
            else { return }
            outbox.send(
                "gift:prepare", GiftPrepareEvent(giftId: payload.giftId, recipientId: payload.recipientId), to: .room(payload.roomId, except: sid))
        }

        socket.on("user:getRoom") { args, ack in
            guard case .success(let payload) = Self.decode(UserGetRoomPayload.self, args) else {
                return await ack?(Self.json(UserRoomAck(roomId: nil, error: "Invalid payload"))) ?? ()
            }
            guard let userId = Int(exactly: payload.userId) else {
                return await ack?(Self.json(UserRoomAck(roomId: nil, error: nil))) ?? ()
            }
            do {
                await ack?(Self.json(UserRoomAck(roomId: try await self.services.store.room(ofUser: userId), error: nil)))
            } catch {
                await ack?(Self.json(UserRoomAck(roomId: nil, error: "Internal error")))
            }
        }
    }

    /// The chat and gift windows (contract §9) live in the store, so a user's budget is one
    /// across nodes; nil when the store cannot be reached.
    func allow(_ key: String, limit: Int, now: Int64) async -> Bool? {
        do {
            return try await services.store.allow(key, limit: limit, windowMs: 60_000, now: now)
        } catch {
            services.logger.error("rate limit unavailable", metadata: ["key": "\(key)", "error": "\(error)"])
            return nil
        }
    }

    static func randomBase36(_ count: Int) -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }
}
