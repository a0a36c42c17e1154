import Foundation
import MediasoupWire
import NIOCore
import SRTP
import STUN

extension Router {
    /// Longest `keyBase64` accepted: the base64 of the longest key‖salt (44 bytes) is 60
    /// characters; anything longer is refused before it is decoded.
    static let maxPipeKeyBase64Length = 64

    /// mediasoup `router.createPipeTransport({enableSrtp})`: a pipe on the worker's shared port
    /// with a fresh random SRTP key (AEAD_AES_256_GCM) unless `enableSrtp` is false.
    package func createPipeTransport(enableSrtp: Bool = true) throws(SFUError) -> PipeTransportInfo {
        let pipe = try createPipeTransport(enableSRTP: enableSrtp)
        let srtp = pipe.localSRTP.map {
            SrtpParameters(cryptoSuite: $0.profile.mediasoupName, keyBase64: Data($0.keyAndSalt).base64EncodedString())
        }
        return PipeTransportInfo(
            id: pipe.id, ip: worker.settings.pipeAddress ?? worker.settings.announcedAddress, port: UInt16(clamping: worker.settings.port),
            srtpParameters: srtp)
    }

    /// mediasoup `pipeTransport.connect({ip, port, srtpParameters})`: the remote side's tuple and
    /// key. Every value is checked (an IP literal, a non-zero port, the same suite as ours, a key
    /// of the suite's length); once only.
    package func connectPipeTransport(_ transportId: String, ip: String, port: UInt16, srtpParameters: SrtpParameters?) throws(SFUError) {
        let pipe = try pipeTransport(transportId)
        guard port != 0, ip.utf8.count <= 64, let address = try? SocketAddress(ipAddress: ip, port: Int(port)),
            let remote = TransportAddress(address)
        else { throw SFUError(.badPipeParameters, "address") }
        var keyAndSalt: [UInt8]?
        if let srtpParameters {
            guard let local = pipe.localSRTP, srtpParameters.cryptoSuite == local.profile.mediasoupName else {
                throw SFUError(.badPipeParameters, "crypto suite")
            }
            guard srtpParameters.keyBase64.utf8.count <= Self.maxPipeKeyBase64Length,
                let key = Data(base64Encoded: srtpParameters.keyBase64), key.count == local.profile.keyAndSaltLength
            else { throw SFUError(.badPipeParameters, "SRTP key") }
            keyAndSalt = Array(key)
        } else if pipe.localSRTP != nil {
            throw SFUError(.badPipeParameters, "SRTP parameters missing")
        }
        try pipe.connect(remote: remote, remoteKeyAndSalt: keyAndSalt)
        worker.pipeConnected(remote: remote)
    }

    /// mediasoup `pipeTransport.consume({producerId})`: starts sending `producerId` over the pipe.
    /// The answer is what the remote router's ``produceOnPipe(transportId:producerId:kind:rtpParameters:paused:)`` takes.
    package func consumeOnPipe(transportId: String, producerId: String) throws(SFUError) -> PipeConsumerInfo {
        let pipe = try pipeTransport(transportId)
        let producer = try producer(producerId)
        let pipeConsumer = try addPipeConsumer(transport: pipe, producerId: producerId)
        var parameters = producer.consumableRtpParameters
        parameters.encodings = [RtpEncodingParameters(ssrc: pipeConsumer.ssrc)]
        parameters.mid = nil
        return PipeConsumerInfo(
            id: pipeConsumer.id, producerId: producerId, kind: producer.kind, rtpParameters: parameters, producerPaused: producer.paused)
    }

    /// mediasoup `pipeTransport.produce({id, kind, rtpParameters, paused})`: the copy of a producer
    /// of the remote router, with its id, fed by the pipe; for this router's consumers and
    /// observers it is a producer like any other. The pipe must be connected (its remote tuple
    /// and the SSRC are the stream's demux key).
    /// - Throws: `.ssrcInUse` when the (tuple, SSRC) is taken (the caller picks another pipe
    ///   consumer), `.producerIdInUse`, `.unsupportedRtpParameters`, `.pipeNotConnected`.
    package func produceOnPipe(
        transportId: String, producerId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool
    ) throws(SFUError) -> String {
        let pipe = try pipeTransport(transportId)
        guard producerId.utf8.count <= 64, !producerId.isEmpty else { throw SFUError(.badPipeParameters, "producer id") }
        let negotiated = try negotiateProducer(kind: kind, rtpParameters: rtpParameters)
        let producer = try addPipeProducer(
            id: producerId, transport: pipe, mapping: negotiated.mapping, paused: paused, kind: kind,
            rtpParameters: negotiated.validated, consumableRtpParameters: negotiated.consumable)
        return producer.id
    }

    /// Whether the producer is paused (nil: no such producer).
    package func isProducerPaused(_ producerId: String) -> Bool? {
        producers[producerId]?.paused
    }
}
