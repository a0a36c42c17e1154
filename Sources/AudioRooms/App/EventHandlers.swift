import Foundation
import Logging
import SocketIO
import SocketIOParser

/// The MSAB events on a Socket.IO namespace: validation, the membership gate, and the call into
/// the room. A thin shell (style.md R9): the rules live in `Room`, `SeatMap` and the payload types.
public struct EventHandlers: Sendable {
    let registry: RoomRegistry
    let services: RoomServices
    let gate: ConnectionGate
    let shutdown: ShutdownSwitch

    public init(registry: RoomRegistry, services: RoomServices, gate: ConnectionGate, shutdown: ShutdownSwitch = ShutdownSwitch()) {
        self.registry = registry
        self.services = services
        self.gate = gate
        self.shutdown = shutdown
    }

    var directory: SessionDirectory { services.directory }

    // MARK: - connection

    /// Contract §2.3 as Socket.IO middleware.
    public func install(on namespace: Namespace) {
        let gate = self.gate
        let shutdown = self.shutdown
        namespace.use { handshake in
            guard !shutdown.isStopping else { return .refuse(ShutdownSwitch.message) }
            let token: HandshakeToken
            switch handshake.auth?["token"] {
            case nil, .null?: token = .missing
            case .string(let value)?: token = .string(value)
            case .bool(false)?: token = .missing
            case .number(let n)? where n == 0: token = .missing
            default: token = .notAString
            }
            // Every Origin value must be allowed (a client library may add its own before the caller's).
            let origins = handshake.headerValues("origin")
            let host = handshake.header("host")
            let origin = origins.first { !gate.allows(origin: $0, host: host) } ?? origins.first
            switch await gate.admit(
                origin: origin, host: host, token: token,
                authorizationHeader: handshake.header("authorization"))
            {
            case .success(let user): return .accept(user)
            case .failure(let refusal): return .refuse(refusal.rawValue)
            }
        }
        namespace.onConnection { socket in
            guard let user = socket.data as? AuthenticatedUser else {
                socket.disconnect()
                return
            }
            self.directory.connected(socket: socket.id, user: user)
            self.register(socket, user)
            do {
                try await self.services.store.userConnected(user.id, socket: socket.id)
            } catch {
                self.services.logger.warning("user index unavailable", metadata: ["error": "\(error)"])
            }
            socket.onDisconnect { _ in
                await self.disconnected(socket.id)
            }
        }
    }

    func disconnected(_ socketId: String) async {
        if let roomId = directory.room(of: socketId), let room = await registry.room(roomId) {
            await room.leave(socket: socketId, retainSeat: true)
        }
        if let user = directory.user(of: socketId) {
            try? await services.store.userDisconnected(user.id, socket: socketId)
        }
        directory.disconnected(socket: socketId)
    }

    // MARK: - events

    func register(_ socket: Socket, _ user: AuthenticatedUser) {
        let sid = socket.id

        socket.on("room:join") { args, ack in
            guard self.allowRoomEvent(by: user) else { return await ack?(Self.json(ErrorAck(Self.tooManyRequests))) ?? () }
            guard case .success(let payload) = Self.decode(RoomJoinPayload.self, args) else {
                return await ack?(Self.json(ErrorAck("Invalid payload"))) ?? ()
            }
            guard !self.shutdown.isStopping else { return await ack?(Self.json(ErrorAck(ShutdownSwitch.message))) ?? () }
            // One room at a time per socket: joining another leaves the first.
            if let current = self.directory.room(of: sid), current != payload.roomId, let previous = await self.registry.room(current) {
                await previous.leave(socket: sid, retainSeat: false)
            }
            do {
                let room = try await self.registry.openRoom(payload.roomId, limit: self.services.configuration.maxRooms)
                await ack?(Self.json(await room.join(socket: sid, user: user)))
            } catch is RoomLimitReached {
                self.services.logger.warning("room:join refused: room limit reached", metadata: ["room": "\(payload.roomId)"])
                await ack?(Self.json(ErrorAck("Room limit reached")))
            } catch {
                self.services.logger.error("room:join failed", metadata: ["room": "\(payload.roomId)", "error": "\(error)"])
                await ack?(Self.json(ErrorAck("Internal error")))
            }
        }

        socket.on("room:leave") { args, _ in
            guard case .success(let payload) = Self.decode(RoomLeavePayload.self, args),
                let room = await self.joinedRoom(sid, payload.roomId)
            else { return }
            await room.leave(socket: sid, retainSeat: false)
        }

        // Media events: ack `{…}` or `{error}`; "Not in room" when the socket has not joined it.
        mediaEvent(socket, user, "transport:create", TransportCreatePayload.self) { room, _ in await room.createTransport(socket: sid) }
        mediaEvent(socket, user, "transport:connect", TransportConnectPayload.self) { room, p in await room.connectTransport(socket: sid, p) }
        mediaEvent(socket, user, "transport:restartIce", TransportRestartIcePayload.self) { room, p in
            await room.restartIce(socket: sid, transportId: p.transportId)
        }
        mediaEvent(socket, user, "audio:produce", AudioProducePayload.self) { room, p in await room.produce(socket: sid, p) }
        mediaEvent(socket, user, "audio:consume", AudioConsumePayload.self) { room, p in await room.consume(socket: sid, p) }
        mediaEvent(socket, user, "consumer:resume", ConsumerResumePayload.self) { room, p in
            await room.resumeConsumer(socket: sid, consumerId: p.consumerId)
        }
        mediaEvent(socket, user, "consumer:pause", ConsumerResumePayload.self) { room, p in
            await room.pauseConsumer(socket: sid, consumerId: p.consumerId)
        }
        mediaEvent(socket, user, "audio:selfMute", SelfMutePayload.self) { room, p in
            await room.setSelfMuted(socket: sid, producerId: p.producerId, true)
        }
        mediaEvent(socket, user, "audio:selfUnmute", SelfMutePayload.self) { room, p in
            await room.setSelfMuted(socket: sid, producerId: p.producerId, false)
        }

        // Seat events: ack `{success}` / `{success:false, error}`.
        seatEvent(socket, user, "seat:take", SeatIndexPayload.self) { room, p in await room.takeSeat(socket: sid, user: user, seatIndex: p.seatIndex)
        }
        seatEvent(socket, user, "seat:leave", RoomOnlyPayload.self) { room, _ in await room.leaveSeat(socket: sid, user: user) }
        seatEvent(socket, user, "seat:assign", SeatUserIndexPayload.self) { room, p in
            await room.assignSeat(socket: sid, user: user, target: p.userId, seatIndex: p.seatIndex)
        }
        seatEvent(socket, user, "seat:remove", SeatUserPayload.self) { room, p in await room.removeFromSeat(socket: sid, user: user, target: p.userId)
        }
        seatEvent(socket, user, "seat:mute", SeatUserPayload.self) { room, p in
            await room.setSeatMuted(socket: sid, user: user, target: p.userId, muted: true)
        }
        seatEvent(socket, user, "seat:unmute", SeatUserPayload.self) { room, p in
            await room.setSeatMuted(socket: sid, user: user, target: p.userId, muted: false)
        }
        seatEvent(socket, user, "seat:lock", SeatIndexPayload.self) { room, p in await room.lockSeat(socket: sid, user: user, seatIndex: p.seatIndex)
        }
        seatEvent(socket, user, "seat:unlock", SeatIndexPayload.self) { room, p in
            await room.unlockSeat(socket: sid, user: user, seatIndex: p.seatIndex)
        }
        seatEvent(socket, user, "seat:invite", SeatUserIndexPayload.self) { room, p in
            await room.invite(socket: sid, user: user, target: p.userId, seatIndex: p.seatIndex)
        }
        seatEvent(socket, user, "seat:invite:accept", InviteAnswerPayload.self) { room, p in
            await room.acceptInvite(socket: sid, user: user, seatIndex: p.seatIndex)
        }
        seatEvent(socket, user, "seat:invite:decline", InviteAnswerPayload.self) { room, p in
            await room.declineInvite(socket: sid, user: user, seatIndex: p.seatIndex)
        }

        registerSocialEvents(socket, user)

        // A diagnostic echo (an addition): acks its arguments unchanged, binary included, so a
        // client can check its connection and measure signalling round trips.
        socket.on("msab:echo") { args, ack in ack?.reply(args) }
    }

    func joinedRoom(_ socketId: String, _ roomId: String) async -> Room? {
        guard directory.room(of: socketId) == roomId else { return nil }
        return await registry.room(roomId)
    }

    // MARK: - room broadcast budget

    /// The answer to an event over the user's `MSAB_ROOM_EVENTS_PER_MINUTE` budget, in the event's own error shape.
    static let tooManyRequests = "Too many requests"

    /// Events that make the room broadcast to every member (seat events are all of them too): each
    /// costs a send per listener, so a user's rate of them is bounded.
    static let roomBroadcastMediaEvents: Set<String> = ["audio:produce", "audio:selfMute", "audio:selfUnmute"]

    /// Counts one room-broadcasting event of a user; false once over the per-minute budget
    /// (a fixed window, as the reference's chat limit; one budget per user across sockets and rooms).
    func allowRoomEvent(by user: AuthenticatedUser) -> Bool {
        services.rateLimiter.allow(
            "room-events:\(user.id)", limit: services.configuration.roomEventsPerMinute,
            windowMs: 60_000, now: services.now())
    }

    func mediaEvent<P: ValidatedPayload & RoomScoped>(
        _ socket: Socket, _ user: AuthenticatedUser, _ event: String, _ type: P.Type,
        _ body: @escaping @Sendable (Room, P) async -> any Encodable & Sendable
    ) {
        let sid = socket.id
        let limited = Self.roomBroadcastMediaEvents.contains(event)
        socket.on(event) { args, ack in
            if limited, !self.allowRoomEvent(by: user) { return await ack?(Self.json(ErrorAck(Self.tooManyRequests))) ?? () }
            let reply: any Encodable & Sendable
            switch Self.decode(P.self, args) {
            case .failure:
                reply = ErrorAck("Invalid payload")
            case .success(let payload):
                if let room = await self.joinedRoom(sid, payload.roomId) {
                    reply = await body(room, payload)
                } else {
                    reply = ErrorAck("Not in room")
                }
            }
            await ack?(Self.json(reply))
        }
    }

    func seatEvent<P: ValidatedPayload & RoomScoped>(
        _ socket: Socket, _ user: AuthenticatedUser, _ event: String, _ type: P.Type,
        _ body: @escaping @Sendable (Room, P) async -> SeatAck
    ) {
        let sid = socket.id
        socket.on(event) { args, ack in
            guard self.allowRoomEvent(by: user) else { return await ack?(Self.json(SeatAck.failed(Self.tooManyRequests))) ?? () }
            let reply: SeatAck
            switch Self.decode(P.self, args) {
            case .failure:
                reply = .failed("Invalid payload")
            case .success(let payload):
                if let room = await self.joinedRoom(sid, payload.roomId) {
                    reply = await body(room, payload)
                } else {
                    reply = .failed("Not in room")
                }
            }
            await ack?(Self.json(reply))
        }
    }

    // MARK: - JSON

    /// Decodes and validates the first argument.
    static func decode<P: ValidatedPayload>(_ type: P.Type, _ args: [JSONValue]) -> Result<P, PayloadError> {
        guard let first = args.first, case .object = first else {
            return .failure(PayloadError(path: "", "Expected object"))
        }
        do {
            let payload = try first.decode(P.self)
            try payload.validate()
            return .success(payload)
        } catch let error as PayloadError {
            return .failure(error)
        } catch {
            return .failure(PayloadError(decoding: error))
        }
    }

    static func json(_ value: any Encodable & Sendable) -> JSONValue {
        (try? JSONValue(encoding: value)) ?? .null
    }
}

/// Payloads that name the room they act on (the membership gate reads it).
public protocol RoomScoped {
    var roomId: String { get }
}

extension TransportCreatePayload: RoomScoped {}
extension TransportConnectPayload: RoomScoped {}
extension TransportRestartIcePayload: RoomScoped {}
extension AudioProducePayload: RoomScoped {}
extension AudioConsumePayload: RoomScoped {}
extension ConsumerResumePayload: RoomScoped {}
extension SelfMutePayload: RoomScoped {}
extension SeatIndexPayload: RoomScoped {}
extension RoomOnlyPayload: RoomScoped {}
extension SeatUserPayload: RoomScoped {}
extension SeatUserIndexPayload: RoomScoped {}
extension InviteAnswerPayload: RoomScoped {}
extension ChatMessagePayload: RoomScoped {}
extension GiftSendPayload: RoomScoped {}
extension GiftPreparePayload: RoomScoped {}
