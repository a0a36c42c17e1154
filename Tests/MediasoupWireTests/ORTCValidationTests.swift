import Foundation
import Testing

@testable import MediasoupWire

@Suite("ORTC validation")
struct ORTCValidationTests {
    @Test func fillsMediasoupDefaultsInParameters() throws {
        let raw = try decodeJSON(
            RtpParameters.self,
            #"{"codecs":[{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"rtcpFeedback":[{"type":"nack"}]}],"#
                + #""headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":4}],"encodings":[{"ssrc":5}]}"#
        )
        let params = try ORTC.validateRtpParameters(raw)
        let codec = try #require(params.codecs.first)
        #expect(codec.channels == 1)
        #expect(codec.parameters == [:])
        #expect(codec.rtcpFeedback == [RtcpFeedback(type: "nack", parameter: "")])
        #expect(
            params.headerExtensions == [
                RtpHeaderExtensionParameters(uri: "urn:ietf:params:rtp-hdrext:sdes:mid", id: 4, encrypt: false, parameters: [:])
            ])
        #expect(params.encodings == [RtpEncodingParameters(ssrc: 5, dtx: false)])
        #expect(params.rtcp == RtcpParameters(reducedSize: true))
    }

    @Test func emptyCollectionsDefault() throws {
        let params = try ORTC.validateRtpParameters(RtpParameters(codecs: []))
        #expect(params.headerExtensions == [])
        #expect(params.encodings == [])
        let caps = try ORTC.validateRtpCapabilities(RtpCapabilities())
        #expect(caps.codecs == [])
        #expect(caps.headerExtensions == [])
    }

    @Test func reducedSizeFalseBecomesTrueAsInMediasoup() throws {
        let params = try ORTC.validateRtpParameters(RtpParameters(codecs: [], rtcp: RtcpParameters(cname: "x", reducedSize: false)))
        #expect(params.rtcp == RtcpParameters(cname: "x", reducedSize: true))
    }

    @Test func capabilityKindFollowsMimeTypeAndVideoLosesChannels() throws {
        let codec = try ORTC.validateRtpCodecCapability(RtpCodecCapability(kind: .audio, mimeType: "video/VP8", clockRate: 90000, channels: 2))
        #expect(codec.kind == .video)
        #expect(codec.channels == nil)
        let ext = try ORTC.validateRtpHeaderExtension(RtpHeaderExtension(kind: .audio, uri: "urn:x", preferredId: 3))
        #expect(ext.direction == .sendrecv)
        #expect(ext.preferredEncrypt == false)
    }

    /// Each malformed producer payload and the part of the message that names the problem.
    static let malformedParameters: [(String, String)] = [
        (#"{"codecs":[{"mimeType":"","payloadType":96,"clockRate":48000}]}"#, "missing params.codecs[0].mimeType"),
        (#"{"codecs":[{"mimeType":"opus","payloadType":96,"clockRate":48000}]}"#, "invalid params.codecs[0].mimeType"),
        (#"{"codecs":[{"mimeType":"text/opus","payloadType":96,"clockRate":48000}]}"#, "invalid params.codecs[0].mimeType"),
        (#"{"codecs":[{"mimeType":"audio/","payloadType":96,"clockRate":48000}]}"#, "invalid params.codecs[0].mimeType"),
        (#"{"codecs":[{"mimeType":"audio/opus","payloadType":128,"clockRate":48000}]}"#, "payloadType 128"),
        (#"{"codecs":[{"mimeType":"audio/opus","payloadType":-1,"clockRate":48000}]}"#, "payloadType -1"),
        (#"{"codecs":[{"mimeType":"audio/opus","payloadType":96,"clockRate":0}]}"#, "clockRate"),
        (#"{"codecs":[{"mimeType":"audio/opus","payloadType":96,"clockRate":48000,"channels":0}]}"#, "channels"),
        (#"{"codecs":[{"mimeType":"audio/opus","payloadType":96,"clockRate":48000,"parameters":{"x":true}}]}"#, "parameters.x"),
        (#"{"codecs":[{"mimeType":"video/rtx","payloadType":97,"clockRate":90000,"parameters":{"apt":"96"}}]}"#, "apt"),
        (#"{"codecs":[{"mimeType":"audio/opus","payloadType":96,"clockRate":48000,"rtcpFeedback":[{"type":""}]}]}"#, "rtcpFeedback[0].type"),
        (#"{"codecs":[],"headerExtensions":[{"uri":"","id":1}]}"#, "missing params.headerExtensions[0].uri"),
        (#"{"codecs":[],"headerExtensions":[{"uri":"urn:x","id":0}]}"#, "headerExtensions[0].id 0"),
        (#"{"codecs":[],"headerExtensions":[{"uri":"urn:x","id":256}]}"#, "headerExtensions[0].id 256"),
        (#"{"codecs":[],"headerExtensions":[{"uri":"urn:x","id":1,"parameters":{"a":false}}]}"#, "header extension parameter"),
    ]

    @Test(arguments: malformedParameters)
    func malformedParametersAreRejected(json: String, message: String) throws {
        let params = try decodeJSON(RtpParameters.self, json)
        #expect {
            try ORTC.validateRtpParameters(params)
        } throws: { error in
            let error = try #require(error as? ORTCError)
            return error.type == .invalidParameters && error.message.contains(message)
        }
    }

    /// What JavaScript's `typeof` checks reject in ortc.ts is rejected by the decoder here.
    @Test(arguments: [
        #"{}"#,
        #"{"codecs":{}}"#,
        #"{"codecs":[{"payloadType":96,"clockRate":48000}]}"#,
        #"{"codecs":[{"mimeType":"audio/opus","clockRate":48000}]}"#,
        #"{"codecs":[{"mimeType":"audio/opus","payloadType":"96","clockRate":48000}]}"#,
        #"{"codecs":[{"mimeType":"audio/opus","payloadType":96}]}"#,
        #"{"codecs":[],"headerExtensions":[{"id":1}]}"#,
        #"{"codecs":[],"encodings":[{"ssrc":"1"}]}"#,
        #"{"codecs":[],"encodings":[{"ssrc":4294967296}]}"#,
        #"{"codecs":[],"encodings":[{"rtx":{}}]}"#,
        #"{"codecs":[],"rtcp":"yes"}"#,
        #"{"codecs":[],"mid":5}"#,
    ])
    func illTypedParametersDoNotDecode(json: String) {
        #expect(throws: DecodingError.self) { try decodeJSON(RtpParameters.self, json) }
    }

    @Test(arguments: [
        #"{"codecs":[{"kind":"data","mimeType":"audio/opus","clockRate":48000}]}"#,
        #"{"codecs":[{"kind":"audio","mimeType":"audio/opus"}]}"#,
        #"{"headerExtensions":[{"kind":"screen","uri":"urn:x","preferredId":1}]}"#,
        #"{"headerExtensions":[{"kind":"audio","uri":"urn:x"}]}"#,
        #"{"headerExtensions":[{"kind":"audio","uri":"urn:x","preferredId":1,"direction":"both"}]}"#,
    ])
    func illTypedCapabilitiesDoNotDecode(json: String) {
        #expect(throws: DecodingError.self) { try decodeJSON(RtpCapabilities.self, json) }
    }

    @Test func invalidCapabilitiesAreRejected() throws {
        let caps = RtpCapabilities(codecs: [RtpCodecCapability(kind: .audio, mimeType: "opus", clockRate: 48000)])
        #expect {
            try ORTC.validateRtpCapabilities(caps)
        } throws: { error in
            (error as? ORTCError)?.message.contains("caps.codecs[0].mimeType") == true
        }
        #expect(throws: ORTCError.self) {
            try ORTC.canConsume(RtpParameters(codecs: []), rtpCapabilities: caps)
        }
    }
}

/// What mediasoup's worker refuses when creating a producer, applied before mapping.
@Suite("ORTC producer validation (mediasoup worker rules)")
struct ORTCProducerValidationTests {
    static let opus = #"{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2}"#

    static let refused: [(String, String)] = [
        (#"{"mid":"","codecs":[\#(opus)],"encodings":[{"ssrc":1}]}"#, "empty mid"),
        (#"{"codecs":[],"encodings":[{"ssrc":1}]}"#, "empty codecs"),
        (#"{"codecs":[\#(opus)]}"#, "empty encodings"),
        (#"{"codecs":[\#(opus)],"encodings":[]}"#, "empty encodings"),
        (#"{"codecs":[\#(opus),\#(opus)],"encodings":[{"ssrc":1}]}"#, "duplicated payloadType 111"),
        (
            #"{"codecs":[{"mimeType":"audio/rtx","payloadType":96,"clockRate":48000,"parameters":{"apt":96}}],"encodings":[{"ssrc":1}]}"#,
            "points to a RTX codec"
        ),
        (
            #"{"codecs":[\#(opus),{"mimeType":"audio/rtx","payloadType":96,"clockRate":48000,"parameters":{"apt":100}}],"encodings":[{"ssrc":1}]}"#,
            "non existing codec"
        ),
        (#"{"codecs":[\#(opus),{"mimeType":"audio/rtx","payloadType":96,"clockRate":48000}],"encodings":[{"ssrc":1}]}"#, "missing apt"),
        (#"{"codecs":[\#(opus)],"encodings":[{"ssrc":1,"codecPayloadType":100}]}"#, "unknown codecPayloadType 100"),
        (#"{"codecs":[\#(opus)],"encodings":[{"ssrc":1},{}]}"#, "missing ssrc or rid"),
        (#"{"codecs":[\#(opus)],"encodings":[{}]}"#, "missing ssrc or rid, or mid"),
    ]

    @Test(arguments: refused)
    func refusedByTheWorkerRules(json: String, message: String) throws {
        let params = try ORTC.validateRtpParameters(decodeJSON(RtpParameters.self, json))
        let router = try ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
        #expect {
            try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1)
        } throws: { error in
            let error = try #require(error as? ORTCError)
            return error.type == .invalidParameters && error.message.contains(message)
        }
    }

    @Test(arguments: [
        #"{"mid":"0","codecs":[\#(opus)],"encodings":[{}]}"#,
        #"{"codecs":[\#(opus)],"encodings":[{"rid":"r0"},{"rid":"r1"}]}"#,
        #"{"codecs":[\#(opus)],"encodings":[{"ssrc":1,"codecPayloadType":111}]}"#,
    ])
    func acceptedByTheWorkerRules(json: String) throws {
        let params = try ORTC.validateRtpParameters(decodeJSON(RtpParameters.self, json))
        try ORTC.validateProducerRtpParameters(params)
    }
}
