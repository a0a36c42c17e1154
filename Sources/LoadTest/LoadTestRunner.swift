import DTLS
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one load test: M speakers, then N listeners with at most C joins in flight, all on ONE
/// event loop (no thread or task per participant: each is a pair of NIO channels and a few
/// value-type state machines), then `duration` seconds of measured audio.
///
/// Timers are shared, not per participant: one 20 ms clock for every speaker's next packet, one
/// 50 ms tick for ICE/DTLS retransmissions and consent, one 1 s tick for the progress line and
/// join timeouts. Confined to its event loop like the participants.
public final class LoadTestRunner: @unchecked Sendable {
    // MARK: - Stored properties

    let options: LoadTestOptions
    let certificate: DTLSCertificate
    let loop: any EventLoop
    let tokens: [String]
    let progress: @Sendable (String) -> Void
    private let promise: EventLoopPromise<LoadTestReport>

    var speakers: [any LoadParticipant] = []
    var listeners: [any LoadParticipant] = []
    var withMedia: [any LoadParticipant] = []
    private var listenersStarted = 0
    var inFlight = 0
    var liveCount = 0
    private var failedCount = 0
    private var joinToAudio = LatencySamples()
    private var failures = FailureTally()
    private var startedAt: NIODeadline = .now()
    var settledAt: NIODeadline?
    var finished = false
    var tasks: [RepeatedTask] = []
    private var lastProgress: (at: NIODeadline, cpu: Double) = (.now(), 0)
    private var generator = SystemRandomNumberGenerator()
    /// Server CPU when the listeners started, when their joins settled; packets received by then.
    private var serverAtListenersStart: ProcessCPUTime?
    private var serverAtSettle: ProcessCPUTime?
    private var receivedAtSettle: UInt64 = 0
    /// The speakers' frame clock, and the frames it had handed out when the joins settled.
    private var audioClock = AudioFrameClock(start: .now())
    private var framesAtSettle = 0
    /// Janus target: the local address every media leg binds and announces.
    var mediaSourceAddress: String? { options.mediaAddress }

    // Churn (LoadTestRunner+Churn.swift)
    var churnGenerator = SeededGenerator(seed: 0)
    var churnStats = ChurnStats()
    /// Streams of participants that left.
    var retired = StreamTotals()
    /// The next extra user's offset in the churn's token pool.
    var nextExtraUser = 0
    /// A speaker is being replaced (one at a time, so the new one can have the old one's seat).
    var speakerCycleInFlight = false
    var sideRoomCounter = 0

    // MARK: - Init

    private init(
        options: LoadTestOptions, tokens: [String], certificate: DTLSCertificate, loop: any EventLoop,
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.options = options
        self.tokens = tokens
        self.certificate = certificate
        self.loop = loop
        self.progress = progress
        self.promise = loop.makePromise()
    }

    // MARK: - API

    /// Runs the test and returns what it measured.
    /// - Parameters:
    ///   - tokens: one token per participant, speakers first, then the churn's extra users
    ///     (`options.tokenCount`); none for `--target janus` (Janus's API has no tokens in its
    ///     default configuration).
    ///   - progress: receives the once-a-second progress lines.
    public static func run(options: LoadTestOptions, tokens: [String], progress: @escaping @Sendable (String) -> Void) async throws
        -> LoadTestReport
    {
        precondition(options.target == .janus || tokens.count == options.tokenCount, "one token per participant and per churn user")
        let certificate = try DTLSCertificate(commonName: "msab-loadtest")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        var options = options
        if options.target == .janus, options.mediaAddress == nil {
            // The address the kernel sends from toward Janus: connecting a UDP socket only picks the
            // route (no packet leaves). Janus (ICE-lite, never checking itself) then sees in our
            // checks the address our SDP candidate names.
            do {
                let remote = try SocketAddress.makeAddressResolvingHost(options.host, port: options.port)
                let probe = try await DatagramBootstrap(group: group).connect(to: remote).get()
                options.mediaAddress = probe.localAddress?.ipAddress
                try? await probe.close()
            } catch {
                try? await group.shutdownGracefully()
                throw error
            }
        }
        let runner = LoadTestRunner(options: options, tokens: tokens, certificate: certificate, loop: loop, progress: progress)
        loop.execute { runner.begin() }
        let report: LoadTestReport
        do {
            report = try await runner.promise.futureResult.get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        // Let the close packets and FINs go out before the loop stops.
        try? await Task.sleep(for: .milliseconds(200))
        try await group.shutdownGracefully()
        return report
    }

    // MARK: - Participant callbacks

    func registerMedia(_ participant: any LoadParticipant) {
        withMedia.append(participant)
    }

    func participantLive(_ participant: any LoadParticipant) {
        liveCount += 1
        if case .listener = participant.role {
            if let firstAudio = participant.milestones[.firstAudio] { joinToAudio.add(firstAudio) }
            inFlight -= 1
        }
        if options.churn != nil, let participant = participant as? VirtualParticipant { churnParticipantLive(participant) }
        advance()
    }

    func participantFailed(_ participant: any LoadParticipant, reason: String, wasLive: Bool) {
        failedCount += 1
        if wasLive { liveCount -= 1 }
        if case .listener = participant.role, !wasLive { inFlight -= 1 }
        failures.add(reason)
        if options.churn != nil { churnError(reason) }
        advance()
    }

    // MARK: - Private

    private func begin() {
        startedAt = .now()
        lastProgress = (startedAt, Self.cpuSeconds().total)
        audioClock = AudioFrameClock(start: startedAt + AudioFrameClock.interval)
        tasks.append(
            loop.scheduleRepeatedTask(initialDelay: AudioFrameClock.interval, delay: AudioFrameClock.interval) { [self] _ in
                for _ in 0..<audioClock.due(now: .now()) {
                    for speaker in speakers { speaker.sendAudioFrame() }
                }
            })
        tasks.append(loop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { [self] _ in tick() })
        tasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in everySecond() })
        for index in 0..<options.speakers {
            let speaker = makeParticipant(index: index, role: .speaker(seat: index))
            speakers.append(speaker)
            speaker.start()
        }
        advance()
    }

    /// A participant of the target server's kind.
    private func makeParticipant(index: Int, role: VirtualParticipant.Role) -> any LoadParticipant {
        switch options.target {
        case .msab: VirtualParticipant(index: index, role: role, token: tokens[index], runner: self, loop: loop, now: .now())
        case .janus: JanusParticipant(index: index, role: role, runner: self, loop: loop, now: .now())
        }
    }

    /// Starts listeners once every speaker settled, keeping `concurrency` joins in flight, and
    /// notices when every join has settled.
    private func advance() {
        guard !finished else { return }
        let speakersSettled = speakers.allSatisfy { $0.phase != .connecting && $0.phase != .joining }
        guard speakersSettled else { return }
        if listenersStarted == 0, let pid = options.serverPID { serverAtListenersStart = ProcessCPUTime.of(pid: pid) }
        while listenersStarted < options.listeners, inFlight < options.concurrency {
            let index = options.speakers + listenersStarted
            let listener = makeParticipant(index: index, role: .listener)
            listeners.append(listener)
            listenersStarted += 1
            inFlight += 1
            listener.start()
        }
        if settledAt == nil, listenersStarted == options.listeners, inFlight == 0 {
            settledAt = .now()
            if let pid = options.serverPID { serverAtSettle = ProcessCPUTime.of(pid: pid) }
            framesAtSettle = audioClock.sent
            receivedAtSettle = listeners.reduce(0) { sum, listener in sum + listener.streams.values.reduce(0) { $0 + $1.received } }
            progress(
                "loadtest: all joins settled after \(format(Double((settledAt!.uptimeNanoseconds - startedAt.uptimeNanoseconds)) / 1e9, 2)) s; measuring \(format(options.duration, 1)) s"
            )
            if let churn = options.churn { startChurn(churn) }
        }
    }

    private func tick() {
        let now = NIODeadline.now()
        for participant in withMedia { participant.tick(now: now, using: &generator) }
        if let settledAt, now >= settledAt + .nanoseconds(Int64(options.duration * 1e9)) { finish(now: now) }
    }

    private func everySecond() {
        let now = NIODeadline.now()
        let timeout = TimeAmount.nanoseconds(Int64(options.joinTimeout * 1e9))
        for participant in speakers + listeners where participant.phase == .connecting || participant.phase == .joining {
            if now >= participant.startedAt + timeout { participant.fail("join timeout (\(format(options.joinTimeout, 0)) s)") }
        }
        var receiving = 0
        var expected: UInt64 = 0
        var lost: UInt64 = 0
        for listener in listeners {
            if let last = listener.lastPacketAt, now - last < .seconds(1) { receiving += 1 }
            for stream in listener.streams.values {
                expected += stream.expected
                lost += stream.lost
            }
        }
        let cpu = Self.cpuSeconds().total
        let wall = Double((now - lastProgress.at).nanoseconds) / 1e9
        let cpuPercent = wall > 0 ? (cpu - lastProgress.cpu) / wall * 100 : 0
        lastProgress = (now, cpu)
        let elapsed = Double((now - startedAt).nanoseconds) / 1e9
        if options.churn != nil {
            churnSecond(now: now)
            expected += retired.expected
            lost += retired.lost
        }
        let loss = expected == 0 ? 0 : Double(lost) * 100 / Double(expected)
        let churnFields = options.churn == nil ? "" : " | " + churnStats.progressFields
        progress(
            "[\(format(elapsed, 0)) s] joined \(liveCount)/\(options.speakers + options.listeners) in-flight \(inFlight) receiving \(receiving) failed \(failedCount) loss \(format(loss, 3)) % client CPU \(format(cpuPercent, 0)) %\(churnFields)"
        )
        // Hard stop: joins that never settle cannot keep the test running forever.
        if elapsed > options.joinTimeout * 2 + options.duration + Double(options.listeners) / Double(max(options.concurrency, 1))
            * options.joinTimeout
        {
            finish(now: now)
        }
    }

    private func finish(now: NIODeadline) {
        guard !finished else { return }
        finished = true
        for task in tasks { task.cancel() }
        var report = LoadTestReport()
        report.speakers = options.speakers
        report.listeners = options.listeners
        report.joined = liveCount
        report.failed = failedCount
        report.joinToAudio = joinToAudio
        report.failures = failures.counts
        var totals = retired
        for listener in listeners { totals.add(listener.retiredStreams) }
        report.packetsExpected = totals.expected
        report.packetsReceived = totals.received
        report.packetsLost = totals.lost
        report.reordered = totals.reordered
        report.duplicates = totals.duplicates
        report.srtpAuthFailures = totals.srtpAuthFailures
        report.srtpReplays = totals.srtpReplays
        report.rtcpReceived = totals.rtcpReceived
        report.jitterMaxMilliseconds = totals.jitterMax
        var jitterSum = totals.jitterSum
        var jitterCount = totals.jitterCount
        for listener in listeners {
            for (milestone, value) in listener.milestones { report.milestones[milestone, default: LatencySamples()].add(value) }
            if case .failed = listener.phase { continue }
            for stream in listener.streams.values {
                report.packetsExpected += stream.expected
                report.packetsReceived += stream.received
                report.packetsLost += stream.lost
                report.reordered += stream.reordered
                report.duplicates += stream.duplicates
                jitterSum += stream.jitterMilliseconds
                jitterCount += 1
                report.jitterMaxMilliseconds = max(report.jitterMaxMilliseconds, stream.jitterMilliseconds)
            }
            if let media = listener.media {
                report.srtpAuthFailures += media.drops.srtpAuthentication
                report.srtpReplays += media.drops.srtpReplay
                report.foreignPayloads += media.foreignPayloads
                report.rtcpReceived += media.rtcpReceived
            }
        }
        report.jitterMeanMilliseconds = jitterCount == 0 ? 0 : jitterSum / Double(jitterCount)
        report.elapsedSeconds = Double((now - startedAt).nanoseconds) / 1e9
        report.measuredSeconds = settledAt.map { Double((now - $0).nanoseconds) / 1e9 } ?? 0
        if report.measuredSeconds > 0 { report.speakerFramesPerSecond = Double(audioClock.sent - framesAtSettle) / report.measuredSeconds }
        report.speakerFramesSkipped = audioClock.skipped
        if let pid = options.serverPID, let start = serverAtListenersStart, let settled = serverAtSettle, let end = ProcessCPUTime.of(pid: pid) {
            report.serverJoinCPU = settled.since(start)
            report.serverMeasureCPU = end.since(settled)
            let received = listeners.reduce(0) { sum, listener in sum + listener.streams.values.reduce(0) { $0 + $1.received } }
            report.packetsReceivedWhileMeasuring = received - min(received, receivedAtSettle)
        }
        let cpu = Self.cpuSeconds()
        report.clientUserCPUSeconds = cpu.user
        report.clientSystemCPUSeconds = cpu.system
        if options.churn != nil {
            if report.srtpAuthFailures > 0 { churnStats.errors["SRTP authentication failure", default: 0] += report.srtpAuthFailures }
            report.churn = churnStats
        }
        for participant in speakers + listeners { participant.stop() }
        promise.succeed(report)
    }

    /// This process's CPU time so far.
    static func cpuSeconds() -> (user: Double, system: Double, total: Double) {
        var usage = rusage()
        #if os(Linux)
        _ = getrusage(0, &usage)  // RUSAGE_SELF: Glibc imports it as an enum the call does not take
        #else
        _ = getrusage(RUSAGE_SELF, &usage)
        #endif
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return (user, system, user + system)
    }
}
