import Foundation
import Testing

@testable import MediasoupWire

/// decode → encode of every mediasoup object in the real pymediasoup captures gives back the
/// same JSON: no key added or lost, integers still integers, booleans still booleans.
@Suite("Round trip of the pymediasoup captures")
struct RoundTripTests {
    private func expectRoundTrip<T: Codable & Equatable>(_ type: T.Type, _ name: String, _ path: String...) throws {
        var value: Any = try Fixture.object(name)
        for key in path {
            value = try #require((value as? [String: Any])?[key])
        }
        let original = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        let decoded = try JSONDecoder().decode(T.self, from: original)
        let reencoded = try encodeJSON(decoded)
        #expect(try canonicalJSON(reencoded) == canonicalJSON(original), "\(name) \(path)")
        // And decoding our own output gives the same value.
        #expect(try JSONDecoder().decode(T.self, from: reencoded) == decoded)
    }

    @Test func produceToneObjects() throws {
        try expectRoundTrip(RtpCapabilities.self, "produce-tone", "routerRtpCapabilities_given")
        try expectRoundTrip(RtpCapabilities.self, "produce-tone", "device_recvRtpCapabilities")
        try expectRoundTrip(DtlsParameters.self, "produce-tone", "connect_event", "dtlsParameters")
        try expectRoundTrip(RtpParameters.self, "produce-tone", "produce_event", "rtpParameters")
        try expectRoundTrip(MediaKind.self, "produce-tone", "produce_event", "kind")
    }

    @Test func consumeObjects() throws {
        try expectRoundTrip(RtpCapabilities.self, "consume", "device_rtpCapabilities_sent_to_server")
        try expectRoundTrip(RtpParameters.self, "consume", "consumer_rtpParameters_from_server")
        try expectRoundTrip(DtlsParameters.self, "consume", "connect_event")
    }

    @Test func decodedFieldsMatchTheCapture() throws {
        let produce = try Fixture.decode(RtpParameters.self, "produce-tone", "produce_event", "rtpParameters")
        #expect(produce.mid == "0")
        #expect(produce.codecs.map(\.payloadType) == [96])
        #expect(produce.codecs.first?.parameters == [:])
        #expect(produce.headerExtensions?.map(\.id) == [1, 2])
        #expect(produce.encodings == [RtpEncodingParameters(ssrc: 2_659_474_323, dtx: false)])
        #expect(produce.rtcp == RtcpParameters(cname: "c61cba89-6696-466e-8a8c-b67d56c8f349", reducedSize: true, mux: true))

        let consumer = try Fixture.decode(RtpParameters.self, "consume", "consumer_rtpParameters_from_server")
        #expect(consumer.codecs.first?.parameters == ["minptime": .integer(10), "useinbandfec": .integer(1)])

        let dtls = try Fixture.decode(DtlsParameters.self, "consume", "connect_event")
        #expect(dtls.role == .client)
        #expect(dtls.fingerprints.first?.algorithm == .sha512)

        let caps = try Fixture.decode(RtpCapabilities.self, "produce-tone", "routerRtpCapabilities_given")
        #expect(caps.headerExtensions?.first { $0.kind == .audio && $0.uri.hasSuffix("transport-wide-cc-extensions-01") }?.direction == .recvonly)
    }

    @Test func absentOptionalFieldsStayAbsent() throws {
        let text = #"{"codecs":[{"mimeType":"audio/opus","payloadType":111,"clockRate":48000}]}"#
        let params = try decodeJSON(RtpParameters.self, text)
        #expect(try canonicalJSON(encodeJSON(params)) == canonicalJSON(Data(text.utf8)))
    }
}
