public import MediasoupWire
import Foundation

/// One room's router (mediasoup's Router): owns its transports, producers and consumers, the
/// producer → consumers map, and the speaker observer. Event-loop confined.
public final class Router {
    public let id: String
    public let rtpCapabilities: RtpCapabilities
    unowned let worker: WorkerCore
    let emit: (MediaRouterEvent) -> Void
    var transports: [String: WebRTCTransport] = [:]
    var producers: [String: Producer] = [:]
    var consumers: [String: Consumer] = [:]
    /// The fan-out map (Router::mapProducerConsumers).
    var consumersOf: [ObjectIdentifier: [Consumer]] = [:]
    let observer = SpeakerObserver()
    public private(set) var closed = false

    public init(mediaCodecs: [RtpCodecCapability], worker: WorkerCore, emit: @escaping (MediaRouterEvent) -> Void) throws {
        id = UUID().uuidString.lowercased()
        rtpCapabilities = try SupportedCapabilities.routerCapabilities(mediaCodecs: mediaCodecs)
        self.worker = worker
        self.emit = emit
        worker.addRouter(self)
    }

    public var transportCount: Int { transports.count }
    public var producerCount: Int { producers.count }
    public var consumerCount: Int { consumers.count }

    // MARK: - transports

    public func createWebRtcTransport() -> WebRtcTransportInfo {
        let transport = WebRTCTransport(router: self)
        transports[transport.id] = transport
        worker.register(transport)
        return transport.info
    }

    func transport(_ id: String) throws(SFUError) -> WebRTCTransport {
        guard let transport = transports[id] else { throw SFUError(.unknownTransport, id) }
        return transport
    }

    public func connectTransport(_ id: String, dtlsParameters: DtlsParameters) throws(SFUError) {
        try transport(id).connect(dtlsParameters)
    }

    public func restartIce(_ id: String) throws(SFUError) -> IceParameters {
        try transport(id).restartIce()
    }

    public func closeTransport(_ id: String, reason: String = "closed") {
        transports[id]?.close(reason: reason, notify: false)
    }

    /// Called by a transport that closed (by request or on its own): cascade, forget, report.
    func transportClosed(_ transport: WebRTCTransport, reason: String, notify: Bool) {
        for producer in transport.producers { closeProducer(producer, reason: "transport closed") }
        for consumer in transport.consumers { closeConsumer(consumer, reason: "transport closed") }
        transports[transport.id] = nil
        worker.unregister(transport)
        emit(.transportClosed(transportId: transport.id, reason: reason))
    }

    // MARK: - producers

    public func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) throws(SFUError) -> String {
        let transport = try transport(transportId)
        guard kind == .audio else { throw SFUError(.unsupportedParameters, "only audio") }
        let mapping: RtpMapping
        do {
            mapping = try ORTC.producerMapping(rtpParameters, routerCapabilities: rtpCapabilities)
        } catch {
            throw SFUError(.unsupportedParameters, error.description)
        }
        if let ssrc = mapping.ssrc, transport.producersBySSRC[ssrc] != nil {
            throw SFUError(.unsupportedParameters, "ssrc \(ssrc) already in use")
        }
        let consumable = ORTC.consumableParameters(rtpParameters, mapping: mapping, routerCapabilities: rtpCapabilities)
        let audioLevelId = rtpParameters.headerExtensions?.first { $0.uri == SupportedCapabilities.audioLevelURI }?.id
        let producer = Producer(transport: transport, mapping: mapping, consumable: consumable, audioLevelId: audioLevelId, paused: paused)
        producers[producer.id] = producer
        transport.add(producer)
        observer.add(producer.id)
        return producer.id
    }

    func producer(_ id: String) throws(SFUError) -> Producer {
        guard let producer = producers[id] else { throw SFUError(.unknownProducer, id) }
        return producer
    }

    public func setProducerPaused(_ id: String, _ paused: Bool) throws(SFUError) {
        let producer = try producer(id)
        guard producer.paused != paused else { return }
        producer.paused = paused
        if paused { observer.remove(producer.id) } else { observer.add(producer.id) }
        // After a pause the consumers' sequence numbers continue where they stopped.
        for consumer in consumersOf[ObjectIdentifier(producer)] ?? [] { consumer.resync = true }
    }

    public func closeProducer(_ id: String) {
        if let producer = producers[id] { closeProducer(producer, reason: "closed") }
    }

    func closeProducer(_ producer: Producer, reason: String) {
        guard producers.removeValue(forKey: producer.id) != nil else { return }
        producer.transport.remove(producer)
        observer.remove(producer.id)
        for consumer in consumersOf.removeValue(forKey: ObjectIdentifier(producer)) ?? [] {
            closeConsumer(consumer, reason: "producer closed")
        }
        emit(.producerClosed(producerId: producer.id, reason: reason))
    }

    // MARK: - consumers

    public func canConsume(producerId: String, rtpCapabilities capabilities: RtpCapabilities) -> Bool {
        guard let producer = producers[producerId] else { return false }
        return ORTC.canConsume(producer.consumable, capabilities: capabilities)
    }

    public func consume(transportId: String, producerId: String, rtpCapabilities capabilities: RtpCapabilities, paused: Bool) throws(SFUError) -> ConsumerInfo {
        let transport = try transport(transportId)
        let producer = try producer(producerId)
        guard ORTC.canConsume(producer.consumable, capabilities: capabilities) else { throw SFUError(.cannotConsume) }
        let ssrc = UInt32.random(in: 100_000_000...900_000_000)
        let parameters: RtpParameters
        do {
            parameters = try ORTC.consumerParameters(producer.consumable, capabilities: capabilities, ssrc: ssrc, mid: transport.nextMid())
        } catch {
            throw SFUError(.cannotConsume, error.description)
        }
        let consumer = Consumer(transport: transport, producer: producer, parameters: parameters, ssrc: ssrc, paused: paused)
        consumers[consumer.id] = consumer
        consumersOf[ObjectIdentifier(producer), default: []].append(consumer)
        transport.add(consumer)
        return ConsumerInfo(id: consumer.id, producerId: producer.id, kind: .audio, rtpParameters: parameters)
    }

    public func setConsumerPaused(_ id: String, _ paused: Bool) throws(SFUError) {
        guard let consumer = consumers[id] else { throw SFUError(.unknownConsumer, id) }
        if consumer.paused && !paused { consumer.resync = true }
        consumer.paused = paused
    }

    public func closeConsumer(_ id: String) {
        if let consumer = consumers[id] { closeConsumer(consumer, reason: "closed") }
    }

    func closeConsumer(_ consumer: Consumer, reason: String) {
        guard consumers.removeValue(forKey: consumer.id) != nil else { return }
        consumer.transport.remove(consumer)
        consumersOf[ObjectIdentifier(consumer.producer)]?.removeAll { $0 === consumer }
        emit(.consumerClosed(consumerId: consumer.id, reason: reason))
    }

    public func close() {
        guard !closed else { return }
        closed = true
        for transport in Array(transports.values) { transport.close(reason: "router closed", notify: false) }
        worker.forgetRouter(self)
    }

    // MARK: - packet path

    /// Router::OnTransportProducerRtpPacketReceived: one short loop over the producer's consumers.
    @inline(__always)
    func forward(_ producer: Producer, packet: UnsafeMutableRawPointer, length: Int) {
        guard let list = consumersOf[ObjectIdentifier(producer)] else { return }
        for consumer in list { consumer.send(packet: packet, length: length, worker: worker) }
    }

    // MARK: - time

    func tick(now: UInt64) {
        for transport in Array(transports.values) { transport.tick(now: now) }
        if let event = observer.tick(now: now) {
            switch event {
            case .levels(let levels):
                emit(.audioLevels(levels.map { (producerId: $0.0, volume: $0.1) }))
            case .dominant(let producer, let volume):
                emit(.dominantSpeaker(producerId: producer, volume: volume))
            case .levelsAndDominant(let levels, let producer, let volume):
                emit(.audioLevels(levels.map { (producerId: $0.0, volume: $0.1) }))
                emit(.dominantSpeaker(producerId: producer, volume: volume))
            case .silence:
                emit(.silence)
            }
        }
    }
}
