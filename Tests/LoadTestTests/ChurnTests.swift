import NIOCore
import Testing

@testable import LoadTest

@Suite("Churn: seeded choices, errors by kind, the extra users, the report")
struct ChurnTests {
    @Test("the same seed gives the same choices; another seed other ones")
    func seededGeneratorReplays() {
        var a = SeededGenerator(seed: 7)
        var b = SeededGenerator(seed: 7)
        var c = SeededGenerator(seed: 8)
        let first = (0..<32).map { _ in a.next() }
        #expect(first == (0..<32).map { _ in b.next() })
        #expect(first != (0..<32).map { _ in c.next() })
        // SplitMix64's published first output for seed 0.
        var zero = SeededGenerator(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test("errors are counted by kind, a new kind is reported once, kinds beyond 40 fold into (other)")
    func errorsByKind() {
        var stats = ChurnStats()
        let firstIsNew = stats.record("seat:take 3: Seat is already taken")
        let secondIsNew = stats.record("seat:take 3: Seat is already taken")
        #expect(firstIsNew)
        #expect(!secondIsNew)
        #expect(stats.errors["seat:take 3: Seat is already taken"] == 2)
        for i in 0..<60 { stats.record("kind \(i)") }
        #expect(stats.errors.count == 41)
        #expect(stats.errors["(other)"] == 21)
        #expect(stats.errorCount == 62)
        #expect(stats.progressFields.hasSuffix("errors=62"))
    }

    @Test("one extra user per expected change plus a margin, bounded")
    func extraUsers() {
        #expect(ChurnOptions.extraUsers(rate: 2, duration: 60) == 182)
        #expect(ChurnOptions.extraUsers(rate: 100, duration: 86_400) == ChurnOptions.maximumExtraUsers)
        let options = LoadTestOptions(
            host: "127.0.0.1", port: 1, room: "r", speakers: 2, listeners: 20, concurrency: 5, duration: 60,
            churn: ChurnOptions(rate: 2, chatRate: 2, seed: 1, extraUsers: 182))
        #expect(options.tokenCount == 204)
    }

    @Test("the JSON has a churn object only in a churn run")
    func reportJSON() {
        var report = LoadTestReport()
        #expect(!report.json.contains("\"churn\""))
        var churn = ChurnStats()
        churn.joins = 3
        churn.record("unexpected event seat:locked")
        report.churn = churn
        #expect(report.json.contains("\"churn\":{"))
        #expect(report.json.contains("\"errors_total\":1"))
        #expect(report.json.contains("\"unexpected event seat:locked\":1"))
        #expect(report.summary.contains("error ×1: unexpected event seat:locked"))
    }

    @Test("retired streams add up")
    func streamTotals() {
        var stream = ReceiveStreamStats()
        for i in 0..<10 where i != 4 {
            stream.received(sequenceNumber: UInt16(i), timestamp: UInt32(i * 960), arrival: .uptimeNanoseconds(UInt64(i) * 20_000_000))
        }
        var totals = StreamTotals()
        totals.add(stream)
        var more = StreamTotals()
        more.add(totals)
        more.srtpAuthFailures = 1
        totals.add(more)
        #expect(totals.expected == 20 && totals.received == 18 && totals.lost == 2)
        #expect(totals.jitterCount == 2 && totals.srtpAuthFailures == 1)
    }
}
