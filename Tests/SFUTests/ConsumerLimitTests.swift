import MediasoupWire
import NIOCore
import Testing

@testable import SFU

/// Issue 11 point 1: a transport holds a bounded number of consumers, one per producer, and
/// closing consumers costs O(1) each.
@Suite struct ConsumerLimitTests {
    /// `count` producers, each on its own (unconnected) send transport.
    static func producers(_ count: Int, on harness: Harness) throws -> [String] {
        try (0..<count).map { _ in
            let transport = try harness.router.createWebRtcTransport(now: harness.now).id
            return try harness.router.produce(transportId: transport, kind: .audio, rtpParameters: Harness.produceParameters, paused: false)
        }
    }

    static func consume(_ producerId: String, on transportId: String, _ harness: Harness) throws -> ConsumerInfo {
        try harness.router.consume(
            transportId: transportId, producerId: producerId, rtpCapabilities: Harness.deviceCapabilities, paused: true, now: harness.now)
    }

    @Test func theDefaultCoversEverySeatOfARoom() throws {
        let harness = try Harness()
        #expect(harness.worker.settings.maxConsumersPerTransport == 32)
        // A listener in a full room (15 seats, the most DEFAULT_SEAT_COUNT allows) consumes every speaker.
        let receiver = try harness.router.createWebRtcTransport(now: harness.now).id
        for producer in try Self.producers(15, on: harness) { _ = try Self.consume(producer, on: receiver, harness) }
        #expect(try harness.router.transport(receiver).consumers.count == 15)
    }

    @Test func aTransportHoldsAtMostTheLimit() throws {
        let harness = try Harness()
        harness.worker.settings.maxConsumersPerTransport = 3
        let producers = try Self.producers(5, on: harness)
        let receiver = try harness.router.createWebRtcTransport(now: harness.now).id
        var consumers: [ConsumerInfo] = []
        for producer in producers.prefix(3) { consumers.append(try Self.consume(producer, on: receiver, harness)) }
        #expect { _ = try Self.consume(producers[3], on: receiver, harness) } throws: { ($0 as? SFUError)?.kind == .consumerLimitReached }
        // The refusal took nothing: no consumer, no MID.
        #expect(try harness.router.transport(receiver).consumers.count == 3)
        // Another transport is not affected; closing one consumer frees a place.
        let other = try harness.router.createWebRtcTransport(now: harness.now).id
        _ = try Self.consume(producers[3], on: other, harness)
        harness.router.closeConsumer(consumers[0].id)
        let next = try Self.consume(producers[4], on: receiver, harness)
        #expect(next.rtpParameters.mid == "3")
    }

    @Test func aSecondConsumeOfOneProducerOnOneTransportIsRefused() throws {
        let harness = try Harness()
        let producers = try Self.producers(2, on: harness)
        let receiver = try harness.router.createWebRtcTransport(now: harness.now).id
        let first = try Self.consume(producers[0], on: receiver, harness)
        #expect { _ = try Self.consume(producers[0], on: receiver, harness) } throws: { ($0 as? SFUError)?.kind == .alreadyConsuming }
        #expect(harness.router.consumers.count == 1)
        // The MID sequence did not move, and once the first is closed the producer can be consumed again.
        #expect(try Self.consume(producers[1], on: receiver, harness).rtpParameters.mid == "1")
        harness.router.closeConsumer(first.id)
        #expect(try Self.consume(producers[0], on: receiver, harness).rtpParameters.mid == "2")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Creates `count` transports, each consuming two producers, then closes the consumers of the
    /// first one by one in creation order (the worst case for a front-to-back removal) and those
    /// of the second by closing their producer, draining the events. Returns the seconds taken by
    /// creating the consumers (linear work on the same objects: the yardstick) and by each close.
    static func closeTimes(_ count: Int) throws -> (create: Double, oneByOne: Double, cascade: Double) {
        let harness = try Harness()
        let producers = try Self.producers(2, on: harness)
        // One consume through ORTC gives the mapping; the rest skip ORTC.
        let mapping = try harness.router.consumer(
            Self.consume(producers[0], on: harness.router.createWebRtcTransport(now: harness.now).id, harness).id
        ).mapping
        let transports = try (0..<count).map { _ in try harness.router.createWebRtcTransport(now: harness.now).id }
        let clock = ContinuousClock()
        let start = clock.now
        var ids: [String] = []
        for transport in transports {
            for (offset, producer) in producers.enumerated() {
                let consumer = try harness.router.addConsumer(
                    transportId: transport, producerId: producer, mapping: mapping, paused: true, now: harness.now)
                if offset == 0 { ids.append(consumer.id) }
            }
        }
        let created = clock.now
        for id in ids { harness.router.closeConsumer(id) }
        let middle = clock.now
        harness.router.closeProducer(producers[1])
        var events = 0
        while harness.worker.pollEvent() != nil { events += 1 }
        let end = clock.now
        harness.router.closeProducer(producers[0])
        #expect(harness.router.consumers.isEmpty)
        #expect(events == count)
        return (seconds(created - start), seconds(middle - created), seconds(end - middle))
    }

    @Test func closingConsumersCostsTheSameEachWhateverTheirNumber() throws {
        // 8,000 consumers of one producer. Creating them is linear work on the same objects, so
        // it is the yardstick (a loaded machine slows both): closing them one by one, or all at
        // once by closing their producer, costs about as much. Before the fix, each close
        // scanned the producer's list and each event poll shifted the queue: one by one took
        // 10–16 s against a creation time of about 0.2 s.
        let times = try Self.closeTimes(8_000)
        print("8000 consumers: created in \(times.create) s, closed one by one in \(times.oneByOne) s, by their producer in \(times.cascade) s")
        #expect(times.oneByOne < 4 * times.create)
        #expect(times.cascade < 4 * times.create)
    }
}
