// The decoders that face the network, one fuzz target each. Every target feeds the bytes to the
// same public entry point the server uses and checks nothing but "no trap, no hang": the
// sanitizer and libFuzzer's timeouts do the judging. The media targets (STUN, RTP, RTCP, SRTP,
// DTLS, mediasoup JSON) sit beside the signalling ones so one harness covers the whole surface.
import DTLS
import EngineIOParser
import ICELite
import MediasoupWire
import NIOCore
import RTP
import SFU
import SRTP
import STUN
import SocketIOParser

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
        }
    }
}
