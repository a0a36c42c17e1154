import DTLS
import Foundation
import LoadTest
import NIOCore
import SocketIOParser
import Testing

@Suite("JanusClientStateMachine: the Janus API conversation of a VideoRoom publisher and subscriber")
struct JanusClientStateMachineTests {
    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func local(direction: AudioSessionDescription.Direction) throws -> AudioSessionDescription {
        let fingerprint = try #require(DTLSFingerprint(algorithm: "sha-256", value: AudioSessionDescriptionTests.fingerprint))
        return AudioSessionDescription(
            usernameFragment: "lt0x1", password: "0123456789abcdef01234567", fingerprints: [fingerprint], setup: .active,
            direction: direction, candidates: [.init(address: "10.231.7.1", port: 50_000, priority: 2_130_706_431)],
            ssrc: direction == .sendonly ? 77 : nil)
    }

    /// The one frame sent, parsed.
    static func sent(_ outputs: [JanusClientStateMachine.Output]) throws -> JSONValue {
        let texts = outputs.compactMap { if case .send(let text) = $0 { text } else { nil } }
        try #require(texts.count == 1, "\(outputs)")
        return try JSONValue.parse(texts[0])
    }

    @Test("publisher: create → attach → create room (exists is fine) → join → publish with an SDP offer → answer")
    func publisher() throws {
        var machine = JanusClientStateMachine(
            configuration: .init(role: .publisher, room: 1234, display: "pub"), local: try Self.local(direction: .sendonly))
        var request = try Self.sent(machine.connected(now: Self.now))
        #expect(request["janus"] == "create")
        var tx = try #require(request["transaction"]?.stringValue)

        request = try Self.sent(machine.receive(text: #"{"janus":"success","transaction":"\#(tx)","data":{"id":4503599627370001}}"#, now: Self.now))
        #expect(request["janus"] == "attach" && request["plugin"] == "janus.plugin.videoroom")
        #expect(request["session_id"] == .number(4_503_599_627_370_001))
        // The id is written back exactly (2^52 + 1: a double holds it).
        tx = try #require(request["transaction"]?.stringValue)

        request = try Self.sent(
            machine.receive(text: #"{"janus":"success","session_id":4503599627370001,"transaction":"\#(tx)","data":{"id":77}}"#, now: Self.now))
        #expect(request["janus"] == "message" && request["handle_id"] == 77)
        #expect(request["body"]?["request"] == "create" && request["body"]?["room"] == 1234 && request["body"]?["audiocodec"] == "opus")
        tx = try #require(request["transaction"]?.stringValue)

        // A configured room: 427 "already exists" moves on to the join.
        let exists =
            #"{"janus":"success","transaction":"\#(tx)","plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","error_code":427,"error":"Room 1234 already exists"}}}"#
        request = try Self.sent(machine.receive(text: exists, now: Self.now))
        #expect(request["body"]?["request"] == "join" && request["body"]?["ptype"] == "publisher")
        tx = try #require(request["transaction"]?.stringValue)

        #expect(machine.receive(text: #"{"janus":"ack","transaction":"\#(tx)"}"#, now: Self.now) == [])
        let joined =
            #"{"janus":"event","sender":77,"transaction":"\#(tx)","plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"joined","room":1234,"id":555,"private_id":9,"publishers":[]}}}"#
        request = try Self.sent(machine.receive(text: joined, now: Self.now))
        #expect(machine.feedID == 555)
        #expect(request["body"]?["request"] == "publish")
        #expect(request["jsep"]?["type"] == "offer" && request["jsep"]?["trickle"] == false)
        let offer = try AudioSessionDescription.parse(try #require(request["jsep"]?["sdp"]?.stringValue))
        #expect(offer.direction == .sendonly && offer.setup == .active && offer.ssrc == 77)
        tx = try #require(request["transaction"]?.stringValue)

        let answerSDP = AudioSessionDescriptionTests.janusOffer.replacingOccurrences(of: "a=setup:actpass", with: "a=setup:passive")
            .replacingOccurrences(of: "a=sendonly", with: "a=recvonly")
        let answer: JSONValue = [
            "janus": "event", "sender": 77, "transaction": .string(tx),
            "plugindata": [
                "plugin": "janus.plugin.videoroom", "data": ["videoroom": "event", "room": 1234, "configured": "ok", "audio_codec": "opus"],
            ],
            "jsep": ["type": "answer", "sdp": .string(answerSDP)],
        ]
        let expected = try AudioSessionDescription.parse(answerSDP)
        let outputs = machine.receive(text: answer.jsonString, now: Self.now)
        #expect(outputs == [.remoteDescription(expected), .running])
        #expect(machine.state == .running)
        // Janus's own notifications change nothing.
        #expect(machine.receive(text: #"{"janus":"webrtcup","session_id":1,"sender":77}"#, now: Self.now) == [])
        #expect(machine.receive(text: #"{"janus":"media","sender":77,"type":"audio","receiving":true}"#, now: Self.now) == [])
    }

    @Test("subscriber: listparticipants → join with the publishers' feeds → Janus's offer → start with a recvonly answer")
    func subscriber() throws {
        var machine = JanusClientStateMachine(
            configuration: .init(role: .subscriber, room: 1234, display: "sub"), local: try Self.local(direction: .recvonly))
        var tx = try #require(Self.sent(machine.connected(now: Self.now))["transaction"]?.stringValue)
        tx = try #require(
            Self.sent(machine.receive(text: #"{"janus":"success","transaction":"\#(tx)","data":{"id":1}}"#, now: Self.now))["transaction"]?
                .stringValue)
        var request = try Self.sent(machine.receive(text: #"{"janus":"success","transaction":"\#(tx)","data":{"id":2}}"#, now: Self.now))
        #expect(request["body"]?["request"] == "listparticipants")
        tx = try #require(request["transaction"]?.stringValue)

        let list =
            #"{"janus":"success","transaction":"\#(tx)","plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"participants","room":1234,"participants":[{"id":555,"publisher":true},{"id":556,"publisher":false},{"id":"x","publisher":true}]}}}"#
        request = try Self.sent(machine.receive(text: list, now: Self.now))
        #expect(request["body"]?["ptype"] == "subscriber")
        #expect(request["body"]?["streams"] == [["feed": 555]])
        tx = try #require(request["transaction"]?.stringValue)

        let attached: JSONValue = [
            "janus": "event", "sender": 2, "transaction": .string(tx),
            "plugindata": ["plugin": "janus.plugin.videoroom", "data": ["videoroom": "attached", "room": 1234, "streams": []]],
            "jsep": ["type": "offer", "sdp": .string(AudioSessionDescriptionTests.janusOffer)],
        ]
        let outputs = machine.receive(text: attached.jsonString, now: Self.now)
        try #require(outputs.count == 2)
        let offer = try AudioSessionDescription.parse(AudioSessionDescriptionTests.janusOffer)
        #expect(outputs[0] == .remoteDescription(offer))
        request = try Self.sent(Array(outputs.dropFirst()))
        #expect(request["body"]?["request"] == "start" && request["jsep"]?["type"] == "answer")
        let answer = try AudioSessionDescription.parse(try #require(request["jsep"]?["sdp"]?.stringValue))
        #expect(answer.direction == .recvonly && answer.setup == .active && answer.mid == "0" && answer.opusPayloadType == 111)
        #expect(answer.usernameFragment == "lt0x1" && answer.candidates.first?.port == 50_000)
        tx = try #require(request["transaction"]?.stringValue)

        let started =
            #"{"janus":"event","sender":2,"transaction":"\#(tx)","plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","room":1234,"started":"ok"}}}"#
        #expect(machine.receive(text: started, now: Self.now) == [.running])
    }

    @Test("errors fail the participant: core errors, plugin errors, an empty room, hangups, garbage")
    func failures() throws {
        func attached(_ role: JanusClientStateMachine.Role) throws -> (JanusClientStateMachine, String) {
            var machine = JanusClientStateMachine(
                configuration: .init(role: role, room: 9, display: "x"), local: try Self.local(direction: .recvonly))
            var tx = try #require(Self.sent(machine.connected(now: Self.now))["transaction"]?.stringValue)
            tx = try #require(
                Self.sent(machine.receive(text: #"{"janus":"success","transaction":"\#(tx)","data":{"id":1}}"#, now: Self.now))["transaction"]?
                    .stringValue)
            tx = try #require(
                Self.sent(machine.receive(text: #"{"janus":"success","transaction":"\#(tx)","data":{"id":2}}"#, now: Self.now))["transaction"]?
                    .stringValue)
            return (machine, tx)
        }
        var (machine, tx) = try attached(.subscriber)
        let empty =
            #"{"janus":"success","transaction":"\#(tx)","plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"participants","room":9,"participants":[]}}}"#
        // No publisher yet (Janus lists one only once its PeerConnection is up): ask again shortly.
        #expect(machine.receive(text: empty, now: Self.now) == [])
        #expect(machine.nextTimeout == Self.now + .milliseconds(250))
        #expect(machine.handleTimeout(now: Self.now + .milliseconds(200)) == [])
        let again = try Self.sent(machine.handleTimeout(now: Self.now + .milliseconds(250)))
        #expect(again["body"]?["request"] == "listparticipants")
        #expect(machine.receive(text: "[1,2", now: Self.now) == [.failed("Janus sent a frame that is not a Janus message")])
        #expect(machine.receive(text: empty, now: Self.now) == [])  // failed stays failed

        (machine, tx) = try attached(.publisher)
        let denied =
            #"{"janus":"success","transaction":"\#(tx)","plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","error_code":403,"error":"Unauthorized"}}}"#
        #expect(machine.receive(text: denied, now: Self.now) == [.failed("create room: Unauthorized")])

        (machine, tx) = try attached(.publisher)
        let other = #"{"janus":"error","transaction":"zzz","error":{"code":458,"reason":"No such session"}}"#
        #expect(machine.receive(text: other, now: Self.now) == [])  // not our transaction
        let core = #"{"janus":"error","transaction":"\#(tx)","error":{"code":458,"reason":"No such session"}}"#
        #expect(machine.receive(text: core, now: Self.now) == [.failed("Janus error 458 in creatingRoom: No such session")])

        (machine, _) = try attached(.publisher)
        #expect(
            machine.receive(text: #"{"janus":"hangup","sender":2,"reason":"DTLS alert"}"#, now: Self.now) == [.failed("Janus hung up: DTLS alert")])
        (machine, _) = try attached(.publisher)
        #expect(machine.receive(text: "[1,2", now: Self.now) == [.failed("Janus sent a frame that is not a Janus message")])
    }

    @Test("a keepalive every interval once the session exists, none before and none after a failure")
    func keepalive() throws {
        var machine = JanusClientStateMachine(
            configuration: .init(role: .publisher, room: 1, display: "x"), local: try Self.local(direction: .sendonly))
        #expect(machine.handleTimeout(now: Self.now + .seconds(100)) == [])
        let tx = try #require(Self.sent(machine.connected(now: Self.now))["transaction"]?.stringValue)
        _ = machine.receive(text: #"{"janus":"success","transaction":"\#(tx)","data":{"id":5}}"#, now: Self.now)
        #expect(machine.nextTimeout == Self.now + .seconds(25))
        #expect(machine.handleTimeout(now: Self.now + .seconds(24)) == [])
        let keepalive = try Self.sent(machine.handleTimeout(now: Self.now + .seconds(25)))
        #expect(keepalive["janus"] == "keepalive" && keepalive["session_id"] == 5)
        #expect(machine.nextTimeout == Self.now + .seconds(50))
        _ = machine.receive(text: #"{"janus":"timeout","session_id":5}"#, now: Self.now)
        #expect(machine.handleTimeout(now: Self.now + .seconds(60)) == [])
    }
}
