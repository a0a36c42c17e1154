import AudioRooms
import SocketIOParser
import TestSupport
import Testing

/// Every event payload, as real clients send it (the RTP parts are pymediasoup's, from
/// MediasoupWireTests/Fixtures), decodes the same directly as through JSON text, and so do
/// random mutations of it: the direct decoder never answers differently from `JSONDecoder`.
@Suite struct PayloadDecodingTests {
    static let room = #""roomId":"room-1""#
    static let uuid = "6f1c2f4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f"
    static let rtpParameters =
        #"{"mid":"0","codecs":[{"mimeType":"audio/opus","clockRate":48000,"channels":2,"rtcpFeedback":[],"parameters":{"minptime":10,"useinbandfec":1},"payloadType":96}],"#
        + #""headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1,"encrypt":false,"parameters":{}},"#
        + #"{"uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","id":2,"encrypt":false,"parameters":{}}],"#
        + #""encodings":[{"ssrc":2659474323,"dtx":false}],"rtcp":{"cname":"c61cba89","reducedSize":true,"mux":true}}"#
    static let dtlsParameters =
        #"{"role":"client","fingerprints":[{"algorithm":"sha-256","value":"FA:52:B3:2A:3C:E5:E2:BA:D2:F3:63:5B:31:FC:86:60:0E:FE:A0:2B:9D:01:1B:97:91:A9:01:AD:07:03:AE:A5"}]}"#
    static let rtpCapabilities =
        #"{"codecs":[{"mimeType":"audio/opus","clockRate":48000,"channels":2,"rtcpFeedback":[{"type":"transport-cc"}],"parameters":{},"kind":"audio","preferredPayloadType":100}],"#
        + #""headerExtensions":[{"kind":"audio","uri":"urn:ietf:params:rtp-hdrext:sdes:mid","preferredId":1,"preferredEncrypt":false,"direction":"sendrecv"},"#
        + #"{"kind":"audio","uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","preferredId":10,"preferredEncrypt":false,"direction":"sendrecv"}],"fecMechanisms":[]}"#

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    static func check<T: Decodable>(_ type: T.Type, _ text: String, seed: UInt64) throws -> DecodingAgreement {
        var agreement = DecodingAgreement()
        let value = try json(text)
        agreement.check(type, value)
        #expect(agreement.answered == 1, "\(T.self): the direct path must answer the client's payload")
        agreement.checkMutations(type, of: value, count: 300, seed: seed)
        return agreement
    }

    @Test func payloadsAndTheirMutationsAgree() throws {
        let r = Self.room
        let u = Self.uuid
        let cases: [DecodingAgreement] = [
            try Self.check(RoomJoinPayload.self, "{\(r)}", seed: 1),
            try Self.check(RoomLeavePayload.self, "{\(r)}", seed: 2),
            try Self.check(TransportCreatePayload.self, #"{"type":"consumer",\#(r)}"#, seed: 3),
            try Self.check(TransportConnectPayload.self, #"{\#(r),"transportId":"\#(u)","dtlsParameters":\#(Self.dtlsParameters)}"#, seed: 4),
            try Self.check(TransportRestartIcePayload.self, #"{\#(r),"transportId":"\#(u)"}"#, seed: 5),
            try Self.check(
                AudioProducePayload.self, #"{\#(r),"transportId":"\#(u)","kind":"audio","rtpParameters":\#(Self.rtpParameters)}"#, seed: 6),
            try Self.check(
                AudioConsumePayload.self,
                #"{\#(r),"transportId":"\#(u)","producerId":"\#(u)","rtpCapabilities":\#(Self.rtpCapabilities)}"#, seed: 7),
            try Self.check(ConsumerResumePayload.self, #"{\#(r),"consumerId":"\#(u)"}"#, seed: 8),
            try Self.check(SelfMutePayload.self, #"{\#(r),"producerId":"\#(u)"}"#, seed: 9),
            try Self.check(ChatMessagePayload.self, #"{\#(r),"content":"hi \"all\" é🎙","type":"text"}"#, seed: 10),
            try Self.check(GiftSendPayload.self, #"{\#(r),"giftId":12,"recipientId":7,"quantity":3}"#, seed: 11),
            try Self.check(GiftPreparePayload.self, #"{\#(r),"giftId":12,"recipientId":7}"#, seed: 12),
            try Self.check(UserGetRoomPayload.self, #"{"userId":7}"#, seed: 13),
            try Self.check(SeatIndexPayload.self, #"{\#(r),"seatIndex":4}"#, seed: 14),
            try Self.check(RoomOnlyPayload.self, "{\(r)}", seed: 15),
            try Self.check(SeatUserPayload.self, #"{\#(r),"userId":7}"#, seed: 16),
            try Self.check(SeatUserIndexPayload.self, #"{\#(r),"userId":7,"seatIndex":2}"#, seed: 17),
            try Self.check(InviteAnswerPayload.self, #"{\#(r),"seatIndex":null}"#, seed: 18),
        ]
        for agreement in cases {
            #expect(agreement.disagreements.isEmpty, "\(agreement.disagreements.prefix(3))")
        }
        // The mutations exercise both sides: direct answers and fall-backs.
        #expect(cases.map(\.answered).reduce(0, +) > 500 && cases.map(\.fellBack).reduce(0, +) > 500)
    }
}
