import AccordLoadKit
import Foundation
import Histogram
import Testing

@Suite("accord-load's own logic: schedules, correction, the report, the error gate")
struct AccordLoadKitTests {
    @Test("a constant schedule sends every 1/rate seconds, exactly rate × duration calls")
    func constant() {
        let offsets = Array(Schedule(rate: 1000, arrival: .constant, durationNanoseconds: 2_000_000_000))
        #expect(offsets.count == 2000)
        #expect(offsets.first == 0 && offsets[1] == 1_000_000 && offsets.last == 1_999_000_000)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $1 - $0 == 1_000_000 })
    }

    @Test("a Poisson schedule keeps the mean rate with random gaps, and repeats for a seed")
    func poisson() {
        let schedule = Schedule(rate: 10_000, arrival: .poisson, durationNanoseconds: 10_000_000_000, seed: 42)
        let offsets = Array(schedule)
        // 100,000 expected; a Poisson count's standard deviation is about 316.
        #expect(abs(offsets.count - 100_000) < 2_000)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $1 >= $0 })
        let gaps = zip(offsets, offsets.dropFirst()).map { Double($1 - $0) }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        #expect(abs(mean - 100_000) < 2_000)
        // Exponential gaps: about 1/e of them are longer than the mean.
        let longer = Double(gaps.filter { $0 > 100_000 }.count) / Double(gaps.count)
        #expect(abs(longer - exp(-1)) < 0.02)
        #expect(
            Array(Schedule(rate: 10_000, arrival: .poisson, durationNanoseconds: 10_000_000, seed: 42))
                == Array(offsets.prefix { $0 < 10_000_000 })
        )
        #expect(
            Array(Schedule(rate: 10_000, arrival: .poisson, durationNanoseconds: 10_000_000, seed: 7))
                != Array(offsets.prefix { $0 < 10_000_000 })
        )
    }

    @Test("correction: a stall longer than the expected interval adds the calls it held back")
    func correction() {
        var corrected = Results()
        var plain = Results()
        for _ in 0..<99 {
            corrected.record("Get", micros: 1_000, expectedIntervalMicros: 1_000)
            plain.record("Get", micros: 1_000)
        }
        // One call stalled for a second while the caller meant to send one every millisecond.
        corrected.record("Get", micros: 1_000_000, expectedIntervalMicros: 1_000)
        plain.record("Get", micros: 1_000_000)
        #expect(plain.total.histogram.totalCount == 100)
        #expect(corrected.total.histogram.totalCount > 1_000)
        #expect(plain.total.histogram.valueAtPercentile(90) < 2_000)
        #expect(corrected.total.histogram.valueAtPercentile(90) > 500_000)
    }

    @Test("the JSON report: throughput, latency_us, errors by status, the same per operation")
    func json() throws {
        var results = Results()
        for micros in [100, 200, 300, 400] as [UInt64] { results.record("GetAgency", micros: micros) }
        results.record("ListAgencies", micros: 1_000)
        results.fail("ListAgencies", status: "UNAVAILABLE")
        results.fail("ListAgencies", status: "UNAVAILABLE")
        results.fail("GetAgency", status: "DEADLINE_EXCEEDED")
        let report = Report(
            scenario: "read",
            mode: "open",
            seconds: 2,
            settings: [("concurrency", "4"), ("rate", "100.0")],
            results: results
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(object["scenario"] as? String == "read" && object["mode"] as? String == "open")
        #expect(object["concurrency"] as? Int == 4 && object["rate"] as? Double == 100)
        #expect(object["throughput"] as? Int == 2)  // 5 answered calls in 2 s
        #expect(object["calls"] as? Int == 8 && object["error_count"] as? Int == 3)
        let latency = try #require(object["latency_us"] as? [String: Int])
        #expect(Set(latency.keys) == ["p50", "p90", "p99", "p999", "max"])
        #expect(latency["max"] == 1_000)
        #expect(object["errors"] as? [String: Int] == ["UNAVAILABLE": 2, "DEADLINE_EXCEEDED": 1])
        let operations = try #require(object["operations"] as? [String: [String: Any]])
        #expect(Set(operations.keys) == ["GetAgency", "ListAgencies"])
        #expect(operations["ListAgencies"]?["errors"] as? [String: Int] == ["UNAVAILABLE": 2])
        #expect((operations["GetAgency"]?["latency_us"] as? [String: Int])?["p50"] == 200)
        #expect(report.table.contains("UNAVAILABLE 2") && report.table.contains("all"))
    }

    @Test("the error gate: passes at or under the allowed share, fails above it")
    func gate() {
        var results = Results()
        for _ in 0..<99 { results.record("Echo", micros: 10) }
        #expect(results.passes(maxErrorRate: 0))
        results.fail("Echo", status: "UNAVAILABLE")
        #expect(abs(results.errorRate - 0.01) < 1e-9)
        #expect(!results.passes(maxErrorRate: 0))
        #expect(results.passes(maxErrorRate: 0.01))
        #expect(!results.passes(maxErrorRate: 0.005))
        #expect(Results().passes(maxErrorRate: 0))
    }
}
