// SFU benchmarks (brief: ≤ 2 µs of CPU per forwarded packet at 5,000 consumers on one worker).
//
// (a) sfuInProcessForwardBenchmark: the whole per-consumer send path of the real SFU objects
//     (SFUWorker → Router fan-out → Consumer rewrite → WebRTCTransport copy + SRTP protect →
//     sink), in process, no sockets: N transports each with one consumer, connected through real
//     in-memory ICE/DTLS handshakes; the sink discards. Thread CPU time / forwarded packets.
// (b) sfuLoopbackFanOutBenchmark: a MediaServer with one worker on 127.0.0.1, one producer
//     sending 50 packets/s, N receivers on their own sockets (each a full ICE + DTLS + SRTP client
//     on a separate event loop thread). Reported: the worker thread's CPU time (getrusage
//     RUSAGE_THREAD on the worker's loop, so the receivers' work is NOT in it, but the kernel's
//     loopback delivery triggered by the worker's sendmmsg is) per forwarded packet; the whole
//     process's CPU per packet for reference (it includes the receivers); packets lost.
//     With `workers: 2` the same room is spread over two workers (issue 13): the producer on
//     worker 0, piped (SRTP pipe transport, `MediaRouter.pipeToRouter`) to the room's router on
//     worker 1, the receivers alternating between the two; the CPU of both worker threads per
//     packet forwarded to a receiver, against the one-worker line, is the pipe's cost.
//
// Call `await sfuBenchmarks()` from main.swift (one line per figure).
import CUDPBatch
import DTLS
import Foundation
import MediasoupWire
import NIOCore
import NIOPosix
import RTP
import SFU
import SFUServer
import SRTP
import STUN

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs both SFU benchmarks with the brief's sizes and prints one line per result, then the
/// issue 14 item 4 summary for the largest N of each: in-process CPU per forwarded packet, and
/// the one-worker loopback fan-out's worker CPU per forwarded packet against the kernel floor
/// measured in the same run, with the loss.
func sfuBenchmarks(
    inProcessConsumers: [Int] = [100, 1_000, 5_000], loopbackConsumers: [Int] = [100, 1_000, 5_000], spreadConsumers: [Int] = [1_000, 5_000],
    seconds: Int = 10
) async {
    var inProcess: (consumers: Int, perPacket: Double)?
    var loopback: (consumers: Int, result: LoopbackResult)?
    for count in inProcessConsumers {
        do {
            if let perPacket = try sfuInProcessForwardBenchmark(consumers: count) { inProcess = (count, perPacket) }
        } catch {
            print("sfu in-process forward (\(count) consumers): failed: \(error)")
        }
    }
    for count in loopbackConsumers {
        do {
            if let result = try await sfuLoopbackFanOutBenchmark(consumers: count, seconds: seconds) { loopback = (count, result) }
        } catch {
            print("sfu loopback fan-out (\(count) consumers): failed: \(error)")
        }
    }
    for count in spreadConsumers {
        do {
            try await sfuLoopbackFanOutBenchmark(consumers: count, seconds: seconds, workers: 2)
        } catch {
            print("sfu loopback fan-out spread over 2 workers (\(count) consumers): failed: \(error)")
        }
    }
    // Targets (issue 14 item 4): in process ≤ 1 µs; loopback worker ≤ floor + 1 µs with < 1 % loss.
    if let inProcess {
        print(
            String(
                format: "sfu summary: in process at N = %d: %.3f µs CPU per forwarded packet (target ≤ 1 µs)", inProcess.consumers,
                inProcess.perPacket))
    }
    if let (count, result) = loopback {
        if let floor = result.floor {
            print(
                String(
                    format:
                        "sfu summary: loopback at N = %d, 1 worker: worker %.3f µs CPU per forwarded packet − kernel floor %.3f µs = %.3f µs (target ≤ 1 µs); lost %.3f%% (target < 1%%)",
                    count, result.workerPerPacket, floor, result.workerPerPacket - floor, result.lostPercent))
        } else {
            print(
                String(
                    format:
                        "sfu summary: loopback at N = %d, 1 worker: worker %.3f µs CPU per forwarded packet (no kernel floor measured); lost %.3f%%",
                    count, result.workerPerPacket, result.lostPercent))
        }
    }
}

/// One loopback fan-out's figures (one worker).
struct LoopbackResult {
    /// Worker-thread CPU per forwarded packet, µs.
    var workerPerPacket: Double
    /// The kernel's floor for the same fan-out, µs per datagram.
    var floor: Double?
    var lostPercent: Double
}

// MARK: - (a) in process

/// Discards datagrams after letting the SFU write them (a reused scratch buffer), or keeps them
/// during setup so the in-memory peers can complete their handshakes.
private final class BenchSink: DatagramSink {
    var capture = true
    var captured: [(TransportAddress, ByteBuffer)] = []
    var discarded = 0
    var discardedBytes = 0
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)

    func send(to destination: TransportAddress, capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        if capture {
            var buffer = ByteBuffer()
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { write(UnsafeMutableRawBufferPointer(rebasing: $0[0..<capacity])) }
            captured.append((destination, buffer))
        } else {
            let written = write(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(capacity, scratch.count)]))
            discarded += 1
            discardedBytes += written
        }
    }
}

/// One in-memory client: ICE check, DTLS, SRTP.
private final class InMemoryPeer {
    let address: TransportAddress
    let info: WebRtcTransportInfo
    let role: DTLSEndpoint.Role
    let dtls: DTLSEndpoint
    var srtpOutbound: SRTPSession?

    init(address: TransportAddress, info: WebRtcTransportInfo, role: DTLSEndpoint.Role) throws {
        self.address = address
        self.info = info
        self.role = role
        let fingerprints = info.dtlsParameters.fingerprints.compactMap { DTLSFingerprint(algorithm: $0.algorithm.rawValue, value: $0.value) }
        dtls = try DTLSEndpoint(role: role, certificate: SFUBenchPeer.certificate, remoteFingerprints: fingerprints)
    }

    var dtlsParameters: DtlsParameters {
        DtlsParameters(
            role: role == .client ? .client : .server,
            fingerprints: [DtlsFingerprint(algorithm: "sha-256", value: SFUBenchPeer.certificate.fingerprint(.sha256).value)])
    }

    func bindingRequest() -> ByteBuffer {
        var builder = STUNMessageBuilder(
            type: .bindingRequest, transactionID: STUNTransactionID(bytes: (0..<12).map { _ in UInt8.random(in: 0...255) })!)
        builder.addUsername("\(info.iceParameters.usernameFragment):bench")
        builder.addPriority(1_853_817_087)
        builder.addICEControlling(7)
        builder.addUseCandidate()
        builder.addMessageIntegrity(key: Array(info.iceParameters.password.utf8))
        builder.addFingerprint()
        return builder.buffer
    }

    func keyed() {
        while let event = dtls.pollEvent() {
            if case .connected(let connection) = event, let profile = SRTPProfile(rawValue: connection.profile.rawValue) {
                srtpOutbound = try? SRTPSession(profile: profile, keyAndSalt: connection.localKeyingMaterial, direction: .outbound)
            }
        }
    }
}

private func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

/// The producer parameters pymediasoup sends (fixtures/pymediasoup/produce-tone.json).
private func benchProduceParameters(ssrc: UInt32) -> RtpParameters {
    RtpParameters(
        mid: "0",
        codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 96, clockRate: 48_000, channels: 2, parameters: [:], rtcpFeedback: [])],
        headerExtensions: [
            RtpHeaderExtensionParameters(uri: "urn:ietf:params:rtp-hdrext:sdes:mid", id: 1, encrypt: false, parameters: [:]),
            RtpHeaderExtensionParameters(uri: "urn:ietf:params:rtp-hdrext:ssrc-audio-level", id: 2, encrypt: false, parameters: [:]),
        ],
        encodings: [RtpEncodingParameters(ssrc: ssrc)],
        rtcp: RtcpParameters(cname: "bench", reducedSize: true, mux: true))
}

/// The device capabilities a pymediasoup receiver sends with `audio:consume`.
private func benchDeviceCapabilities(router: RtpCapabilities) -> RtpCapabilities {
    var capabilities = router
    capabilities.codecs = capabilities.codecs?.map { codec in
        var codec = codec
        codec.rtcpFeedback = []
        return codec
    }
    return capabilities
}

/// (a) In-process fan-out through the real SFU objects into a discarding sink.
/// Returns the CPU per forwarded packet (µs), nil when the peers did not all connect.
@discardableResult
func sfuInProcessForwardBenchmark(consumers count: Int, packets: Int = 2_000) throws -> Double? {
    let sink = BenchSink()
    let worker = SFUWorker(
        certificate: try DTLSCertificate(commonName: "bench-worker"), sink: sink, settings: .init(announcedAddress: "127.0.0.1", port: 1))
    let router = try Router.make(mediaCodecs: ORTC.msabMediaCodecs, worker: worker)
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var peers: [TransportAddress: InMemoryPeer] = [:]

    /// Moves DTLS flights between the SFU and the peers in `active` until both sides are quiet
    /// (only the peers being connected take part, so setting up N peers stays O(N)).
    func deliver(_ active: [InMemoryPeer]) {
        for _ in 0..<50 {
            let batch = sink.captured
            sink.captured = []
            var moved = !batch.isEmpty
            for (destination, datagram) in batch {
                guard let peer = peers[destination], let first = datagram.getInteger(at: datagram.readerIndex, as: UInt8.self),
                    (20...63).contains(first)
                else { continue }
                peer.dtls.handleDatagram(datagram, now: now)
            }
            for peer in active {
                peer.keyed()
                while var datagram = peer.dtls.pollDatagram() {
                    moved = true
                    worker.handleDatagram(&datagram, from: peer.address, now: now)
                }
            }
            if !moved { return }
        }
    }

    func connect(role: DTLSEndpoint.Role, port: UInt16) throws -> (InMemoryPeer, String) {
        let info = try router.createWebRtcTransport(now: now)
        let peer = try InMemoryPeer(address: TransportAddress(ipv4: 127, 0, 0, 1, port: port), info: info, role: role)
        peers[peer.address] = peer
        var request = peer.bindingRequest()
        worker.handleDatagram(&request, from: peer.address, now: now)
        peer.dtls.start(now: now)
        try router.connectTransport(info.id, dtlsParameters: peer.dtlsParameters, now: now)
        deliver([peer])
        return (peer, info.id)
    }

    let producerSSRC: UInt32 = 2_659_474_323
    let (sender, sendId) = try connect(role: .server, port: 10_000)
    let producerId = try router.produce(transportId: sendId, kind: .audio, rtpParameters: benchProduceParameters(ssrc: producerSSRC), paused: false)
    let capabilities = benchDeviceCapabilities(router: router.rtpCapabilities)
    for index in 0..<count {
        let (_, transportId) = try connect(role: .client, port: UInt16(10_001 + index))
        _ = try router.consume(transportId: transportId, producerId: producerId, rtpCapabilities: capabilities, paused: false, now: now)
    }
    let connected = router.stats.transports.filter { $0.state == "connected" }.count
    guard connected == count + 1, let srtp = sender.srtpOutbound else {
        print("sfu in-process forward (\(count) consumers): only \(connected - 1) connected")
        return nil
    }
    sink.capture = false

    // Pre-build the producer's SRTP packets (the client's cost is not the SFU's).
    var datagrams: [ByteBuffer] = []
    for sequence in 0..<packets {
        var buffer = ByteBuffer()
        buffer.writeBytes([0x90, 96])
        buffer.writeInteger(UInt16(truncatingIfNeeded: sequence))
        buffer.writeInteger(UInt32(truncatingIfNeeded: sequence * 960))
        buffer.writeInteger(producerSSRC)
        buffer.writeBytes([0xBE, 0xDE, 0x00, 0x01, 0x10, UInt8(ascii: "0"), 0x20, 0x80 | 30])
        buffer.writeRepeatingByte(0x5A, count: 80)
        try srtp.protectRTP(&buffer)
        datagrams.append(buffer)
    }
    let before = worker.counters.rtpOut
    let start = ThreadCPUTime.ofCurrentThread().total
    let wallStart = ContinuousClock.now
    for index in datagrams.indices {
        now = now + .milliseconds(20)
        worker.handleDatagram(&datagrams[index], from: sender.address, now: now)
    }
    let cpu = ThreadCPUTime.ofCurrentThread().total - start
    let wall = ContinuousClock.now - wallStart
    let forwarded = worker.counters.rtpOut - before
    let perPacket = microseconds(cpu) / Double(max(forwarded, 1))
    print(
        String(
            format:
                "sfu in-process forward (%d consumers, %d packets in, %llu out, AEAD_AES_256_GCM, 112 B): %.3f µs CPU per forwarded packet (wall %.3f µs)",
            count, packets, forwarded, perPacket, microseconds(wall) / Double(max(forwarded, 1))))
    router.close()
    return perPacket
}

// MARK: - (b) loopback fan-out

/// (b) One producer at 50 packets/s to `consumers` receivers over 127.0.0.1 on one worker, or
/// on one room spread over two (`workers: 2`).
/// Returns the one-worker figures (nil for the spread run).
@discardableResult
func sfuLoopbackFanOutBenchmark(consumers count: Int, seconds: Int, workers: Int = 1) async throws -> LoopbackResult? {
    let port = Int.random(in: 30_000...39_000)
    let workers = workers == 2 ? 2 : 1
    let server = MediaServer(configuration: .init(listenIP: "127.0.0.1", minPort: port, numWorkers: workers))
    let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var receivers: [SFUBenchPeer] = []
    var sender: SFUBenchPeer?
    var result: LoopbackResult?
    defer { _ = clients }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        defer { group.cancelAll() }
        try await server.waitUntilReady()
        let router = try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs, workerIndex: 0)
        var routers = [router]
        if workers == 2 { routers.append(try await server.createRouter(mediaCodecs: ORTC.msabMediaCodecs, workerIndex: 1)) }
        let capabilities = benchDeviceCapabilities(router: router.rtpCapabilities)

        // The producer.
        let sendInfo = try await router.createWebRtcTransport()
        let producerPeer = try SFUBenchPeer(info: sendInfo, role: .server)
        sender = producerPeer
        try await producerPeer.bind(group: clients)
        try await producerPeer.start()
        try await router.connectTransport(sendInfo.id, dtlsParameters: producerPeer.dtlsParameters)
        try await waitUntil(seconds: 10) { try await clients.next().submit { producerPeer.isConnected }.get() }
        let producerSSRC: UInt32 = 2_659_474_323
        let producerId = try await router.produce(
            transportId: sendInfo.id, kind: .audio, rtpParameters: benchProduceParameters(ssrc: producerSSRC), paused: false)
        for other in routers.dropFirst() { try await router.pipeToRouter(producerId: producerId, router: other) }

        // The receivers, connected in batches so DTLS flights are not lost to a busy loop.
        let setupStart = ContinuousClock.now
        for batchStart in stride(from: 0, to: count, by: 100) {
            var batch: [SFUBenchPeer] = []
            for index in batchStart..<min(batchStart + 100, count) {
                let target = routers[index % routers.count]
                let info = try await target.createWebRtcTransport()
                let peer = try SFUBenchPeer(info: info, role: .client)
                try await peer.bind(group: clients)
                try await target.connectTransport(info.id, dtlsParameters: peer.dtlsParameters)
                _ = try await target.consume(transportId: info.id, producerId: producerId, rtpCapabilities: capabilities, paused: false)
                try await peer.start()
                batch.append(peer)
            }
            let pending = batch
            try await waitUntil(seconds: 30) { try await clients.next().submit { pending.allSatisfy(\.isConnected) }.get() }
            receivers += batch
        }
        let setup = ContinuousClock.now - setupStart
        let verifier = receivers[0]
        try await clients.next().submit { verifier.verify = true }.get()

        // Measure: 50 packets/s for `seconds`.
        try await Task.sleep(for: .milliseconds(300))  // let setup traffic settle
        let countersBefore = await server.counters()
        let batchesBefore = await server.sendBatches()
        let workerBefore = await server.workerCPUTimes().reduce(ThreadCPUTime(), +)
        let processBefore = ThreadCPUTime.ofProcess().total
        let total = seconds * 50
        let loop = clients.next()
        // A paced sender on the client loop (20 ms period, like a real Opus encoder).
        let sentBox = Box(0)
        let pacer = loop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { task in
            guard sentBox.value < total else {
                task.cancel()
                return
            }
            let sequence = UInt16(truncatingIfNeeded: sentBox.value + 1)
            producerPeer.sendOpus(sequenceNumber: sequence, timestamp: UInt32(sentBox.value) &* 960, ssrc: producerSSRC)
            sentBox.value += 1
        }
        // Generous: at N = 5,000 the one client thread reading every receiver is near 100 % of a
        // core, so on a busy machine the pacer runs late (the figures are per forwarded packet).
        try await waitUntil(seconds: Double(seconds) * 3 + 10) { try await loop.submit { sentBox.value >= total }.get() }
        pacer.cancel()
        try await Task.sleep(for: .milliseconds(500))  // drain
        let workerCPU = await server.workerCPUTimes().reduce(ThreadCPUTime(), +) - workerBefore
        let processCPU = ThreadCPUTime.ofProcess().total - processBefore
        let countersAfter = await server.counters()
        let batchesAfter = await server.sendBatches()
        let batchDatagrams = batchesAfter.datagrams &- batchesBefore.datagrams
        let batchCalls = batchesAfter.calls &- batchesBefore.calls
        let peers = receivers
        let (received, failures) = try await clients.next().submit { (peers.reduce(0) { $0 + $1.rtpReceived }, verifier.verifyFailures) }.get()
        // Spread: each packet also crossed the pipe once (counted in rtpOut); only the packets
        // sent to receivers are "forwarded".
        let pipeSends = workers == 2 ? UInt64(total) : 0
        let forwarded = (countersAfter.rtpOut - countersBefore.rtpOut) &- min(pipeSends, countersAfter.rtpOut - countersBefore.rtpOut)
        let expected = total * count
        let perPacket = { (duration: Duration) in microseconds(duration) / Double(max(forwarded, 1)) }
        let shape = workers == 2 ? "one room spread over 2 workers by a pipe" : "1 worker"
        let threads = workers == 2 ? "worker threads (both)" : "worker thread"
        print(
            "sfu loopback fan-out (\(count) consumers, \(shape), \(seconds) s at 50 pps, "
                + String(format: "setup %.1f s): ", Double(setup.components.seconds) + Double(setup.components.attoseconds) / 1e18) + threads
                + String(
                    format:
                        " %.3f µs CPU per forwarded packet (user %.3f + system %.3f; %llu forwarded); whole process incl. receivers %.3f µs; lost %d of %d (%.3f%%); SRTP check failures %d; %.1f datagrams per sendmmsg (%llu datagrams in %llu calls)",
                    perPacket(workerCPU.total), perPacket(workerCPU.user), perPacket(workerCPU.system), forwarded,
                    perPacket(processCPU), expected - received, expected, Double(expected - received) * 100 / Double(max(expected, 1)), failures,
                    Double(batchDatagrams) / Double(max(batchCalls, 1)), batchDatagrams, batchCalls))
        // The kernel's share, alone: the same N receiver sockets, one plain sendmmsg fan-out of a
        // 112-byte datagram per 20 ms round from this thread, no SFU at all.
        let addresses = peers.compactMap { $0.channel?.localAddress }
        if workers == 1 {
            let floor = kernelFanOutFloor(to: addresses, rounds: 50)
            if let floor {
                print(
                    String(
                        format:
                            "kernel floor for the same fan-out (plain sendmmsg to the %d receiver sockets, no SFU): %.3f µs CPU per datagram (user %.3f + system %.3f); %.1f datagrams per sendmmsg",
                        addresses.count, floor.total, floor.user, floor.system, floor.perCall))
            }
            result = LoopbackResult(
                workerPerPacket: perPacket(workerCPU.total), floor: floor?.total,
                lostPercent: Double(expected - received) * 100 / Double(max(expected, 1)))
        }
        for router in routers.reversed() { await router.close() }
    }
    for peer in receivers { await peer.close() }
    await sender?.close()
    try? await clients.shutdownGracefully()
    return result
}

/// CPU per datagram (µs) of a bare loopback fan-out: `rounds` times one sendmmsg burst of a
/// 112-byte datagram to every address, 20 ms apart (the fan-out's own pace), measured on this
/// thread. It is what any user-space SFU pays the kernel per forwarded packet on this machine.
private func kernelFanOutFloor(to addresses: [SocketAddress], rounds: Int) -> (total: Double, user: Double, system: Double, perCall: Double)? {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0, !addresses.isEmpty else { return nil }
    defer { close(fd) }
    var targets: [sockaddr_in] = addresses.compactMap { address in
        guard case .v4(let v4) = address else { return nil }
        return v4.address
    }
    var payload = [UInt8](repeating: 0, count: 112)
    let batch = 1024
    var sent = 0
    var calls = 0
    var cpu = ThreadCPUTime()
    payload.withUnsafeMutableBytes { bytes in
        targets.withUnsafeMutableBufferPointer { targets in
            var iov = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
            var messages = [msab_mmsghdr](repeating: msab_mmsghdr(), count: batch)
            for _ in 0..<rounds {
                let before = ThreadCPUTime.ofCurrentThread()
                var start = 0
                while start < targets.count {
                    let count = min(batch, targets.count - start)
                    withUnsafeMutablePointer(to: &iov) { iov in
                        for index in 0..<count {
                            messages[index] = msab_mmsghdr()
                            messages[index].msg_hdr.msg_name = UnsafeMutableRawPointer(targets.baseAddress! + start + index)
                            messages[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                            messages[index].msg_hdr.msg_iov = iov
                            messages[index].msg_hdr.msg_iovlen = 1
                        }
                        var done = 0
                        while done < count {
                            let result = messages.withUnsafeMutableBufferPointer { msab_sendmmsg(fd, $0.baseAddress! + done, UInt32(count - done)) }
                            calls += 1
                            if result <= 0 { break }
                            done += Int(result)
                        }
                        sent += done
                    }
                    start += count
                }
                cpu = cpu + (ThreadCPUTime.ofCurrentThread() - before)
                usleep(20_000)
            }
        }
    }
    guard sent > 0 else { return nil }
    return (
        microseconds(cpu.total) / Double(sent), microseconds(cpu.user) / Double(sent), microseconds(cpu.system) / Double(sent),
        Double(sent) / Double(max(calls, 1))
    )
}

extension ThreadCPUTime {
    static func + (lhs: ThreadCPUTime, rhs: ThreadCPUTime) -> ThreadCPUTime {
        ThreadCPUTime(user: lhs.user + rhs.user, system: lhs.system + rhs.system)
    }
}

private final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

private struct BenchTimeout: Error {
    var line: Int
}

private func waitUntil(seconds: Double, line: Int = #line, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw BenchTimeout(line: line)
}
