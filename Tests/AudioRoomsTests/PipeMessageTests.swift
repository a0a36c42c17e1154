import Foundation
import MediasoupWire
import Testing

@testable import AudioRooms

/// The cross-node pipe messages (issue 13 item 3): every field comes from another node and is
/// hostile; a refused message is a typed error, never a trap.
@Suite struct PipeMessageTests {
    static let srtp = SrtpParameters(cryptoSuite: "AEAD_AES_256_GCM", keyBase64: String(repeating: "A", count: 60))
    static let end = PipeEnd(ip: "127.0.0.1", port: 10_001, srtpParameters: srtp)
    static let parameters = RtpParameters(
        codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 100, clockRate: 48_000, channels: 2)],
        encodings: [RtpEncodingParameters(ssrc: 1234)])

    static func decode(_ json: String) throws(PipeMessageError) -> PipeMessage { try PipeMessage.decode(Data(json.utf8)) }

    static func kind(_ json: String) -> PipeMessageError.Kind? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return error.kind
        }
    }

    @Test func everyMessageRoundTrips() throws {
        let messages: [PipeMessage] = [
            .request(PipeRequest(id: 7, from: "nodeB1", room: "42", producerId: "p-1", end: Self.end)),
            .reply(
                PipeReply(
                    id: UInt64.max, from: "nodeA1", end: PipeEnd(ip: "::1", port: 65_535, srtpParameters: nil), kind: .audio,
                    rtpParameters: Self.parameters, paused: true)),
            .failed(id: 3, from: "nodeA1", error: "unknown producer"),
            .unpipe(from: "nodeB1", room: "42", producerId: "p-1"),
            .producerPaused(from: "nodeA1", room: "42", producerId: "p-1", paused: true),
            .producerPaused(from: "nodeA1", room: "42", producerId: "p-1", paused: false),
            .producerClosed(from: "nodeA1", room: "42", producerId: "p-1"),
            .speakerLevels(
                from: "nodeA1", room: "42", sequence: 1_764_000_000_123,
                levels: [RoomSpeakerView.Level(userId: 7, volume: -20), RoomSpeakerView.Level(userId: 8, volume: -127)]),
            .speakerLevels(from: "nodeA1", room: "42", sequence: 0, levels: []),
        ]
        for message in messages {
            #expect(try PipeMessage.decode(message.encode()) == message)
        }
    }

    @Test func theRequestIsTheDocumentedJSON() throws {
        let json = #"{"from":"B","id":"9","ip":"10.0.0.2","port":4000,"producerId":"p","room":"r","type":"pipe"}"#
        #expect(
            try Self.decode(json)
                == .request(
                    PipeRequest(
                        id: 9, from: "B", room: "r", producerId: "p",
                        end: PipeEnd(ip: "10.0.0.2", port: 4000, srtpParameters: nil))))
    }

    @Test func malformedOrMissingFieldsAreRefused() {
        #expect(Self.kind("") == .malformed)
        #expect(Self.kind("[]") == .malformed)
        #expect(Self.kind("{\"type\":1}") == .malformed)
        #expect(Self.kind("{}") == .missingField)
        #expect(Self.kind(#"{"type":"pipe","from":"B"}"#) == .missingField)
        #expect(Self.kind(#"{"type":"pipe","from":"B","id":"1","room":"r","producerId":"p","port":1}"#) == .missingField)
        #expect(Self.kind(#"{"type":"closed","room":"r","producerId":"p"}"#) == .missingField)
        #expect(Self.kind(#"{"type":"launch","from":"B"}"#) == .unknownType)
        #expect(Self.kind(#"{"type":"piped","from":"A","id":"1","ip":"1.2.3.4","port":9,"kind":"audio"}"#) == .missingField)
        #expect(
            Self.kind(#"{"type":"piped","from":"A","id":"1","ip":"1.2.3.4","port":9,"kind":"smell","rtpParameters":{"codecs":[]}}"#)
                == .malformed)
    }

    @Test func outOfRangeFieldsAreRefused() {
        let base = #""type":"pipe","from":"B","room":"r","producerId":"p""#
        #expect(Self.kind("{\(base),\"id\":\"1\",\"ip\":\"1.2.3.4\",\"port\":0}") == .outOfRange)
        #expect(Self.kind("{\(base),\"id\":\"1\",\"ip\":\"1.2.3.4\",\"port\":65536}") == .outOfRange)
        #expect(Self.kind("{\(base),\"id\":\"1\",\"ip\":\"1.2.3.4\",\"port\":-1}") == .outOfRange)
        // A number too large for Int is the decoder's refusal, not a trap.
        #expect(Self.kind("{\(base),\"id\":\"1\",\"ip\":\"1.2.3.4\",\"port\":1e300}") == .malformed)
        #expect(Self.kind("{\(base),\"id\":\"-1\",\"ip\":\"1.2.3.4\",\"port\":1}") == .outOfRange)
        #expect(Self.kind("{\(base),\"id\":\"18446744073709551616\",\"ip\":\"1.2.3.4\",\"port\":1}") == .outOfRange)
        #expect(Self.kind("{\(base),\"id\":\"1\",\"ip\":\"evil.example\",\"port\":1}") == .outOfRange)
        #expect(Self.kind("{\(base),\"id\":\"1\",\"ip\":\"\(String(repeating: "1", count: 46))\",\"port\":1}") == .outOfRange)
        #expect(Self.kind(#"{"type":"pipe","from":"B","room":"r r","producerId":"p","id":"1","ip":"1.2.3.4","port":1}"#) == .outOfRange)
        #expect(Self.kind(#"{"type":"pipe","from":"","room":"r","producerId":"p","id":"1","ip":"1.2.3.4","port":1}"#) == .outOfRange)
        let longId = String(repeating: "x", count: 129)
        #expect(Self.kind(#"{"type":"unpipe","from":"B","room":"r","producerId":"\#(longId)"}"#) == .outOfRange)
        let longKey = String(repeating: "A", count: 65)
        #expect(
            Self.kind(
                "{\(base),\"id\":\"1\",\"ip\":\"1.2.3.4\",\"port\":1,\"srtp\":{\"cryptoSuite\":\"AEAD_AES_256_GCM\",\"keyBase64\":\"\(longKey)\"}}")
                == .outOfRange)
        let codec = #"{"mimeType":"audio/opus","payloadType":100,"clockRate":48000}"#
        let reply = #""type":"piped","from":"A","id":"1","ip":"1.2.3.4","port":9,"kind":"audio""#
        #expect(Self.kind("{\(reply),\"rtpParameters\":{\"codecs\":[]}}") == .outOfRange)
        #expect(Self.kind("{\(reply),\"rtpParameters\":{\"codecs\":[\(codec)]}}") == .outOfRange)  // no encoding
        let nine = Array(repeating: codec, count: 9).joined(separator: ",")
        #expect(Self.kind("{\(reply),\"rtpParameters\":{\"codecs\":[\(nine)],\"encodings\":[{\"ssrc\":1}]}}") == .outOfRange)
        #expect(Self.kind("{\(reply),\"rtpParameters\":{\"codecs\":[\(codec)],\"encodings\":[{\"ssrc\":1}]}}") == nil)
    }

    @Test func speakerLevelsAreBoundedAndInRange() {
        let base = #""type":"levels","from":"A","room":"r","seq":"5""#
        #expect(
            (try? Self.decode("{\(base),\"levels\":[{\"userId\":3,\"volume\":0}]}"))
                == .speakerLevels(from: "A", room: "r", sequence: 5, levels: [RoomSpeakerView.Level(userId: 3, volume: 0)]))
        #expect(Self.kind(#"{"type":"levels","from":"A","room":"r","levels":[]}"#) == .missingField)
        #expect(Self.kind("{\(base)}") == .missingField)
        #expect(Self.kind("{\(base),\"levels\":[{\"userId\":3}]}") == .missingField)
        #expect(Self.kind("{\(base),\"levels\":[{\"userId\":3,\"volume\":1}]}") == .outOfRange)
        #expect(Self.kind("{\(base),\"levels\":[{\"userId\":3,\"volume\":-128}]}") == .outOfRange)
        #expect(Self.kind("{\(base),\"levels\":[{\"userId\":0,\"volume\":-3}]}") == .outOfRange)
        #expect(Self.kind("{\(base),\"levels\":[{\"userId\":1e300,\"volume\":-3}]}") == .malformed)
        #expect(Self.kind("{\(base),\"levels\":[{\"userId\":\"3\",\"volume\":-3}]}") == .malformed)
        #expect(Self.kind(#"{"type":"levels","from":"A","room":"r","seq":"-1","levels":[]}"#) == .outOfRange)
        let many = Array(repeating: #"{"userId":3,"volume":-3}"#, count: PipeMessage.maxLevels + 1).joined(separator: ",")
        #expect(Self.kind("{\(base),\"levels\":[\(many)]}") == .outOfRange)
    }

    @Test func oversizedMessagesAreRefusedBeforeParsing() {
        let padding = String(repeating: " ", count: PipeMessage.maxMessageBytes)
        #expect(Self.kind(#"{"type":"closed","from":"A","room":"r","producerId":"p"}"# + padding) == .tooLarge)
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(Self.kind(#"{"type":"closed","from":"A","room":"r","producerId":"p","x":"# + deep + "}") == .malformed)
    }

    @Test func garbageNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? PipeMessage.decode(Data(bytes))
        }
    }
}

/// The pending-request table behind ``PipeLink``: bounded, and an answer is never lost nor
/// delivered twice whatever the order of answer, wait and timeout.
@Suite struct PendingRequestsTests {
    @Test func boundedAndFreedByAnswersAndTimeouts() {
        var table = PendingRequests<String, Int>(capacity: 2)
        let a = table.reserve()
        let b = table.reserve()
        #expect(a != nil && b != nil && a != b)
        #expect(table.reserve() == nil)
        #expect(table.wait(a!, 1) == .keep)
        #expect(table.answer(a!, "ok") == 1)
        #expect(table.answer(a!, "again") == nil)  // duplicate: dropped
        #expect(table.cancel(b!) == nil)  // nobody waited yet
        #expect(table.count == 0)
        #expect(table.reserve() != nil)
    }

    @Test func anAnswerBeforeTheWaitIsKept() {
        var table = PendingRequests<String, Int>(capacity: 4)
        let id = table.reserve()!
        #expect(table.answer(id, "early") == nil)
        #expect(table.wait(id, 5) == .resume("early"))
        #expect(table.count == 0)
    }

    @Test func unknownIdsAreDropped() {
        var table = PendingRequests<String, Int>(capacity: 4)
        #expect(table.answer(99, "forged") == nil)
        #expect(table.wait(99, 1) == .fail)
        let id = table.reserve()!
        #expect(table.wait(id, 1) == .keep)
        #expect(table.cancel(id) == 1)
        #expect(table.answer(id, "late") == nil)
    }
}

extension PendingRequests.WaitAction: Equatable where Reply: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.resume(let a), .resume(let b)): a == b
        case (.keep, .keep), (.fail, .fail): true
        default: false
        }
    }
}
