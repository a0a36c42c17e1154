import CPrefetch
import Foundation
import MediasoupWire
import NIOCore
import RTP
import SRTP

/// One room's media (mediasoup `Router`): it owns the room's transports, the producer → consumers
/// map and the speaker observers, and does the fan-out in one short loop
/// (mediasoup `Router::OnTransportProducerRtpPacketReceived`).
///
/// Children report to it (a transport that closed itself, a NACK to answer, a packet to fan out);
/// it never lets siblings see each other. Events for the room go through the worker's queue
/// (``SFUWorker/pollEvent()``). Confined to the worker's event loop.
package final class Router {
    // MARK: - Stored properties

    /// Lower-case UUID.
    package let id: String
    unowned let worker: SFUWorker
    package private(set) var closed = false
    private(set) var transports: [String: WebRTCTransport] = [:]
    private(set) var producers: [String: Producer] = [:]
    private(set) var consumers: [String: Consumer] = [:]
    /// The fan-out table: producer → its consumers. Unordered: a closed consumer's slot takes
    /// the last one (each consumer knows its index), so closing n consumers is O(n), not O(n²).
    /// Unretained: ``consumers`` owns them, and a consumer leaves this table before it leaves
    /// ``consumers`` (``closeConsumer(_:reason:notify:)``, ``closeProducer(_:reason:notifyProducer:)``),
    /// all on the worker's loop. So the fan-out borrows each consumer without a retain/release
    /// pair per consumer per packet (a swift_retain per consumer showed in the profile).
    private var consumersByProducer: [ObjectIdentifier: ContiguousArray<Unmanaged<Consumer>>] = [:]
    /// Pipe transports to and from routers on other workers (``PipeTransport``).
    private(set) var pipeTransports: [String: PipeTransport] = [:]
    /// Pipe consumers by id, and per producer (checked once per packet, only when non-empty).
    private(set) var pipeConsumers: [String: PipeConsumer] = [:]
    private var pipeConsumersByProducer: [ObjectIdentifier: [PipeConsumer]] = [:]
    /// Consumers' extension-id maps and MIDs, one copy of each distinct value: equal values then
    /// share their array storage, so the fan-out reads one 256-byte map (and one MID) that stays
    /// in cache instead of a separate out-of-cache array per consumer (`remapExtensionIDs` was
    /// the largest user-space entry after the fan-out loop itself). At most
    /// ``maxSharedMappings`` each (clients choose these values); beyond it a consumer keeps its own.
    private var sharedExtensionMaps: Set<RTPHeaderExtensionIDMap> = []
    private var sharedMids: Set<[UInt8]> = []
    static let maxSharedMappings = 64
    /// Speaker observers (mediasoup `RtpObserver`s) fed with every producer's audio level.
    private(set) var observers: [any RTPObserver] = []
    /// What `room:join` returns (mediasoup `router.rtpCapabilities`).
    package let rtpCapabilities: RtpCapabilities

    // MARK: - Init

    init(id: String? = nil, worker: SFUWorker, rtpCapabilities: RtpCapabilities) {
        self.id = id ?? worker.random.uuidString()
        self.worker = worker
        self.rtpCapabilities = rtpCapabilities
    }

    // MARK: - Transports

    /// Creates a transport with fresh ICE credentials, registered with the worker's demux.
    func createTransport(now: NIODeadline) throws(SFUError) -> WebRTCTransport {
        guard !closed else { throw SFUError(.routerClosed, id) }
        let transport = WebRTCTransport(id: worker.random.uuidString(), router: self, worker: worker, now: now)
        transports[transport.id] = transport
        worker.transportCreated(transport)
        return transport
    }

    func transport(_ id: String) throws(SFUError) -> WebRTCTransport {
        guard let transport = transports[id] else { throw SFUError(.unknownTransport, id) }
        return transport
    }

    /// Closes a transport and everything on it. `reason` goes to the children's events.
    package func closeTransport(_ id: String, reason: CloseReason = .transportClosed) {
        guard let transport = transports[id] else { return }
        close(transport, reason: reason)
    }

    private func close(_ transport: WebRTCTransport, reason: CloseReason) {
        for producer in Array(transport.producers.values) {
            closeProducer(producer, reason: reason, notifyProducer: true)
        }
        for consumer in Array(transport.consumers.values) {
            closeConsumer(consumer, reason: reason, notify: true)
        }
        transport.markClosed()
        transports[transport.id] = nil
        worker.transportClosed(transport)
    }

    /// A transport reported that it must close (DTLS close/failure, ICE consent lost; the
    /// transport returns the reason, it never closes itself): cascade and tell the room.
    func transportClosedItself(_ transport: WebRTCTransport, reason: CloseReason) {
        guard transports[transport.id] === transport else { return }
        close(transport, reason: reason)
        worker.emit(.transportClosed(transportId: transport.id, reason: reason), router: self)
    }

    // MARK: - Producers

    /// Adds a producer on `transportId` with an already-computed mapping.
    func addProducer(
        transportId: String, mapping: ProducerMapping, paused: Bool, kind: MediaKind = .audio,
        rtpParameters: RtpParameters = RtpParameters(codecs: []), consumableRtpParameters: RtpParameters = RtpParameters(codecs: [])
    ) throws(SFUError) -> Producer {
        guard !closed else { throw SFUError(.routerClosed, id) }
        let transport = try transport(transportId)
        guard !transport.isClosed else { throw SFUError(.transportClosed, transportId) }
        if let ssrc = mapping.ssrc, transport.hasProducer(ssrc: ssrc) {
            throw SFUError(.ssrcInUse, "\(ssrc)")
        }
        let producer = Producer(
            id: worker.random.uuidString(), transport: transport, mapping: mapping, paused: paused, kind: kind,
            rtpParameters: rtpParameters, consumableRtpParameters: consumableRtpParameters)
        transport.addProducer(producer)
        link(producer)
        return producer
    }

    /// Adds a pipe producer (id = its origin's) on a connected pipe transport; its SSRC is claimed
    /// in the worker's pipe demux first, so a taken (tuple, SSRC) leaves nothing behind.
    func addPipeProducer(
        id producerId: String, transport: PipeTransport, mapping: ProducerMapping, paused: Bool, kind: MediaKind,
        rtpParameters: RtpParameters, consumableRtpParameters: RtpParameters
    ) throws(SFUError) -> Producer {
        guard !closed else { throw SFUError(.routerClosed, id) }
        guard !transport.isClosed else { throw SFUError(.transportClosed, transport.id) }
        guard let remote = transport.remoteAddress else { throw SFUError(.pipeNotConnected, transport.id) }
        guard producers[producerId] == nil else { throw SFUError(.producerIdInUse, producerId) }
        guard let ssrc = mapping.ssrc else { throw SFUError(.unsupportedRtpParameters, "a pipe producer needs its ssrc") }
        try worker.registerPipeStream(from: remote, ssrc: ssrc, transport: transport)
        let producer = Producer(
            id: producerId, transport: transport, mapping: mapping, paused: paused, kind: kind,
            rtpParameters: rtpParameters, consumableRtpParameters: consumableRtpParameters)
        transport.addProducer(producer, ssrc: ssrc)
        link(producer)
        return producer
    }

    private func link(_ producer: Producer) {
        producers[producer.id] = producer
        consumersByProducer[ObjectIdentifier(producer)] = []
        for observer in observers { observer.addProducer(producer, now: worker.lastNow) }
    }

    func producer(_ id: String) throws(SFUError) -> Producer {
        guard let producer = producers[id] else { throw SFUError(.unknownProducer, id) }
        return producer
    }

    /// Pauses/resumes a producer; its consumers learn it (they re-sync on resume).
    func setProducerPaused(_ id: String, _ paused: Bool) throws(SFUError) {
        let producer = try producer(id)
        guard producer.setPaused(paused) else { return }
        for consumer in consumersByProducer[ObjectIdentifier(producer)] ?? [] {
            consumer.takeUnretainedValue().setProducerPaused(paused)
        }
        for observer in observers { observer.producerPaused(producer, paused) }
    }

    /// Closes a producer at the room's request; its consumers close with `consumerClosed` events.
    package func closeProducer(_ id: String) {
        guard let producer = producers[id] else { return }
        closeProducer(producer, reason: .producerClosed, notifyProducer: false)
    }

    private func closeProducer(_ producer: Producer, reason: CloseReason, notifyProducer: Bool) {
        // Take the list out first: each closeConsumer then finds no list to unlink from.
        for consumer in consumersByProducer.removeValue(forKey: ObjectIdentifier(producer)) ?? [] {
            closeConsumer(consumer.takeUnretainedValue(), reason: .producerClosed, notify: true)
        }
        for pipeConsumer in pipeConsumersByProducer.removeValue(forKey: ObjectIdentifier(producer)) ?? [] {
            closePipeConsumer(pipeConsumer)
        }
        for observer in observers {
            for event in observer.removeProducer(producer, now: worker.lastNow) { worker.emit(event, router: self) }
        }
        producer.markClosed()
        producer.transport.removeProducer(producer)
        producers[producer.id] = nil
        // A pipe producer's closure is its origin's to report: the room hears it from there.
        if notifyProducer, !producer.isPipeProducer { worker.emit(.producerClosed(producerId: producer.id, reason: reason), router: self) }
    }

    // MARK: - Consumers

    /// Adds a consumer of `producerId` on `transportId` with an already-computed mapping.
    func addConsumer(
        transportId: String, producerId: String, mapping: ConsumerMapping, paused: Bool, now: NIODeadline,
        rtpParameters: RtpParameters = RtpParameters(codecs: [])
    ) throws(SFUError) -> Consumer {
        guard !closed else { throw SFUError(.routerClosed, id) }
        let transport = try transport(transportId)
        let producer = try producer(producerId)
        try checkCanAddConsumer(on: transport, of: producer)
        var mapping = mapping
        mapping.extensionIDs = Self.shared(mapping.extensionIDs, in: &sharedExtensionMaps)
        mapping.mid = Self.shared(mapping.mid, in: &sharedMids)
        let consumer = Consumer(
            id: worker.random.uuidString(), producerId: producerId, transport: transport, mapping: mapping,
            paused: paused, producerPaused: producer.paused, rtpParameters: rtpParameters,
            // Random initial sequence number and timestamp (RFC 3550 §5.1), as mediasoup does.
            initialSequenceNumber: UInt16.random(in: 0...UInt16.max, using: &worker.random),
            initialTimestamp: UInt32.random(in: 0...UInt32.max, using: &worker.random))
        consumers[consumer.id] = consumer
        consumersByProducer[ObjectIdentifier(producer), default: []].appendConsumer(consumer)
        // Spread SRs: the first one 1–5 s after creation.
        let firstReport = Int64.random(in: TimeAmount.seconds(1).nanoseconds...SFUWorker.senderReportInterval.nanoseconds, using: &worker.random)
        transport.addConsumer(consumer, firstSenderReportAt: now + .nanoseconds(firstReport))
        return consumer
    }

    /// The pool's copy of `value` (the same storage), adding it while the pool has room.
    private static func shared<Value: Hashable>(_ value: Value, in pool: inout Set<Value>) -> Value {
        if let index = pool.firstIndex(of: value) { return pool[index] }
        if pool.count < maxSharedMappings { pool.insert(value) }
        return value
    }

    /// The limits on a transport's consumers: at most `maxConsumersPerTransport`, and one per
    /// producer. Checked before anything is allocated for the consumer (its MID included).
    func checkCanAddConsumer(on transport: WebRTCTransport, of producer: Producer) throws(SFUError) {
        guard !transport.isClosed else { throw SFUError(.transportClosed, transport.id) }
        guard !transport.isConsuming(producerId: producer.id) else { throw SFUError(.alreadyConsuming, "producer \(producer.id)") }
        let limit = worker.settings.maxConsumersPerTransport
        guard transport.consumers.count < limit else { throw SFUError(.consumerLimitReached, "\(limit) per transport") }
    }

    func consumer(_ id: String) throws(SFUError) -> Consumer {
        guard let consumer = consumers[id] else { throw SFUError(.unknownConsumer, id) }
        return consumer
    }

    func setConsumerPaused(_ id: String, _ paused: Bool) throws(SFUError) {
        try consumer(id).setPaused(paused)
    }

    /// Closes a consumer at the room's request (no event).
    package func closeConsumer(_ id: String) {
        guard let consumer = consumers[id] else { return }
        closeConsumer(consumer, reason: .consumerClosed, notify: false)
    }

    private func closeConsumer(_ consumer: Consumer, reason: CloseReason, notify: Bool) {
        guard consumers[consumer.id] === consumer else { return }
        consumer.markClosed()
        if let producer = producers[consumer.producerId] {
            consumersByProducer[ObjectIdentifier(producer)]?.removeConsumer(consumer)
        }
        consumer.transport.removeConsumer(consumer)
        consumers[consumer.id] = nil
        if notify { worker.emit(.consumerClosed(consumerId: consumer.id, reason: reason), router: self) }
    }

    // MARK: - Pipe transports

    func createPipeTransport(enableSRTP: Bool) throws(SFUError) -> PipeTransport {
        guard !closed else { throw SFUError(.routerClosed, id) }
        let key = enableSRTP ? worker.random.bytes(PipeTransport.srtpProfile.keyAndSaltLength) : nil
        let pipe = PipeTransport(id: worker.random.uuidString(), router: self, worker: worker, localKeyAndSalt: key)
        pipeTransports[pipe.id] = pipe
        return pipe
    }

    func pipeTransport(_ id: String) throws(SFUError) -> PipeTransport {
        guard let pipe = pipeTransports[id] else { throw SFUError(.unknownTransport, id) }
        return pipe
    }

    /// Closes a pipe transport: its pipe producers close (their consumers with
    /// `consumerClosed` events), its pipe consumers stop. No event for the pipe itself.
    package func closePipeTransport(_ id: String) {
        guard let pipe = pipeTransports[id] else { return }
        close(pipe)
    }

    private func close(_ pipe: PipeTransport) {
        for producer in Array(pipe.producers.values) {
            closeProducer(producer, reason: .pipeTransportClosed, notifyProducer: false)
        }
        for pipeConsumer in Array(pipe.consumers.values) {
            closePipeConsumer(pipeConsumer)
        }
        let remote = pipe.remoteAddress
        pipe.markClosed()
        if let remote { worker.pipeClosed(remote: remote) }
        pipeTransports[pipe.id] = nil
    }

    /// A pipe consumer of `producerId` on a connected pipe, with an SSRC unique towards the
    /// remote tuple.
    func addPipeConsumer(transport pipe: PipeTransport, producerId: String) throws(SFUError) -> PipeConsumer {
        guard !closed else { throw SFUError(.routerClosed, id) }
        guard !pipe.isClosed else { throw SFUError(.transportClosed, pipe.id) }
        guard let remote = pipe.remoteAddress else { throw SFUError(.pipeNotConnected, pipe.id) }
        let producer = try producer(producerId)
        let ssrc = try worker.allocatePipeSSRC(to: remote)
        let pipeConsumer = PipeConsumer(id: worker.random.uuidString(), producerId: producerId, transport: pipe, ssrc: ssrc)
        pipeConsumers[pipeConsumer.id] = pipeConsumer
        pipeConsumersByProducer[ObjectIdentifier(producer), default: []].append(pipeConsumer)
        pipe.addConsumer(pipeConsumer)
        return pipeConsumer
    }

    /// Stops a pipe consumer (the remote pipe producer is closed by whoever set the pipe up).
    package func closePipeConsumer(_ id: String) {
        guard let pipeConsumer = pipeConsumers[id] else { return }
        closePipeConsumer(pipeConsumer)
    }

    private func closePipeConsumer(_ pipeConsumer: PipeConsumer) {
        guard pipeConsumers.removeValue(forKey: pipeConsumer.id) != nil else { return }
        pipeConsumer.markClosed()
        if let producer = producers[pipeConsumer.producerId] {
            let key = ObjectIdentifier(producer)
            pipeConsumersByProducer[key]?.removeAll { $0 === pipeConsumer }
            if pipeConsumersByProducer[key]?.isEmpty == true { pipeConsumersByProducer[key] = nil }
        }
        pipeConsumer.transport.removeConsumer(pipeConsumer)
    }

    // MARK: - Observers

    func addObserver(_ observer: any RTPObserver) {
        observers.append(observer)
        for producer in producers.values { observer.addProducer(producer, now: worker.lastNow) }
    }

    // MARK: - Close

    /// Closes everything; no events (the room asked).
    package func close() {
        guard !closed else { return }
        for transport in Array(transports.values) { close(transport, reason: .routerClosed) }
        for pipe in Array(pipeTransports.values) { close(pipe) }
        observers = []
        closed = true
        worker.routerClosed(self)
    }

    // MARK: - Packet path

    /// An RTP packet a transport matched to one of its producers: counted, checked by the producer
    /// (a counted drop), then fanned out. WebRTC and pipe transports both end their receive path here.
    @inline(__always)
    func receiveRTP(_ packet: RTPPacketView, for producer: Producer, now: NIODeadline) {
        worker.counters.rtpIn &+= 1
        switch producer.receive(packet, now: now) {
        case .drop(let reason):
            worker.drop(reason)
        case .forward(let audioLevel):
            producerReceivedRTP(producer, packet, audioLevel: audioLevel, now: now)
        }
    }

    /// Fan-out of one router-space packet to the producer's consumers, and its level to the observers.
    @inline(__always)
    func producerReceivedRTP(_ producer: Producer, _ packet: RTPPacketView, audioLevel: RTPAudioLevel?, now: NIODeadline) {
        if let audioLevel, !observers.isEmpty {
            for observer in observers {
                observer.receivedAudioLevel(producer, dBov: audioLevel.dBov, voiceActivity: audioLevel.voiceActivity, now: now)
            }
        }
        if !pipeConsumersByProducer.isEmpty, let pipeConsumers = pipeConsumersByProducer[ObjectIdentifier(producer)] {
            for pipeConsumer in pipeConsumers { pipeConsumer.forward(packet) }
        }
        guard let consumers = consumersByProducer[ObjectIdentifier(producer)] else { return }
        // With thousands of consumers their state is out of cache, and it is a chain of objects
        // (consumer → transport → SRTP session → stream and cipher → key schedule). A software
        // pipeline: while consumer i is sent, each later consumer is one step further down its
        // chain, and each step only reads lines an earlier step asked for — consumer i + 10 is
        // asked for, i + 8 asks for its transport, i + 6 for the session, i + 4 for the stream and
        // the cipher, i + 2 for the key schedule. No step retains anything (a retain writes the
        // refcount, so it stalls on the line being fetched).
        let count = consumers.count
        consumers.withUnsafeBufferPointer { consumers in
            for index in 0..<count {
                if index &+ 10 < count { msab_prefetch_lines(consumers[index &+ 10].toOpaque(), 4) }
                for step in 0..<4 where index &+ 8 &- 2 &* step < count {
                    consumers[index &+ 8 &- 2 &* step]._withUnsafeGuaranteedRef { $0.prefetchForSend(step: step) }
                }
                consumers[index]._withUnsafeGuaranteedRef { $0.forward(packet, now: now) }
            }
        }
    }

    /// A consumer's client NACKed `sequenceNumbers` (the consumer's numbering).
    func consumerRequestedRetransmission(_ consumer: Consumer, sequenceNumbers: [UInt16], now: NIODeadline) {
        guard let producer = producers[consumer.producerId] else { return }
        // At most maxNACKItems × 17 numbers (the reader refuses longer NACKs); repeats are
        // refused per packet by the consumer's once-per-RTT rule.
        for sequenceNumber in sequenceNumbers {
            if let refusal = consumer.retransmit(sequenceNumber: sequenceNumber, now: now, from: producer.retransmissionBuffer) {
                worker.drop(refusal)
            } else {
                worker.counters.retransmissions &+= 1
            }
        }
    }

    // MARK: - Timers

    func tick(now: NIODeadline) {
        // No copy of the table per tick: a transport that closes during the loop makes the
        // dictionary copy itself once (copy on write), and the loop goes on over the old one,
        // whose closed transports return at once.
        for transport in transports.values {
            if let reason = transport.tick(now: now) { transportClosedItself(transport, reason: reason) }
        }
        for observer in observers {
            for event in observer.tick(now: now) { worker.emit(event, router: self) }
        }
    }

    // MARK: - Stats

    package var stats: RouterStats {
        RouterStats(
            id: id,
            transports: transports.values.map(\.stats).sorted { $0.id < $1.id },
            producers: producers.values.map(\.stats).sorted { $0.id < $1.id },
            consumers: consumers.values.map(\.stats).sorted { $0.id < $1.id },
            pipeTransports: pipeTransports.values.map(\.stats).sorted { $0.id < $1.id })
    }
}

extension ContiguousArray where Element == Unmanaged<Consumer> {
    /// Appends `consumer` (unretained: the router's ``Router/consumers`` owns it) and records its
    /// index for ``removeConsumer(_:)``.
    fileprivate mutating func appendConsumer(_ consumer: Consumer) {
        consumer.fanOutIndex = count
        append(.passUnretained(consumer))
    }

    /// Removes `consumer` in O(1): the last consumer moves into its slot.
    fileprivate mutating func removeConsumer(_ consumer: Consumer) {
        let index = consumer.fanOutIndex
        guard index >= 0, index < count, self[index].toOpaque() == Unmanaged.passUnretained(consumer).toOpaque() else { return }
        let last = count - 1
        if index != last {
            self[index] = self[last]
            self[index].takeUnretainedValue().fanOutIndex = index
        }
        removeLast()
        consumer.fanOutIndex = -1
    }
}
