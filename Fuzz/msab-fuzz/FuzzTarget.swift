// The decoders that face the network, one fuzz target each. Every target feeds the bytes to the
// same public entry point the server uses; most check nothing but "no trap, no hang" (the
// sanitizer and libFuzzer's timeouts do the judging). The Redis targets also check a property
// the code promises, and trap with a message when it breaks: RESP decodes the same however the
// reads are split, and what the MessagePack and broadcast codecs decode encodes into bytes that
// decode to the same thing. The media targets (STUN, RTP, RTCP, SRTP, DTLS, mediasoup JSON) sit
// beside the signalling ones so one harness covers the whole surface.
import DTLS
import EngineIOParser
import Foundation
import ICELite
import MediasoupWire
import MessagePack
import NIOCore
import RTP
import Redis
import SFU
import SRTP
import STUN
import SocketIOParser
import SocketIORedis

enum FuzzTarget: String, CaseIterable {
    case enginePacket = "engine-packet"
    case enginePayload = "engine-payload"
    case socketIOPacket = "socketio-packet"
    case json
    case stun
    case rtp
    case rtcp
    case srtp
    case dtlsRecord = "dtls-record"
    case mediasoupJSON = "mediasoup-json"
    case resp
    case msgpack
    case redisBroadcast = "redis-broadcast"
    case redisRequest = "redis-request"

    /// Runs one input. Errors are the expected outcome for most inputs and are discarded.
    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .enginePacket:
            _ = try? EngineIOCodec.decodeText(String(decoding: bytes, as: UTF8.self))
        case .enginePayload:
            _ = try? EngineIOCodec.decodePayload(String(decoding: bytes, as: UTF8.self))
        case .socketIOPacket:
            // A header, then (as the server does) the attachments it announces, rebuilt from
            // slices of the same input.
            guard let header = try? SocketIOCodec.decode(String(decoding: bytes, as: UTF8.self)) else { return }
            if header.attachments > 0, header.attachments <= 16, let data = header.packet.data {
                let attachments = (0..<header.attachments).map { ByteBuffer(bytes: bytes.prefix($0)) }
                _ = try? SocketIOCodec.reconstruct(data, attachments: attachments)
            }
        case .json:
            guard let value = try? JSONValue.parse(bytes) else { return }
            // Round trip: what we parsed must serialise and parse again.
            var out: [UInt8] = []
            value.write(into: &out)
            _ = try? JSONValue.parse(out)
        case .stun:
            let buffer = ByteBuffer(bytes: bytes)
            guard let message = try? STUNMessage(datagram: buffer) else { return }
            _ = message.checkFingerprint()
            _ = message.checkMessageIntegrity(key: Fixtures.icePasswordBytes)
            var agent = Fixtures.iceAgent
            _ = agent.receivedBindingRequest(message, from: Fixtures.peer, now: NIODeadline.uptimeNanoseconds(1_000_000_000))
        case .rtp:
            var copy = Array(bytes)
            copy.withUnsafeMutableBytes { raw in
                guard let view = RTPPacketView(raw) else { return }
                _ = (view.payloadType, view.sequenceNumber, view.timestamp, view.ssrc, view.marker)
                for index in 0..<view.csrcCount { _ = view.csrc(at: index) }
                _ = view.payload.count
                _ = view.extensionProfile
                _ = view.extensionDataRange
            }
            var buffer = ByteBuffer(bytes: bytes)
            _ = buffer.setRTPHeaderExtension(id: 1, value: [0x7F])
        case .rtcp:
            var reader = RTCPCompoundReader(ByteBuffer(bytes: bytes))
            var count = 0
            while count < 10_000, let packet = try? reader.next() {
                _ = packet
                count += 1
            }
        case .srtp:
            // The first byte picks the profile and RTP or RTCP; the rest is the protected packet.
            guard let selector = bytes.first else { return }
            let profile = SRTPProfile.allCases[Int(selector & 0x03)]
            guard let session = Fixtures.srtpSession(profile) else { return }
            var buffer = ByteBuffer(bytes: bytes.dropFirst())
            if selector & 0x04 == 0 {
                try? session.unprotectRTP(&buffer)
            } else {
                try? session.unprotectRTCP(&buffer)
            }
        case .dtlsRecord:
            let buffer = ByteBuffer(bytes: bytes)
            guard WebRTCTransport.isWellFormedDTLS(buffer) else { return }
            // Whole records reach OpenSSL: a server-role endpoint takes them as the first flight.
            guard let endpoint = Fixtures.dtlsServer() else { return }
            let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
            endpoint.start(now: now)
            endpoint.handleDatagram(buffer, now: now)
            while endpoint.pollDatagram() != nil {}
            while endpoint.pollEvent() != nil {}
            endpoint.close()
        case .mediasoupJSON:
            guard let value = try? JSONValue.parse(bytes) else { return }
            if let parameters = try? value.decode(RtpParameters.self),
                let validated = try? ORTC.validateRtpParameters(parameters),
                let mapping = try? ORTC.getProducerRtpParametersMapping(
                    validated, routerRtpCapabilities: Fixtures.routerCapabilities, firstMappedSsrc: 100_000_000)
            {
                if let consumable = try? ORTC.getConsumableRtpParameters(
                    kind: .audio, validated, routerRtpCapabilities: Fixtures.routerCapabilities, rtpMapping: mapping)
                {
                    _ = try? ORTC.canConsume(consumable, rtpCapabilities: Fixtures.routerCapabilities)
                }
            }
            if let capabilities = try? value.decode(RtpCapabilities.self),
                let validated = try? ORTC.validateRtpCapabilities(capabilities)
            {
                _ = validated
            }
            // Whatever the direct decoder answers, JSONDecoder on the text answers the same.
            Self.checkDecodingAgreement(RtpParameters.self, value)
            Self.checkDecodingAgreement(RtpCapabilities.self, value)
        case .resp:
            Self.runRESP(bytes)
        case .msgpack:
            guard let value = try? MessagePackValue.decode(bytes) else { return }
            let encoded = value.encoded()
            let again: MessagePackValue
            do {
                again = try MessagePackValue.decode(encoded)
            } catch {
                Self.fail("msgpack: the encoding of a decoded value does not decode (\(error))", value, encoded.readableBytesView)
            }
            guard Equivalence.same(value, again) else {
                Self.fail("msgpack: the round trip changed the value into \(Equivalence.preview(again))", value, encoded.readableBytesView)
            }
        case .redisBroadcast:
            guard let broadcast = try? RedisBroadcast.decode(ByteBuffer(bytes: bytes)) else { return }
            // What a node relays must read back as the same broadcast: decoding its encoding
            // succeeds and encodes to the same bytes (bytes, not ==, so a NaN argument compares).
            let encoded = broadcast.encoded()
            let again: RedisBroadcast
            do {
                again = try RedisBroadcast.decode(encoded)
            } catch {
                Self.fail("redis-broadcast: the encoding of a decoded broadcast does not decode (\(error))", broadcast, encoded.readableBytesView)
            }
            guard again.encoded() == encoded else {
                Self.fail(
                    "redis-broadcast: re-encoding the round trip gave other bytes: \(Equivalence.preview(again))", broadcast,
                    encoded.readableBytesView)
            }
        case .redisRequest:
            // One payload read as a request, and as the answer to every kind of request this
            // node may have pending under its id. The encoders run too (no property: JSON and
            // MessagePack bound depth differently, so a re-read may legitimately fail).
            let payload = ByteBuffer(bytes: bytes)
            if let request = try? RedisAdapterRequest.decode(payload) {
                _ = try? RedisAdapterRequest.decode(request.encoded())
            }
            for type in RedisAdapterRequestType.allCases {
                if let response = try? RedisAdapterResponse.decode(payload, pendingRequest: { _ in type }) {
                    _ = try? RedisAdapterResponse.decode(response.encoded(), pendingRequest: { _ in type })
                }
            }
        }
    }

    /// The first byte says where the rest is split into two reads (0 → everything in the second,
    /// 255 → everything in the first). Every complete value is drained after each read, and the
    /// values, and whether the stream failed, must be those of the same bytes in one read: the
    /// decoder promises that splits anywhere are fine.
    private static func runRESP(_ bytes: UnsafeRawBufferPointer) {
        guard let selector = bytes.first else { return }
        let stream = bytes.dropFirst()
        let split = stream.count * Int(selector) / 255
        var decoder = RESPDecoder()
        var values: [RESPValue] = []
        var failed = false
        for chunk in [stream.prefix(split), stream.dropFirst(split)] where !failed {
            decoder.feed(ByteBuffer(bytes: chunk))
            failed = !drain(&decoder, into: &values)
        }
        if failed, (try? decoder.next()) != nil {
            fail("resp: a failed decoder decoded again", values, Array(stream))
        }

        var whole = RESPDecoder()
        var wholeValues: [RESPValue] = []
        whole.feed(ByteBuffer(bytes: stream))
        let wholeFailed = !drain(&whole, into: &wholeValues)
        let sameValues = values.count == wholeValues.count && zip(values, wholeValues).allSatisfy { Equivalence.same($0, $1) }
        guard failed == wholeFailed, sameValues else {
            fail(
                "resp: split at \(split) gave \(values.count) values (failed: \(failed)), one read \(wholeValues.count) "
                    + "(failed: \(wholeFailed)): \(Equivalence.preview(values)) vs \(Equivalence.preview(wholeValues))", values, Array(stream))
        }
    }

    /// Calls `next()` until it needs more bytes (true) or throws (false).
    private static func drain(_ decoder: inout RESPDecoder, into values: inout [RESPValue]) -> Bool {
        while true {
            do {
                guard let value = try decoder.next() else { return true }
                values.append(value)
            } catch {
                return false
            }
        }
    }

    /// A broken property is a bug in the code under test: stop with what it was about.
    private static func fail(_ message: String, _ subject: Any, _ bytes: some Sequence<UInt8>) -> Never {
        let digits = Array("0123456789abcdef")
        let hex = bytes.prefix(512).map { "\(digits[Int($0 >> 4)])\(digits[Int($0 & 0x0f)])" }.joined(separator: " ")
        fatalError("\(message)\n  first decoded as: \(Equivalence.preview(subject))\n  bytes: \(hex)")
    }
}

extension FuzzTarget {
    /// Traps when `JSONValueDecoder` answers `value` differently from the text path.
    static func checkDecodingAgreement<T: Decodable & Equatable>(_ type: T.Type, _ value: JSONValue) {
        guard let direct = JSONValueDecoder.decodeIfSure(type, from: value) else { return }
        let text = value.jsonString
        guard let other = try? JSONDecoder().decode(type, from: Data(text.utf8)) else {
            fatalError("json decode: the direct decoder answered \(T.self) where JSONDecoder fails: \(text)")
        }
        guard other == direct else { fatalError("json decode: \(T.self) differs from JSONDecoder's: \(text)") }
    }
}
