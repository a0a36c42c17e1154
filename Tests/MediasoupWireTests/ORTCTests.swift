import Foundation
import Testing

@testable import MediasoupWire

/// The negotiation MSAB performs, checked against the real pymediasoup captures.
@Suite("ORTC with the pymediasoup captures")
struct ORTCTests {
    let router: RtpCapabilities

    init() throws {
        router = try ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
    }

    @Test func msabRouterCapabilities() throws {
        // Contract §5.2 codecs through mediasoup's rules: Opus gets the first dynamic PT (100),
        // mediasoup's Opus feedback, and the media codec's parameters.
        let expected = """
            {"codecs":[{"channels":2,"clockRate":48000,"kind":"audio","mimeType":"audio/opus",
              "parameters":{"minptime":10,"sprop-stereo":1,"usedtx":0,"useinbandfec":1},"preferredPayloadType":100,
              "rtcpFeedback":[{"parameter":"","type":"nack"},{"parameter":"","type":"transport-cc"}]}],
             "headerExtensions":[
              {"direction":"sendrecv","kind":"audio","preferredEncrypt":false,"preferredId":1,"uri":"urn:ietf:params:rtp-hdrext:sdes:mid"},
              {"direction":"sendrecv","kind":"audio","preferredEncrypt":false,"preferredId":4,"uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"},
              {"direction":"recvonly","kind":"audio","preferredEncrypt":false,"preferredId":5,"uri":"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"},
              {"direction":"sendrecv","kind":"audio","preferredEncrypt":false,"preferredId":10,"uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level"}]}
            """
        #expect(try canonicalJSON(encodeJSON(router)) == canonicalJSON(Data(expected.utf8)))
    }

    @Test func routerCapabilitiesAgreeWithWhatTheClientWasGiven() throws {
        // The capture's router capabilities came from a real mediasoup router (opus without extra
        // parameters); its audio part must equal ours apart from the codec parameters.
        let given = try Fixture.decode(RtpCapabilities.self, "produce-tone", "routerRtpCapabilities_given")
        var ours = try #require(router.codecs?.first)
        ours.parameters = [:]
        #expect(given.codecs == [ours])
        #expect(given.headerExtensions?.filter { $0.kind == .audio } == router.headerExtensions)
    }

    @Test func producerParametersValidateAndMap() throws {
        let raw = try Fixture.decode(RtpParameters.self, "produce-tone", "produce_event", "rtpParameters")
        let params = try ORTC.validateRtpParameters(raw)
        // Already complete except nothing: validation changes no captured value.
        #expect(params == raw)

        let mapping = try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 5000)
        #expect(mapping.codecs == [.init(payloadType: 96, mappedPayloadType: 100)])
        #expect(mapping.encodings == [.init(ssrc: 2_659_474_323, mappedSsrc: 5000)])
        #expect(
            mapping.headerExtensions == [
                .init(uri: "urn:ietf:params:rtp-hdrext:sdes:mid", id: 1, mappedId: 1),
                .init(uri: "urn:ietf:params:rtp-hdrext:ssrc-audio-level", id: 2, mappedId: 10),
            ]
        )
        #expect(mapping.mappedPayloadType(for: 96) == 100)
        #expect(mapping.mappedPayloadType(for: 111) == nil)
        #expect(mapping.mappedHeaderExtensionId(for: 2) == 10)
        #expect(mapping.mappedHeaderExtensionId(for: 3) == nil)

        let consumable = try ORTC.getConsumableRtpParameters(kind: .audio, params, routerRtpCapabilities: router, rtpMapping: mapping)
        #expect(
            consumable.codecs == [
                RtpCodecParameters(
                    mimeType: "audio/opus",
                    payloadType: 100,
                    clockRate: 48000,
                    channels: 2,
                    parameters: [:],  // the producer's own (aiortc sends none)
                    rtcpFeedback: [RtcpFeedback(type: "nack", parameter: ""), RtcpFeedback(type: "transport-cc", parameter: "")]
                )
            ]
        )
        // transport-cc is recvonly for audio, so consumers never get it.
        #expect(consumable.headerExtensions?.map(\.id) == [1, 4, 10])
        #expect(consumable.encodings == [RtpEncodingParameters(ssrc: 5000, dtx: false)])
        #expect(consumable.rtcp == RtcpParameters(cname: "c61cba89-6696-466e-8a8c-b67d56c8f349", reducedSize: true))
        #expect(consumable.mid == nil)
    }

    /// A Chrome-like producer (PT 111, fmtp minptime=10;useinbandfec=1, level id 1, mid id 4),
    /// the producer that consume.json's consumer parameters were made for.
    func chromeConsumable() throws -> RtpParameters {
        let producer = try ORTC.validateRtpParameters(
            decodeJSON(
                RtpParameters.self,
                """
                {"mid":"0","codecs":[{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2,
                  "parameters":{"minptime":10,"useinbandfec":1},"rtcpFeedback":[{"type":"transport-cc"}]}],
                 "headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","id":1},
                                     {"uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","id":2},
                                     {"uri":"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01","id":3},
                                     {"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":4}],
                 "encodings":[{"ssrc":1234,"dtx":false}],"rtcp":{"cname":"server-side-cname","reducedSize":true}}
                """
            )
        )
        let mapping = try ORTC.getProducerRtpParametersMapping(producer, routerRtpCapabilities: router, firstMappedSsrc: 777)
        #expect(mapping.codecs == [.init(payloadType: 111, mappedPayloadType: 100)])
        #expect(mapping.headerExtensions.map(\.mappedId) == [10, 4, 5, 1])
        return try ORTC.getConsumableRtpParameters(kind: .audio, producer, routerRtpCapabilities: router, rtpMapping: mapping)
    }

    @Test func consumerParametersForTheDevice() throws {
        let consumable = try chromeConsumable()
        let device = try Fixture.decode(RtpCapabilities.self, "produce-tone", "device_recvRtpCapabilities")
        #expect(try ORTC.canConsume(consumable, rtpCapabilities: device))

        let consumer = try ORTC.getConsumerRtpParameters(
            consumableRtpParameters: consumable,
            remoteRtpCapabilities: device,
            ssrc: 123_456_789,
            mid: "0"
        )
        let expected = try Fixture.decode(RtpParameters.self, "consume", "consumer_rtpParameters_from_server")

        #expect(consumer.mid == expected.mid)
        #expect(consumer.codecs.count == 1)
        let (codec, expectedCodec) = (try #require(consumer.codecs.first), try #require(expected.codecs.first))
        #expect(codec.mimeType == expectedCodec.mimeType)
        #expect(codec.payloadType == expectedCodec.payloadType)
        #expect(codec.clockRate == expectedCodec.clockRate)
        #expect(codec.channels == expectedCodec.channels)
        #expect(codec.parameters == expectedCodec.parameters)
        // mediasoup takes the feedback from the remote's codec capability, and this device lists
        // none; the capture's `transport-cc` was written by hand and cannot come out of mediasoup.
        #expect(codec.rtcpFeedback == [])
        #expect(consumer.headerExtensions == expected.headerExtensions)
        #expect(consumer.encodings == expected.encodings)
        #expect(consumer.rtcp?.cname == expected.rtcp?.cname)
        #expect(consumer.rtcp?.reducedSize == expected.rtcp?.reducedSize)
    }

    @Test func consumerOfThePymediasoupProducer() throws {
        let params = try ORTC.validateRtpParameters(Fixture.decode(RtpParameters.self, "produce-tone", "produce_event", "rtpParameters"))
        let mapping = try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1)
        let consumable = try ORTC.getConsumableRtpParameters(kind: .audio, params, routerRtpCapabilities: router, rtpMapping: mapping)
        let device = try Fixture.decode(RtpCapabilities.self, "consume", "device_rtpCapabilities_sent_to_server")
        let consumer = try ORTC.getConsumerRtpParameters(
            consumableRtpParameters: consumable,
            remoteRtpCapabilities: device,
            ssrc: 42,
            cname: "consumer-cname"
        )
        let expected = """
            {"codecs":[{"channels":2,"clockRate":48000,"mimeType":"audio/opus","parameters":{},"payloadType":100,"rtcpFeedback":[]}],
             "encodings":[{"ssrc":42}],
             "headerExtensions":[{"encrypt":false,"id":1,"parameters":{},"uri":"urn:ietf:params:rtp-hdrext:sdes:mid"},
                                 {"encrypt":false,"id":10,"parameters":{},"uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level"}],
             "rtcp":{"cname":"consumer-cname","reducedSize":true}}
            """
        #expect(try canonicalJSON(encodeJSON(consumer)) == canonicalJSON(Data(expected.utf8)))
    }

    @Test func deviceWithoutOpusCannotConsume() throws {
        let consumable = try chromeConsumable()
        let pcmuOnly = try decodeJSON(
            RtpCapabilities.self,
            #"{"codecs":[{"kind":"audio","mimeType":"audio/PCMU","preferredPayloadType":0,"clockRate":8000}],"headerExtensions":[]}"#
        )
        #expect(try ORTC.canConsume(consumable, rtpCapabilities: pcmuOnly) == false)
        #expect(try ORTC.canConsume(consumable, rtpCapabilities: RtpCapabilities()) == false)
        // Mono opus is not the same codec as stereo opus (channels differ).
        let monoOpus = RtpCapabilities(codecs: [RtpCodecCapability(kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 1)])
        #expect(try ORTC.canConsume(consumable, rtpCapabilities: monoOpus) == false)
        #expect {
            try ORTC.getConsumerRtpParameters(consumableRtpParameters: consumable, remoteRtpCapabilities: pcmuOnly, ssrc: 1)
        } throws: { error in
            (error as? ORTCError)?.type == .unsupported
        }
        // Case-insensitive MIME type still matches.
        let upper = RtpCapabilities(codecs: [RtpCodecCapability(kind: .audio, mimeType: "AUDIO/OPUS", clockRate: 48000, channels: 2)])
        #expect(try ORTC.canConsume(consumable, rtpCapabilities: upper))
    }

    @Test func producerWithUnknownCodecIsRejected() throws {
        let params = try ORTC.validateRtpParameters(
            RtpParameters(codecs: [RtpCodecParameters(mimeType: "audio/G722", payloadType: 9, clockRate: 8000)], encodings: [.init(ssrc: 1)])
        )
        #expect {
            try ORTC.getProducerRtpParametersMapping(params, routerRtpCapabilities: router, firstMappedSsrc: 1)
        } throws: { error in
            let error = try #require(error as? ORTCError)
            return error.type == .unsupported && error.message.contains("audio/G722")
        }
    }
}
