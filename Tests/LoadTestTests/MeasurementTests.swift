import NIOCore
import Testing

@testable import LoadTest

@Suite("Measurements: RFC 3550 loss/jitter, reordering, percentiles, the Opus source")
struct MeasurementTests {
    @Test("in-order packets at a steady 20 ms: no loss, no reordering, zero jitter")
    func perfectStream() {
        var stats = ReceiveStreamStats()
        for i in 0..<100 {
            stats.received(
                sequenceNumber: UInt16(truncatingIfNeeded: 65_500 + i), timestamp: UInt32(i * 960),
                arrival: .uptimeNanoseconds(UInt64(i) * 20_000_000))
        }
        #expect(stats.expected == 100)
        #expect(stats.received == 100)
        #expect(stats.lost == 0)
        #expect(stats.reordered == 0)
        #expect(stats.jitterMilliseconds == 0)
    }

    @Test("a gap is loss; a late packet is reordering and fills it; a repeat is a duplicate")
    func lossReorderDuplicate() {
        var stats = ReceiveStreamStats()
        for seq: UInt16 in [1, 2, 4, 5] {
            stats.received(sequenceNumber: seq, timestamp: UInt32(seq) * 960, arrival: .uptimeNanoseconds(UInt64(seq) * 20_000_000))
        }
        #expect(stats.expected == 5)
        #expect(stats.lost == 1)
        stats.received(sequenceNumber: 3, timestamp: 3 * 960, arrival: .uptimeNanoseconds(5 * 20_000_000))
        #expect(stats.lost == 0)
        #expect(stats.reordered == 1)
        stats.received(sequenceNumber: 3, timestamp: 3 * 960, arrival: .uptimeNanoseconds(5 * 20_000_000))
        #expect(stats.duplicates == 1)
        #expect(stats.reordered == 1)
    }

    @Test("RFC 3550 A.8: alternating 10 ms early/late arrivals converge to about 10 ms of jitter")
    func jitter() {
        var stats = ReceiveStreamStats()
        for i in 0..<500 {
            let offset: Int64 = i % 2 == 0 ? 0 : 10_000_000
            stats.received(sequenceNumber: UInt16(i), timestamp: UInt32(i * 960), arrival: .uptimeNanoseconds(UInt64(Int64(i) * 20_000_000 + offset)))
        }
        #expect(abs(stats.jitterMilliseconds - 10) < 0.5)
    }

    @Test("nearest-rank percentiles")
    func percentiles() {
        var samples = LatencySamples()
        #expect(samples.percentile(50) == nil)
        for value in (1...100).reversed() { samples.add(Double(value)) }
        #expect(samples.percentile(50) == 50)
        #expect(samples.percentile(95) == 95)
        #expect(samples.percentile(99) == 99)
        #expect(samples.percentile(100) == 100)
    }

    @Test("the Opus fixture is one second of 20 ms frames with one TOC configuration; packets advance by 960")
    func opus() {
        let frames = OpusFixture.frames
        #expect(frames.count == 50)
        #expect(frames.allSatisfy { !$0.isEmpty && $0.count < 200 })
        // RFC 6716 §3.1 table 2: every TOC config says 20 ms (SILK 1,5,9; hybrid 13,15; CELT 19,23,27,31);
        // libopus switches modes within a stream, so only the frame size is constant. Code 0 = one frame.
        #expect(frames.allSatisfy { [1, 5, 9, 13, 15, 19, 23, 27, 31].contains($0[0] >> 3) })
        #expect(frames.allSatisfy { $0[0] & 0x03 == 0 })
        var packetizer = OpusPacketizer(ssrc: 0xDEAD_BEEF, sequenceNumber: 65_535, timestamp: 0)
        let first = packetizer.next(reservingCapacity: 16)
        let second = packetizer.next(reservingCapacity: 16)
        #expect(first.getInteger(at: 0, as: UInt8.self) == 0x80)
        #expect(first.getInteger(at: 1, as: UInt8.self) == OpusPacketizer.payloadType)
        #expect(first.getInteger(at: 2, as: UInt16.self) == 65_535)
        #expect(second.getInteger(at: 2, as: UInt16.self) == 0)
        #expect(second.getInteger(at: 4, as: UInt32.self) == 960)
        #expect(second.getInteger(at: 8, as: UInt32.self) == 0xDEAD_BEEF)
        #expect(first.readableBytes == 12 + frames[0].count)
        #expect(first.capacity >= first.readableBytes + 16)
    }

    @Test("--url parsing")
    func urls() {
        #expect(LoadTestOptions.parseURL("http://127.0.0.1:3030")! == ("127.0.0.1", 3030))
        #expect(LoadTestOptions.parseURL("ws://localhost:8080/socket.io/")! == ("localhost", 8080))
        #expect(LoadTestOptions.parseURL("http://[::1]:9")! == ("::1", 9))
        #expect(LoadTestOptions.parseURL("example.org")! == ("example.org", 80))
        #expect(LoadTestOptions.parseURL("https://x:1") == nil)
        #expect(LoadTestOptions.parseURL("http://x:99999") == nil)
        #expect(LoadTestOptions.parseURL("http://:80") == nil)
    }

    @Test("the JSON line has the fields the brief names")
    func report() {
        var report = LoadTestReport()
        report.speakers = 1
        report.listeners = 2
        report.joined = 3
        report.joinToAudio.add(80)
        report.joinToAudio.add(120)
        report.packetsExpected = 1000
        report.packetsLost = 5
        let json = report.json
        #expect(
            json.hasPrefix(
                "{\"speakers\":1,\"listeners\":2,\"joined\":3,\"failed\":0,\"join_to_audio_ms\":{\"count\":2,\"p50\":80,\"p95\":120,\"p99\":120,"))
        #expect(json.contains("\"loss_pct\":0.5,"))
        #expect(json.contains("\"jitter_ms\":0,"))
    }

    @Test("proc(5) stat: utime and stime counted from the last ')', whatever the command name holds")
    func procStat() {
        let line = "4242 (msab (a) b) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 100 1000000 5000 18446744073709551615"
        let cpu = ProcessCPUTime.parse(Array(line.utf8), ticksPerSecond: 100)
        #expect(cpu == ProcessCPUTime(user: 2.5, system: 0.75))
        #expect(ProcessCPUTime.parse(Array("4242 (msab".utf8), ticksPerSecond: 100) == nil)
        #expect(ProcessCPUTime.of(pid: -1) == nil)
    }
}

@Suite("OpusFixturePayloads: a listener recognises the speakers' audio byte for byte")
struct OpusFixturePayloadsTests {
    @Test("every packetizer packet is recognised, with a CSRC or a header extension too; a changed byte is not")
    func recognises() {
        var packetizer = OpusPacketizer(ssrc: 7)
        for _ in 0..<OpusFixture.frames.count {
            #expect(OpusFixturePayloads.contains(rtpPacket: packetizer.next(reservingCapacity: 0)))
        }
        let frame = OpusFixture.frames[3]
        // One CSRC and a one-word RFC 8285 extension, as a server may add.
        var rewritten = ByteBuffer(bytes: [0x91, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0xBE, 0xDE, 0, 1, 0x10, 0xFF, 0, 0])
        rewritten.writeBytes(frame)
        #expect(OpusFixturePayloads.contains(rtpPacket: rewritten))
        var changed = ByteBuffer(bytes: [0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9])
        changed.writeBytes(frame.dropLast() + [frame.last! ^ 1])
        #expect(!OpusFixturePayloads.contains(rtpPacket: changed))
        #expect(!OpusFixturePayloads.contains(rtpPacket: ByteBuffer(bytes: [0x80, 111, 0])))
    }
}

@Suite("AudioFrameClock: 50 frames a second even when the loop runs late")
struct AudioFrameClockTests {
    @Test("late firings catch up; more than the burst late, frames are skipped, not flooded")
    func catchesUp() {
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var clock = AudioFrameClock(start: t0)
        #expect(clock.due(now: t0 - .milliseconds(1)) == 0)
        #expect(clock.due(now: t0) == 1)
        #expect(clock.due(now: t0 + .milliseconds(10)) == 0)
        #expect(clock.due(now: t0 + .milliseconds(65)) == 3)  // frames at 20, 40, 60 ms
        #expect(clock.due(now: t0 + .milliseconds(1_000)) == AudioFrameClock.maximumBurst)
        #expect(clock.sent + clock.skipped == 51)
        // A firing every 30 ms for a second still sends 50 frames in all.
        var steady = AudioFrameClock(start: t0)
        var sent = 0
        for k in 0..<34 { sent += steady.due(now: t0 + .milliseconds(Int64(k * 30))) }
        #expect(sent == 50 && steady.skipped == 0)
    }
}
