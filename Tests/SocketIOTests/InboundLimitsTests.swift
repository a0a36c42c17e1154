import EngineIO
import SocketIOParser
import Testing

@testable import SocketIO

/// A client that sends events faster than its handlers run is disconnected once its queue passes
/// `InboundLimits` (count or bytes); what it queued is dropped; other clients are not affected.
@Suite struct InboundLimitsTests {
    /// A server whose "slow" handler waits on `gate`, and whose "echo" acks its arguments.
    static func server(
        _ limits: InboundLimits, gate: Gate, handled: Recorder<String>, reasons: Recorder<DisconnectReason>,
        started: Recorder<String> = Recorder()
    ) -> Harness {
        let harness = Harness(.init(inboundLimits: limits))
        harness.server.main.onConnection { socket in
            socket.on("slow") { args, _ in
                started.append(args.first?.stringValue ?? "?")
                await gate.wait()
                handled.append(args.first?.stringValue ?? "?")
            }
            socket.on("echo") { args, ack in ack?.reply(args) }
            socket.onDisconnect { reason in reasons.append(reason) }
        }
        return harness
    }

    @Test func aFloodPastTheEventCountDisconnectsTheClientOnly() async throws {
        let gate = Gate()
        let handled = Recorder<String>()
        let reasons = Recorder<DisconnectReason>()
        let started = Recorder<String>()
        let harness = Self.server(
            InboundLimits(maximumEvents: 4, maximumBytes: 1_000_000), gate: gate, handled: handled, reasons: reasons,
            started: started)
        defer { harness.stop() }
        let (flooder, _) = try await harness.connect()
        let (bystander, _) = try await harness.connect()

        // The first event occupies the handler; 4 more fill the queue; the 6th overflows.
        flooder.receive(#"2["slow","0"]"#)
        _ = try await started.wait(count: 1)
        for index in 1...4 { flooder.receive("2[\"slow\",\"\(index)\"]") }
        try await Task.sleep(for: .milliseconds(20))
        #expect(!flooder.isClosed)
        flooder.receive(#"2["slow","5"]"#)
        for index in 6...100 { flooder.receive("2[\"slow\",\"\(index)\"]") }

        #expect(try await flooder.nextPacket().type == .disconnect)
        try await flooder.waitClosed()
        // The bystander is served while the flooder's handler is still stuck.
        bystander.receive(#"23["echo","still here"]"#)
        #expect(try await bystander.nextPacket() == SocketIOPacket(type: .ack, id: 3, data: ["still here"]))
        #expect(harness.server.main.socketCount == 1)

        // The handler in progress finishes; the queued events were dropped, not handled.
        gate.open()
        #expect(try await reasons.wait(count: 1) == [.inboundOverflow])
        try await Task.sleep(for: .milliseconds(50))
        #expect(handled.all == ["0"])
    }

    @Test func aFloodPastTheByteLimitDisconnectsTheClient() async throws {
        let gate = Gate()
        let handled = Recorder<String>()
        let reasons = Recorder<DisconnectReason>()
        let started = Recorder<String>()
        let harness = Self.server(
            InboundLimits(maximumEvents: 1_000, maximumBytes: 1_000), gate: gate, handled: handled, reasons: reasons,
            started: started)
        defer { harness.stop() }
        let (flooder, _) = try await harness.connect()
        let big = String(repeating: "x", count: 400)
        flooder.receive(#"2["slow","0"]"#)
        _ = try await started.wait(count: 1)
        // 2 × ~420 bytes fit under 1,000; the third does not.
        flooder.receive("2[\"slow\",\"\(big)\"]")
        flooder.receive("2[\"slow\",\"\(big)\"]")
        try await Task.sleep(for: .milliseconds(20))
        #expect(!flooder.isClosed)
        flooder.receive("2[\"slow\",\"\(big)\"]")
        try await flooder.waitClosed()
        gate.open()
        #expect(try await reasons.wait(count: 1) == [.inboundOverflow])
    }

    @Test func oneEventLargerThanTheByteLimitIsStillAdmittedWhenNothingIsQueued() async throws {
        let gate = Gate()
        gate.open()
        let handled = Recorder<String>()
        let reasons = Recorder<DisconnectReason>()
        let harness = Self.server(InboundLimits(maximumEvents: 10, maximumBytes: 100), gate: gate, handled: handled, reasons: reasons)
        defer { harness.stop() }
        let (client, _) = try await harness.connect()
        let big = String(repeating: "y", count: 500)
        for _ in 0..<3 {
            client.receive("2[\"slow\",\"\(big)\"]")
            _ = try await handled.wait(count: handled.all.count + 1)
        }
        #expect(!client.isClosed && reasons.all.isEmpty)
    }

    @Test func aHandlerThatKeepsUpNeverTripsTheLimit() async throws {
        let gate = Gate()
        gate.open()
        let handled = Recorder<String>()
        let reasons = Recorder<DisconnectReason>()
        let harness = Self.server(InboundLimits(maximumEvents: 4, maximumBytes: 10_000), gate: gate, handled: handled, reasons: reasons)
        defer { harness.stop() }
        let (client, _) = try await harness.connect()
        for index in 0..<50 {
            client.receive("2[\"slow\",\"\(index)\"]")
            _ = try await handled.wait(count: index + 1)
        }
        #expect(!client.isClosed && reasons.all.isEmpty)
    }

    @Test func theQueueFreesWhatItHandsOut() {
        var queue = InboundQueue()
        for index in 0..<200 { queue.append(InboundEvent(name: "e\(index)", args: [], ackId: nil, bytes: 10)) }
        #expect(queue.count == 200 && queue.bytes == 2_000)
        for index in 0..<150 { #expect(queue.popFirst()?.name == "e\(index)") }
        #expect(queue.count == 50 && queue.bytes == 500)
        queue.append(InboundEvent(name: "last", args: [], ackId: nil, bytes: 7))
        for index in 150..<200 { #expect(queue.popFirst()?.name == "e\(index)") }
        #expect(queue.popFirst()?.name == "last")
        #expect(queue.popFirst() == nil && queue.count == 0 && queue.bytes == 0)
    }
}
