import NIOCore
import SocketIOParser

/// What a participant does in a churn run (LoadTestRunner+Churn): leave, give up its seat, chat,
/// and check every event the room sends it.
extension VirtualParticipant {
    /// Events a churn run's participants expect; anything else counts as an error.
    static let expectedChurnEvents: Set<String> = [
        "room:userJoined", "room:userLeft", "seat:updated", "seat:cleared", "audio:newProducer", "audio:producerClosed",
        "speaker:active", "chat:message",
    ]

    var userID: Int { runner.options.firstUserID + index }

    /// Leaves on purpose: `room:leave` (when asked) written before the connections close, else a
    /// bare disconnect.
    func leave(sendRoomLeave: Bool) {
        leaving = true
        guard sendRoomLeave, let channel = webSocket.channel, let frame = socketIO.emitWithoutAck("room:leave", ["roomId": .string(room)]) else {
            stop()
            return
        }
        // Close once the frame is out: a close right away could drop it.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { [self] _ in stop() }
        webSocket.write(.text, Array(frame.utf8), promise: written)
        signallingFlush()
    }

    /// `seat:leave`; `done` gets the ack's error, or nil.
    func leaveSeat(_ done: @escaping (String?) -> Void) {
        emit("seat:leave", ["roomId": .string(room)]) { [self] args in done(ackError(args.first ?? .null)) }
        signallingFlush()
    }

    /// Sends one chat message and remembers it until its echo comes back. False when nothing
    /// could be sent.
    func sendChat(now: NIODeadline) -> Bool {
        guard pendingChats.count < Self.maximumPendingChats else { return false }
        chatsSent += 1
        let content = "soak \(userID) #\(chatsSent)"
        guard let frame = socketIO.emitWithoutAck("chat:message", ["roomId": .string(room), "content": .string(content)]) else { return false }
        webSocket.write(.text, Array(frame.utf8))
        signallingFlush()
        lastChatAt = now
        pendingChats.append((content, now + .nanoseconds(Int64(ChurnOptions.chatEchoTimeout * 1e9))))
        return true
    }

    /// Chats whose echo is overdue count as errors.
    func expireChats(now: NIODeadline) {
        guard phase == .live, !leaving else { return }
        while let first = pendingChats.first, first.deadline <= now {
            pendingChats.removeFirst()
            runner.churnError("chat:message not echoed to its sender within \(format(ChurnOptions.chatEchoTimeout, 0)) s")
        }
    }

    /// Checks one server event of a churn run.
    func churnEvent(_ name: String, _ payload: JSONValue) {
        guard !leaving else { return }
        switch name {
        case "error":
            runner.churnError("error event: \(payload["message"]?.stringValue ?? "\(payload)")")
        case "chat:message":
            guard let content = payload["content"]?.stringValue, let sender = payload["userId"]?.intValue else {
                return runner.churnError("chat:message without content or userId")
            }
            if sender == userID {
                guard let position = pendingChats.firstIndex(where: { $0.content == content }) else {
                    return runner.churnError("chat:message echo of a message not sent")
                }
                pendingChats.remove(at: position)
                runner.chatEchoed()
            } else {
                runner.chatReceived()
            }
        default:
            if !Self.expectedChurnEvents.contains(name) { runner.churnError("unexpected event \(name)") }
        }
    }
}
