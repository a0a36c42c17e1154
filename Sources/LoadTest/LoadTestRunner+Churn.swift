import NIOCore

/// `--churn`: once the first joins settled, the runner keeps the room changing until the end of
/// `duration` (ChurnOptions says what changes and how often). Everything here runs on the
/// runner's event loop, like the rest of the runner.
extension LoadTestRunner {
    /// The churn's view of the participants: msab's (`--churn` is refused for `--target janus`).
    var churnSpeakers: [VirtualParticipant] { speakers.compactMap { $0 as? VirtualParticipant } }
    var churnListeners: [VirtualParticipant] { listeners.compactMap { $0 as? VirtualParticipant } }

    // MARK: - Schedule

    func startChurn(_ churn: ChurnOptions) {
        churnGenerator = SeededGenerator(seed: churn.seed)
        if churn.rate > 0 {
            let period = TimeAmount.nanoseconds(Int64(1e9 / churn.rate))
            tasks.append(loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in churnStep() })
        }
        if churn.chatRate > 0 {
            let period = TimeAmount.nanoseconds(Int64(1e9 / churn.chatRate))
            tasks.append(loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in chatStep() })
        }
    }

    /// One membership change.
    private func churnStep() {
        guard !finished else { return }
        // Joins still in flight bound the churn: a server slower than the rate is not buried.
        guard inFlight < options.concurrency else { return churnError("churn step skipped: \(inFlight) joins in flight") }
        let draw = Double.random(in: 0..<1, using: &churnGenerator)
        if options.speakers > 0, draw < ChurnOptions.speakerShare {
            if !speakerCycleInFlight { cycleSpeaker() }
        } else if draw < ChurnOptions.speakerShare + ChurnOptions.sideRoomShare {
            openSideRoom()
        } else {
            cycleListener()
        }
    }

    /// A live listener leaves and a new user joins in its place.
    private func cycleListener() {
        let present = churnListeners.filter { $0.phase == .live && !$0.leaving && $0.room == options.room }
        guard let leaving = present.randomElement(using: &churnGenerator) else { return }
        leave(leaving, sendRoomLeave: Bool.random(using: &churnGenerator))
        startChurnParticipant(role: .listener, room: options.room)
    }

    /// A live speaker leaves its seat and the room; a new user takes that seat and produces.
    private func cycleSpeaker() {
        let present = churnSpeakers.filter { $0.phase == .live && !$0.leaving }
        guard let leaving = present.randomElement(using: &churnGenerator), case .speaker(let seat) = leaving.role else { return }
        speakerCycleInFlight = true
        leaving.leaving = true
        leaving.leaveSeat { [self] error in
            if let error { churnError("seat:leave: \(error)") } else { churnStats.seatLeaves += 1 }
            leave(leaving, sendRoomLeave: true)
            // The seat it held, or (when the join ack shows it taken) the first free one.
            startChurnParticipant(role: .speaker(seat: seat), room: options.room)
        }
    }

    /// A new user opens a room of its own and leaves it again after a moment (once live).
    private func openSideRoom() {
        sideRoomCounter += 1
        startChurnParticipant(role: .listener, room: "\(options.room)-side-\(sideRoomCounter)")
    }

    /// A participant who leaves on purpose: its audio counts as retired, it is dropped from the
    /// lists (so a long run's lists do not grow), and its connections close.
    func leave(_ participant: VirtualParticipant, sendRoomLeave: Bool) {
        let wasLive = participant.phase == .live
        participant.leave(sendRoomLeave: sendRoomLeave)
        if wasLive { liveCount -= 1 }
        churnStats.leaves += 1
        for stream in participant.streams.values { retired.add(stream) }
        var totals = participant.retiredStreams
        if let media = participant.media {
            totals.srtpAuthFailures += media.drops.srtpAuthentication
            totals.srtpReplays += media.drops.srtpReplay
            totals.rtcpReceived += media.rtcpReceived
        }
        retired.add(totals)
        listeners.removeAll { $0 === participant }
        speakers.removeAll { $0 === participant }
        withMedia.removeAll { $0 === participant }
    }

    private func startChurnParticipant(role: VirtualParticipant.Role, room: String) {
        guard let churn = options.churn, churn.extraUsers > 0 else { return }
        let index = options.speakers + options.listeners + nextExtraUser
        nextExtraUser = (nextExtraUser + 1) % churn.extraUsers
        let participant = VirtualParticipant(index: index, role: role, token: tokens[index], runner: self, loop: loop, now: .now(), room: room)
        switch role {
        case .speaker:
            speakers.append(participant)
        case .listener:
            listeners.append(participant)
            inFlight += 1
        }
        churnStats.joinsStarted += 1
        participant.start()
    }

    // MARK: - Chat

    /// One chat message from a participant who has not chatted for a while.
    private func chatStep() {
        guard !finished else { return }
        let now = NIODeadline.now()
        let interval = TimeAmount.nanoseconds(Int64(ChurnOptions.minimumChatInterval * 1e9))
        let candidates = (churnSpeakers + churnListeners).filter {
            $0.phase == .live && !$0.leaving && $0.room == options.room && ($0.lastChatAt.map { now - $0 >= interval } ?? true)
        }
        guard let sender = candidates.randomElement(using: &churnGenerator) else { return }
        if sender.sendChat(now: now) { churnStats.chatsSent += 1 }
    }

    // MARK: - Callbacks

    func churnParticipantLive(_ participant: VirtualParticipant) {
        guard let settledAt, participant.startedAt >= settledAt else { return }
        churnStats.joins += 1
        guard participant.room != options.room else {
            if case .speaker = participant.role { speakerCycleInFlight = false }
            return
        }
        churnStats.sideRooms += 1
        loop.scheduleTask(in: .nanoseconds(Int64(ChurnOptions.sideRoomStay * 1e9))) { [self] in
            if !finished, participant.phase == .live { leave(participant, sendRoomLeave: Bool.random(using: &churnGenerator)) }
        }
    }

    func seatTaken() {
        if options.churn != nil, settledAt != nil { churnStats.seatTakes += 1 }
    }

    func chatEchoed() { churnStats.chatsEchoed += 1 }
    func chatReceived() { churnStats.chatsReceived += 1 }

    /// Counts an error; a kind seen for the first time is printed at once.
    func churnError(_ kind: String) {
        if churnStats.record(kind) { progress("loadtest error: \(kind)") }
        if kind.hasPrefix("seat:take") || kind.hasPrefix("audio:produce") { speakerCycleInFlight = false }
    }

    /// Once a second: chats never echoed, listeners gone silent, failed churn speakers.
    func churnSecond(now: NIODeadline) {
        for participant in churnSpeakers + churnListeners { participant.expireChats(now: now) }
        let settle = TimeAmount.nanoseconds(Int64(ChurnOptions.settleSeconds * 1e9))
        let silence = TimeAmount.nanoseconds(Int64(ChurnOptions.silenceLimit * 1e9))
        let speakerSteady = churnSpeakers.contains { $0.phase == .live && !$0.leaving && $0.liveAt.map { now - $0 >= settle } ?? false }
        for listener in churnListeners where listener.phase == .live && !listener.leaving && listener.room == options.room {
            guard speakerSteady, let liveAt = listener.liveAt, now - liveAt >= settle else { continue }
            let quiet = listener.lastPacketAt.map { now - $0 >= silence } ?? true
            if quiet, !listener.silent { churnError("listener silent for \(format(ChurnOptions.silenceLimit, 0)) s while a speaker was live") }
            listener.silent = quiet
        }
        // A replacement speaker that failed frees the cycle (its failure is already counted).
        if speakerCycleInFlight,
            !churnSpeakers.contains(where: { $0.phase == .connecting || $0.phase == .joining || $0.leaving && $0.phase != .stopped })
        {
            speakerCycleInFlight = false
        }
    }
}
