import Logging
import MediasoupWire
import SFUServer

/// The media events of contract §3.3–3.7 and the design.md §2 additions. Every method assumes the
/// membership gate passed (the socket has joined this room) and checks ownership itself: a socket
/// only ever touches its own transports, producers and consumers.
extension Room {
    /// `transport:create` → `{id, iceParameters, iceCandidates, dtlsParameters}`.
    func createTransport(socket: String) async -> any Encodable & Sendable {
        guard let participant = participants[socket] else { return ErrorAck("Not in room") }
        guard participant.transports.count < Self.maxTransportsPerSocket else { return ErrorAck("Transport limit reached") }
        // Reserve the slot before awaiting, so two concurrent creates cannot both pass the limit.
        let placeholder = "pending-\(services.now())-\(Int.random(in: 0..<Int.max))"
        participants[socket]?.transports.append(placeholder)
        let description: WebRtcTransportInfo
        do {
            description = try await router.createTransport()
        } catch {
            participants[socket]?.transports.removeAll { $0 == placeholder }
            services.logger.warning("transport:create failed", metadata: ["room": "\(id)", "error": "\(error)"])
            return ErrorAck("Server error")
        }
        guard participants[socket] != nil, !isClosed else {
            await router.closeTransport(description.id)
            return ErrorAck("Not in room")
        }
        participants[socket]?.transports.removeAll { $0 == placeholder }
        participants[socket]?.transports.append(description.id)
        transportOwner[description.id] = socket
        return description
    }

    func owns(_ socket: String, transport: String) -> Bool { transportOwner[transport] == socket }

    /// Forgets a producer's bookkeeping, its owner and the paused state the stage rules last set,
    /// together (a stale paused entry would hide a change `applyStage` must make); returns the owner.
    @discardableResult
    func forgetProducer(_ producerId: String) -> String? {
        producerPaused[producerId] = nil
        return producerOwner.removeValue(forKey: producerId)
    }

    /// `transport:connect` → `{success: true}`.
    func connectTransport(socket: String, _ payload: TransportConnectPayload) async -> any Encodable & Sendable {
        guard owns(socket, transport: payload.transportId) else { return ErrorAck("Transport not found") }
        do {
            try await router.connectTransport(payload.transportId, dtlsParameters: payload.dtlsParameters)
            return SuccessAck()
        } catch {
            services.logger.info("transport:connect failed", metadata: ["room": "\(id)", "error": "\(error)"])
            return ErrorAck("Connect failed")
        }
    }

    /// `transport:restartIce` → `{iceParameters}`.
    func restartIce(socket: String, transportId: String) async -> any Encodable & Sendable {
        guard owns(socket, transport: transportId) else { return ErrorAck("Transport not found") }
        do {
            return IceParametersAck(iceParameters: try await router.restartIce(transportId))
        } catch {
            return ErrorAck("Restart ICE failed")
        }
    }

    /// `audio:produce` → `{id}`. A second produce replaces the first (fix 7). The producer is
    /// always accepted, and starts paused when the stage rules say its user is not heard
    /// (no seat, a moderator's mute, self-muted); it is resumed when that changes, e.g. when a
    /// `seat:take` racing this produce completes.
    func produce(socket: String, _ payload: AudioProducePayload) async -> any Encodable & Sendable {
        guard let participant = participants[socket], owns(socket, transport: payload.transportId) else { return ErrorAck("Transport not found") }
        let userId = participant.user.id
        if let previous = participant.producerId {
            participants[socket]?.producerId = nil
            forgetProducer(previous)
            outbox.send("audio:producerClosed", ProducerClosedEvent(producerId: previous, userId: userId), to: .room(id, except: socket))
            await router.closeProducer(previous)
            await exportedProducerClosed(previous)
        }
        let paused = !stage.isAudible(userId: userId, selfMuted: participants[socket]?.selfMuted ?? false, seats: seats)
        let producerId: String
        do {
            producerId = try await router.produce(
                transportId: payload.transportId, kind: .audio, rtpParameters: payload.rtpParameters, paused: paused)
        } catch {
            services.logger.info("audio:produce failed", metadata: ["room": "\(id)", "error": "\(error)"])
            return ErrorAck("Produce failed")
        }
        guard participants[socket] != nil, owns(socket, transport: payload.transportId) else {
            await router.closeProducer(producerId)
            return ErrorAck("Transport not found")
        }
        // A concurrent produce on the same socket may have won the race: keep only the newest.
        if let raced = participants[socket]?.producerId {
            forgetProducer(raced)
            outbox.send("audio:producerClosed", ProducerClosedEvent(producerId: raced, userId: userId), to: .room(id, except: socket))
            await router.closeProducer(raced)
            await exportedProducerClosed(raced)
        }
        participants[socket]?.producerId = producerId
        producerOwner[producerId] = socket
        producerPaused[producerId] = paused
        // In the store before it is announced: other nodes list it in their joiners'
        // `existingProducers`, and look its node up there when one of their listeners consumes it
        // (an announcement first would race that look-up).
        try? await store.setProducer(producerId, socket: socket, room: id)
        // Closed meanwhile (a leave): its closure was announced instead.
        if producerOwner[producerId] == socket {
            outbox.send("audio:newProducer", NewProducerEvent(producerId: producerId, userId: userId), to: .room(id, except: socket))
        }
        // Seats or mutes may have changed while the SFU was creating it.
        await applyStage()
        return IdAck(id: producerId)
    }

    /// `audio:consume` → `{id, producerId, kind, rtpParameters}` (created paused).
    func consume(socket: String, _ payload: AudioConsumePayload) async -> any Encodable & Sendable {
        guard owns(socket, transport: payload.transportId) else { return ErrorAck("Transport not found") }
        // A producer of another node is piped here first (Room+Pipes.swift).
        let remote = producerOwner[payload.producerId] == nil
        if remote {
            guard await ensureImported(payload.producerId) else { return ErrorAck("Cannot consume") }
            importConsumeStarted(payload.producerId)
        }
        let (ack, consumerId) = await consumeHere(socket: socket, payload)
        if remote { await importConsumeEnded(payload.producerId, consumerId: consumerId) }
        return ack
    }

    private func consumeHere(socket: String, _ payload: AudioConsumePayload) async -> (any Encodable & Sendable, String?) {
        guard producerOwner[payload.producerId] != nil || imports[payload.producerId] != nil,
            await router.canConsume(producerId: payload.producerId, rtpCapabilities: payload.rtpCapabilities)
        else { return (ErrorAck("Cannot consume"), nil) }
        let consumer: ConsumerInfo
        do {
            consumer = try await router.consume(
                transportId: payload.transportId, producerId: payload.producerId, rtpCapabilities: payload.rtpCapabilities)
        } catch RoomMediaError.consumerLimitReached {
            return (ErrorAck("Consumer limit reached"), nil)
        } catch RoomMediaError.alreadyConsuming {
            return (ErrorAck("Cannot consume"), nil)
        } catch {
            services.logger.info("audio:consume failed", metadata: ["room": "\(id)", "error": "\(error)"])
            return (ErrorAck("Consume failed"), nil)
        }
        guard participants[socket] != nil, owns(socket, transport: payload.transportId) else {
            await router.closeConsumer(consumer.id)
            return (ErrorAck("Transport not found"), nil)
        }
        participants[socket]?.consumers.insert(consumer.id)
        consumerOwner[consumer.id] = socket
        return (consumer, consumer.id)
    }

    /// `consumer:resume` → `{success: true}`.
    func resumeConsumer(socket: String, consumerId: String) async -> any Encodable & Sendable {
        await setConsumerPaused(socket: socket, consumerId: consumerId, false)
    }

    /// `consumer:pause` (an addition, the counterpart of `consumer:resume`): a listener stops
    /// receiving one speaker without closing the consumer, e.g. while the app is in the
    /// background; `consumer:resume` brings it back with continuous sequence numbers.
    func pauseConsumer(socket: String, consumerId: String) async -> any Encodable & Sendable {
        await setConsumerPaused(socket: socket, consumerId: consumerId, true)
    }

    private func setConsumerPaused(socket: String, consumerId: String, _ paused: Bool) async -> any Encodable & Sendable {
        guard consumerOwner[consumerId] == socket else { return ErrorAck("Consumer not found") }
        do {
            try await router.setConsumerPaused(consumerId, paused)
            return SuccessAck()
        } catch {
            return ErrorAck(paused ? "Pause failed" : "Resume failed")
        }
    }

    /// `audio:selfMute` / `audio:selfUnmute` → `{success: true}`; the room hears
    /// `seat:userMuted {userId, isMuted, selfMuted: true}`. Unmuting oneself lifts neither a
    /// moderator's mute nor the seated-speakers-only rule.
    func setSelfMuted(socket: String, producerId: String, _ muted: Bool) async -> any Encodable & Sendable {
        guard let owner = producerOwner[producerId] else { return ErrorAck("Producer not found") }
        guard owner == socket, let participant = participants[socket] else { return ErrorAck("Not your producer") }
        participants[socket]?.selfMuted = muted
        let failed = await applyStage()
        guard !failed.contains(producerId) else { return ErrorAck(muted ? "Mute failed" : "Unmute failed") }
        let moderatorMuted = seats.isMuted(participant.user.id)
        outbox.send(
            "seat:userMuted", SeatUserMutedEvent(userId: participant.user.id, isMuted: muted || moderatorMuted, selfMuted: true),
            to: .room(id, except: nil))
        return SuccessAck()
    }

    /// Brings every producer in line with the stage rules (`StagePolicy`): called after anything
    /// that changes seats, mutes or producers. A producer already being paused/resumed is left
    /// to the call doing it, which looks again when its await returns, so each producer has at
    /// most one change on its way to the SFU and the last one wins. Returns the producers whose
    /// change the SFU refused (their recorded state is left as it was).
    @discardableResult
    func applyStage() async -> Set<String> {
        var failed = Set<String>()
        // Each round settles every producer not in flight; a round only repeats for changes made
        // during its awaits, so this ends (bounded anyway).
        for _ in 0..<8 {
            let speakers = participants.values.compactMap { p in
                p.producerId.map { StagePolicy.Speaker(producerId: $0, userId: p.user.id, selfMuted: p.selfMuted) }
            }
            let changes = stage.changes(for: speakers, seats: seats, applied: producerPaused)
                .filter { !stageInFlight.contains($0.producerId) && !failed.contains($0.producerId) }
            guard !changes.isEmpty else { break }
            for change in changes { stageInFlight.insert(change.producerId) }
            for change in changes {
                do {
                    try await router.setProducerPaused(change.producerId, change.paused)
                    if producerOwner[change.producerId] != nil { producerPaused[change.producerId] = change.paused }
                    await exportedProducerPaused(change.producerId, change.paused)
                } catch {
                    failed.insert(change.producerId)
                    services.logger.info(
                        "stage pause/resume failed", metadata: ["room": "\(id)", "producer": "\(change.producerId)", "error": "\(error)"])
                }
                stageInFlight.remove(change.producerId)
            }
        }
        return failed
    }
}
