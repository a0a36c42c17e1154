public import NIOCore
public import SocketIOParser

/// One load-test participant's conversation with Janus's VideoRoom plugin over the Janus
/// WebSocket API (janus-gateway v1.1.2 `src/mainpage.dox` "The Janus API", `janus_videoroom.c`),
/// sans-I/O: told the time and the text frames received, it returns the frames to send.
///
/// ```
/// publisher:  create ─▶ attach ─▶ create room (427 "exists" is fine) ─▶ join ptype=publisher
///             ─▶ publish + jsep offer ─▶ event configured=ok + jsep answer ─▶ running
/// subscriber: create ─▶ attach ─▶ listparticipants ─▶ join ptype=subscriber streams=[feeds]
///             ─▶ event attached + jsep offer ─▶ start + jsep answer ─▶ started=ok ─▶ running
/// ```
/// A `keepalive` goes out every ``Configuration/keepaliveInterval`` once the session exists
/// (Janus drops a session silent for `session_timeout`, 60 s by default).
///
/// The local media description (ICE credentials, fingerprint, candidate) is given at init: the
/// participant binds its UDP socket before it connects, so offer and answer are complete SDPs
/// (`"trickle": false`), and Janus's own candidates come inside its SDP (it half-trickles).
public struct JanusClientStateMachine: Sendable {
    public enum Role: Sendable, Hashable {
        case publisher
        case subscriber
    }

    public struct Configuration: Sendable, Hashable {
        public var role: Role
        /// The VideoRoom room id (numeric: the plugin's default `string_ids = false`).
        public var room: UInt64
        public var display: String
        public var keepaliveInterval: TimeAmount = .seconds(25)
        /// Publishers a room created here admits (Janus's default is 3).
        public var publishersPerRoom = 16

        public init(role: Role, room: UInt64, display: String) {
            self.role = role
            self.room = room
            self.display = display
        }
    }

    public enum Output: Sendable, Hashable {
        /// A text frame for the WebSocket.
        case send(String)
        /// Janus's SDP: the answer to the publisher's offer, or the offer a subscriber answers.
        case remoteDescription(AudioSessionDescription)
        /// Publisher configured / subscriber started: media may flow.
        case running
        case failed(String)
    }

    public enum State: Sendable, Hashable {
        case idle
        case creatingSession
        case attaching
        case creatingRoom
        case joining
        case publishing
        case listing
        case subscribing
        case starting
        case running
        case failed(String)
    }

    // MARK: - Stored properties

    public let configuration: Configuration
    public private(set) var state: State = .idle
    /// The local SDP (offer for a publisher; the template of the answer for a subscriber).
    public let local: AudioSessionDescription
    public private(set) var sessionID: JSONValue?
    public private(set) var handleID: JSONValue?
    /// The publisher's feed id in the room (from `joined`).
    public private(set) var feedID: JSONValue?
    private var transaction: String?
    private var transactionCounter = 0
    private var nextKeepalive: NIODeadline?
    /// A subscriber that found no publisher asks again then: Janus lists a participant as
    /// `publisher: true` only once its PeerConnection is up, which may be a moment after our
    /// speaker's own DTLS completed. The runner's join timeout bounds the retries.
    private var relistAt: NIODeadline?
    static let relistInterval: TimeAmount = .milliseconds(250)

    /// Publishers a subscriber asks for at most (a room's `publishers` bound).
    static let maximumFeeds = 64

    // MARK: - Init

    public init(configuration: Configuration, local: AudioSessionDescription) {
        self.configuration = configuration
        self.local = local
    }

    // MARK: - API

    /// The WebSocket is open: create the session.
    public mutating func connected(now: NIODeadline) -> [Output] {
        guard state == .idle else { return [] }
        state = .creatingSession
        return [request(["janus": "create"])]
    }

    /// When ``handleTimeout(now:)`` must run next.
    public var nextTimeout: NIODeadline? {
        guard let relistAt else { return nextKeepalive }
        return min(relistAt, nextKeepalive ?? relistAt)
    }

    /// Sends the session's keepalive when due (and a subscriber's next `listparticipants`).
    public mutating func handleTimeout(now: NIODeadline) -> [Output] {
        if case .failed = state { return [] }
        var outputs: [Output] = []
        if state == .listing, let due = relistAt, now >= due {
            relistAt = nil
            outputs.append(pluginMessage(body: ["request": "listparticipants", "room": room]))
        }
        guard let due = nextKeepalive, now >= due, let sessionID else { return outputs }
        nextKeepalive = now + configuration.keepaliveInterval
        // Its own transaction, so an answer to it is never mistaken for the step awaited.
        transactionCounter &+= 1
        let message: JSONValue = ["janus": "keepalive", "session_id": sessionID, "transaction": .string("k\(transactionCounter)")]
        return outputs + [.send(message.jsonString)]
    }

    /// One text frame from Janus.
    public mutating func receive(text: String, now: NIODeadline) -> [Output] {
        if case .failed = state { return [] }
        guard let message = try? JSONValue.parse(text, limits: .wire), let kind = message["janus"]?.stringValue else {
            return fail("Janus sent a frame that is not a Janus message")
        }
        let matches = transaction != nil && message["transaction"]?.stringValue == transaction
        switch kind {
        case "success" where matches:
            return success(message, now: now)
        case "error" where matches:
            let error = message["error"]
            return fail("Janus error \(error?["code"]?.intValue ?? 0) in \(state): \(error?["reason"]?.stringValue ?? "?")")
        case "event" where matches:
            return event(message)
        case "hangup":
            return fail("Janus hung up: \(message["reason"]?.stringValue ?? "?")")
        case "timeout":
            return fail("Janus timed the session out")
        case "detached":
            return fail("Janus detached the handle")
        default:
            // ack, keepalive answers, webrtcup, media, slowlink, events of other transactions.
            return []
        }
    }

    // MARK: - Private

    private mutating func success(_ message: JSONValue, now: NIODeadline) -> [Output] {
        switch state {
        case .creatingSession:
            guard let id = message["data"]?["id"], id.doubleValue != nil else { return fail("create: no session id") }
            sessionID = id
            nextKeepalive = now + configuration.keepaliveInterval
            state = .attaching
            return [request(["janus": "attach", "plugin": "janus.plugin.videoroom"])]
        case .attaching:
            guard let id = message["data"]?["id"], id.doubleValue != nil else { return fail("attach: no handle id") }
            handleID = id
            switch configuration.role {
            case .publisher:
                state = .creatingRoom
                return [
                    pluginMessage(body: [
                        "request": "create", "room": room, "publishers": .number(Double(configuration.publishersPerRoom)), "audiocodec": "opus",
                        "videocodec": "vp8", "description": "msab loadtest",
                    ])
                ]
            case .subscriber:
                state = .listing
                return [pluginMessage(body: ["request": "listparticipants", "room": room])]
            }
        case .creatingRoom:
            let data = message["plugindata"]?["data"]
            // 427: JANUS_VIDEOROOM_ERROR_ROOM_EXISTS (janus_videoroom.c), e.g. a configured room.
            if let code = data?["error_code"]?.intValue, code != 427 { return fail("create room: \(data?["error"]?.stringValue ?? "error \(code)")") }
            state = .joining
            return [pluginMessage(body: ["request": "join", "ptype": "publisher", "room": room, "display": .string(configuration.display)])]
        case .listing:
            let data = message["plugindata"]?["data"]
            if let error = data?["error"]?.stringValue { return fail("listparticipants: \(error)") }
            var streams: [JSONValue] = []
            for participant in data?["participants"]?.arrayValue ?? [] where participant["publisher"]?.boolValue == true {
                guard let id = participant["id"], id.doubleValue != nil, streams.count < Self.maximumFeeds else { continue }
                streams.append(["feed": id])
            }
            guard !streams.isEmpty else {
                relistAt = now + Self.relistInterval
                transaction = nil
                return []
            }
            state = .subscribing
            return [pluginMessage(body: ["request": "join", "ptype": "subscriber", "room": room, "streams": .array(streams)])]
        default:
            return []
        }
    }

    private mutating func event(_ message: JSONValue) -> [Output] {
        let data = message["plugindata"]?["data"]
        if let code = data?["error_code"]?.intValue {
            return fail("\(state): \(data?["error"]?.stringValue ?? "VideoRoom error \(code)")")
        }
        switch state {
        case .joining:
            guard data?["videoroom"]?.stringValue == "joined", let id = data?["id"] else { return [] }
            feedID = id
            state = .publishing
            let offer = local.render()
            return [
                pluginMessage(body: ["request": "publish", "audiocodec": "opus"], jsep: ["type": "offer", "sdp": .string(offer), "trickle": false])
            ]
        case .publishing:
            guard data?["configured"]?.stringValue == "ok" else { return [] }
            guard let answer = remoteSDP(message, type: "answer") else { return fail("publish: no SDP answer") }
            do {
                let remote = try AudioSessionDescription.parse(answer)
                state = .running
                transaction = nil
                return [.remoteDescription(remote), .running]
            } catch {
                return fail("publish: \(error)")
            }
        case .subscribing:
            guard data?["videoroom"]?.stringValue == "attached" else { return [] }
            guard let offer = remoteSDP(message, type: "offer") else { return fail("subscribe: no SDP offer") }
            let remote: AudioSessionDescription
            do {
                remote = try AudioSessionDescription.parse(offer)
            } catch {
                return fail("subscribe: \(error)")
            }
            var answer = local
            answer.mid = remote.mid
            answer.opusPayloadType = remote.opusPayloadType
            answer.direction = .recvonly
            // We are the DTLS client whatever Janus offers (actpass makes it the server).
            answer.setup = .active
            answer.ssrc = nil
            state = .starting
            return [
                .remoteDescription(remote),
                pluginMessage(
                    body: ["request": "start", "room": room], jsep: ["type": "answer", "sdp": .string(answer.render()), "trickle": false]),
            ]
        case .starting:
            guard data?["started"]?.stringValue == "ok" else { return [] }
            state = .running
            transaction = nil
            return [.running]
        default:
            return []
        }
    }

    private var room: JSONValue { .number(Double(configuration.room)) }

    private func remoteSDP(_ message: JSONValue, type: String) -> String? {
        guard let jsep = message["jsep"], jsep["type"]?.stringValue == type else { return nil }
        return jsep["sdp"]?.stringValue
    }

    /// A core request (create/attach) with a new transaction the machine then waits for.
    private mutating func request(_ fields: JSONValue) -> Output {
        var object = fields.objectValue ?? JSONObject()
        transactionCounter &+= 1
        let id = "t\(transactionCounter)"
        transaction = id
        object["transaction"] = .string(id)
        if let sessionID { object["session_id"] = sessionID }
        return .send(JSONValue.object(object).jsonString)
    }

    /// A plugin message on the handle.
    private mutating func pluginMessage(body: JSONValue, jsep: JSONValue? = nil) -> Output {
        var fields = JSONObject([("janus", "message"), ("body", body)])
        if let handleID { fields["handle_id"] = handleID }
        if let jsep { fields["jsep"] = jsep }
        return request(.object(fields))
    }

    private mutating func fail(_ reason: String) -> [Output] {
        state = .failed(reason)
        nextKeepalive = nil
        return [.failed(reason)]
    }
}
