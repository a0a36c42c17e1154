import SocketIOParser

/// What one load test measured. `json` is the object `--json` prints as the last stdout line.
public struct LoadTestReport: Sendable, Hashable {
    public var speakers = 0
    public var listeners = 0
    /// Participants that completed their join (speaker producing with DTLS up, listener with a
    /// first verified packet) and did not fail afterwards.
    public var joined = 0
    public var failed = 0
    /// Listener join → first verified audio packet, from the TCP connect on.
    public var joinToAudio = LatencySamples()
    /// Listener join milestones, ms after the connect began (p50/p95 in the report).
    public var milestones: [JoinMilestone: LatencySamples] = [:]
    /// Across every listener's every stream.
    public var packetsExpected: UInt64 = 0
    public var packetsReceived: UInt64 = 0
    public var packetsLost: UInt64 = 0
    public var reordered: UInt64 = 0
    public var duplicates: UInt64 = 0
    /// Packets whose SRTP tag did not verify (should be 0), replays, other drops.
    public var srtpAuthFailures = 0
    public var srtpReplays = 0
    public var rtcpReceived = 0
    /// Authenticated packets whose payload was not one of the fixture's Opus frames (should be 0:
    /// the audio that arrived is the audio that was sent, ``OpusFixturePayloads``).
    public var foreignPayloads = 0
    /// Frames each speaker sent per second of the measured stretch (50 asked for), and frames
    /// skipped because the load test's loop ran more than 100 ms late (``AudioFrameClock``).
    public var speakerFramesPerSecond = 0.0
    public var speakerFramesSkipped = 0
    /// Mean and max of the listeners' RFC 3550 interarrival jitter.
    public var jitterMeanMilliseconds = 0.0
    public var jitterMaxMilliseconds = 0.0
    /// Wall time of the whole run and of the measured stretch after the joins.
    public var elapsedSeconds = 0.0
    public var measuredSeconds = 0.0
    /// This process's CPU time (getrusage), user and system apart.
    public var clientUserCPUSeconds = 0.0
    public var clientSystemCPUSeconds = 0.0
    /// The server's CPU (`--server-pid`) while the listeners joined (from the first listener's
    /// connect to the last join settling) and while the audio was measured, and the packets the
    /// listeners received in the measured stretch.
    public var serverJoinCPU: ProcessCPUTime?
    public var serverMeasureCPU: ProcessCPUTime?
    public var packetsReceivedWhileMeasuring: UInt64 = 0
    /// Failure reasons and how often each occurred (at most 20 distinct reasons kept).
    public var failures: [String: Int] = [:]
    /// `--churn`: what changed and the errors by kind (nil without churn).
    public var churn: ChurnStats?

    public init() {}

    public var lossPercent: Double { packetsExpected == 0 ? 0 : Double(packetsLost) * 100 / Double(packetsExpected) }

    /// The `--json` object.
    public var json: String {
        var samples = joinToAudio
        func number(_ value: Double?) -> JSONValue { value.map { .number(($0 * 10).rounded() / 10) } ?? .null }
        // CPU seconds and µs per packet: a 20 s run at a few µs per packet is a few tenths of a
        // second, so one decimal would be a coarse figure to divide.
        func fine(_ value: Double?) -> JSONValue { value.map { .number(($0 * 1000).rounded() / 1000) } ?? .null }
        let latency: JSONValue = [
            "count": .number(Double(samples.count)),
            "p50": number(samples.percentile(50)), "p95": number(samples.percentile(95)), "p99": number(samples.percentile(99)),
            "max": number(samples.percentile(100)),
        ]
        var phases: [(key: String, value: JSONValue)] = []
        for milestone in JoinMilestone.allCases {
            guard var samples = milestones[milestone] else { continue }
            phases.append((milestone.rawValue, ["p50": number(samples.percentile(50)), "p95": number(samples.percentile(95))]))
        }
        var serverCPUObject: JSONValue = .null
        if let join = serverJoinCPU, let measure = serverMeasureCPU {
            let perJoin = listeners == 0 ? nil : (join.user + join.system) * 1000 / Double(listeners)
            let perPacket =
                packetsReceivedWhileMeasuring == 0 ? nil : (measure.user + measure.system) * 1e6 / Double(packetsReceivedWhileMeasuring)
            serverCPUObject = [
                "join_user_s": fine(join.user), "join_sys_s": fine(join.system), "per_listener_join_ms": number(perJoin),
                "measure_user_s": fine(measure.user), "measure_sys_s": fine(measure.system),
                "per_delivered_packet_us": fine(perPacket),
                "packets_measured": .number(Double(packetsReceivedWhileMeasuring)),
            ]
        }
        let failureObject = JSONValue.object(JSONObject(failures.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) }))
        var object: JSONValue = [
            "speakers": .number(Double(speakers)),
            "listeners": .number(Double(listeners)),
            "joined": .number(Double(joined)),
            "failed": .number(Double(failed)),
            "join_to_audio_ms": latency,
            "join_phases_ms": .object(JSONObject(phases)),
            "loss_pct": .number((lossPercent * 1000).rounded() / 1000),
            "jitter_ms": .number((jitterMeanMilliseconds * 100).rounded() / 100),
            "jitter_max_ms": .number((jitterMaxMilliseconds * 100).rounded() / 100),
            "packets_expected": .number(Double(packetsExpected)),
            "packets_received": .number(Double(packetsReceived)),
            "packets_lost": .number(Double(packetsLost)),
            "reordered": .number(Double(reordered)),
            "duplicates": .number(Double(duplicates)),
            "srtp_auth_failures": .number(Double(srtpAuthFailures)),
            "srtp_replays": .number(Double(srtpReplays)),
            "rtcp_received": .number(Double(rtcpReceived)),
            "foreign_payloads": .number(Double(foreignPayloads)),
            "speaker_frames_per_s": .number((speakerFramesPerSecond * 100).rounded() / 100),
            "speaker_frames_skipped": .number(Double(speakerFramesSkipped)),
            "elapsed_s": number(elapsedSeconds),
            "measured_s": number(measuredSeconds),
            "client_cpu_user_s": .number((clientUserCPUSeconds * 1000).rounded() / 1000),
            "client_cpu_sys_s": .number((clientSystemCPUSeconds * 1000).rounded() / 1000),
            "failures": failureObject,
            "server_cpu": serverCPUObject,
        ]
        if let churn, case .object(var fields) = object {
            fields["churn"] = churn.json
            object = .object(fields)
        }
        return object.jsonString
    }

    /// The human summary (stderr).
    public var summary: String {
        var samples = joinToAudio
        func ms(_ value: Double?) -> String { value.map { String(Int($0.rounded())) } ?? "-" }
        var lines = [
            "loadtest summary: \(joined)/\(speakers + listeners) joined, \(failed) failed (\(speakers) speakers, \(listeners) listeners)",
            "  join → first audio (ms): p50 \(ms(samples.percentile(50))) p95 \(ms(samples.percentile(95))) p99 \(ms(samples.percentile(99))) max \(ms(samples.percentile(100))) (n=\(samples.count))",
            "  join phases, ms after connect (p50/p95): "
                + JoinMilestone.allCases.compactMap { milestone in
                    guard var samples = milestones[milestone] else { return nil }
                    return "\(milestone.rawValue) \(ms(samples.percentile(50)))/\(ms(samples.percentile(95)))"
                }.joined(separator: ", "),
            "  packets: expected \(packetsExpected), received \(packetsReceived), lost \(packetsLost) (\(format(lossPercent, 3)) %), reordered \(reordered), duplicates \(duplicates)",
            "  SRTP: auth failures \(srtpAuthFailures), replays \(srtpReplays); payloads not the fixture's Opus \(foreignPayloads); RTCP received \(rtcpReceived)",
            "  speakers: \(format(speakerFramesPerSecond, 1)) frames/s while measuring, \(speakerFramesSkipped) frames skipped (loop > 100 ms late)",
            "  jitter (ms): mean \(format(jitterMeanMilliseconds, 2)) max \(format(jitterMaxMilliseconds, 2))",
            "  time: \(format(elapsedSeconds, 1)) s total, \(format(measuredSeconds, 1)) s measured; client CPU \(format(clientUserCPUSeconds, 2)) s user + \(format(clientSystemCPUSeconds, 2)) s sys",
        ]
        if let join = serverJoinCPU, let measure = serverMeasureCPU {
            let perJoin = listeners == 0 ? 0 : (join.user + join.system) * 1000 / Double(listeners)
            let perPacket = packetsReceivedWhileMeasuring == 0 ? 0 : (measure.user + measure.system) * 1e6 / Double(packetsReceivedWhileMeasuring)
            lines.append(
                "  server CPU: joins \(format(join.user, 2)) s user + \(format(join.system, 2)) s sys (\(format(perJoin, 1)) ms per listener); "
                    + "measured stretch \(format(measure.user, 2)) s user + \(format(measure.system, 2)) s sys (\(format(perPacket, 1)) µs per delivered packet)"
            )
        }
        for (reason, count) in failures.sorted(by: { $0.value > $1.value }) { lines.append("  failure ×\(count): \(reason)") }
        if let churn {
            lines.append(
                "  churn: \(churn.joins)/\(churn.joinsStarted) joins, \(churn.leaves) leaves, \(churn.seatTakes) seat takes, \(churn.seatLeaves) seat leaves, "
                    + "\(churn.sideRooms) side rooms, \(churn.chatsSent) chats (\(churn.chatsEchoed) echoed, \(churn.chatsReceived) received); \(churn.errorCount) errors"
            )
            for (kind, count) in churn.errors.sorted(by: { $0.value > $1.value }) { lines.append("  error ×\(count): \(kind)") }
        }
        if failures.keys.contains(where: { $0.contains("400 Bad Request") }) {
            lines.append(
                "  hint: msab refuses more than MSAB_MAX_SESSIONS_PER_IP (256) sessions from one address; start it with MSAB_MAX_SESSIONS_PER_IP=0")
        }
        return lines.joined(separator: "\n")
    }
}

/// `value` with `digits` decimals, without Foundation.
func format(_ value: Double, _ digits: Int) -> String {
    // Beyond 1e15 the integer conversion below could trap: print Swift's own form.
    guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let digitsText = String(fraction)
        text += "." + String(repeating: "0", count: max(0, digits - digitsText.count)) + digitsText
    }
    return text
}
