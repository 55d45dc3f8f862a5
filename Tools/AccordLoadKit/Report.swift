import Histogram

/// The end-of-run report: a table per operation for people, one JSON object for scripts.
public struct Report: Sendable {
    public var scenario: String
    /// "closed" or "open".
    public var mode: String
    public var seconds: Double
    /// Settings echoed into the JSON (concurrency, rate, connections, payload…), in order.
    public var settings: [(String, String)]
    public var results: Results

    public init(scenario: String, mode: String, seconds: Double, settings: [(String, String)], results: Results) {
        self.scenario = scenario
        self.mode = mode
        self.seconds = seconds
        self.settings = settings
        self.results = results
    }

    static func latency(_ histogram: Histogram<UInt64>) -> String {
        let p = { (q: Double) in histogram.totalCount == 0 ? 0 : histogram.valueAtPercentile(q) }
        return
            "{\"p50\":\(p(50)),\"p90\":\(p(90)),\"p99\":\(p(99)),\"p999\":\(p(99.9)),\"max\":\(histogram.totalCount == 0 ? 0 : histogram.max)}"
    }

    static func errors(_ errors: [String: Int]) -> String {
        "{" + errors.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    func fields(_ result: OperationResult) -> String {
        let throughput = self.seconds > 0 ? Int(Double(result.histogram.totalCount) / self.seconds) : 0
        return
            "\"calls\":\(result.calls),\"throughput\":\(throughput),\"latency_us\":\(Self.latency(result.histogram)),"
            + "\"errors\":\(Self.errors(result.errors)),\"error_count\":\(result.errorCount)"
    }

    /// One JSON object: the settings, then `throughput` (answered calls per second),
    /// `latency_us` (p50, p90, p99, p999, max), `errors` by status name, and the same per
    /// operation under `operations`.
    public var json: String {
        let settings = self.settings.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        let operations = self.results.operations.sorted { $0.key < $1.key }.map {
            "\"\($0.key)\":{\(self.fields($0.value))}"
        }
        .joined(separator: ",")
        return "{\"scenario\":\"\(self.scenario)\",\"mode\":\"\(self.mode)\",\(settings.isEmpty ? "" : settings + ",")"
            + "\"seconds\":\(self.seconds),\(self.fields(self.results.total)),\"operations\":{\(operations)}}"
    }

    /// A table: one row per operation and a total.
    public var table: String {
        var rows: [[String]] = [
            ["operation", "calls", "errors", "calls/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs"]
        ]
        func row(_ name: String, _ result: OperationResult) -> [String] {
            let h = result.histogram
            let p = { (q: Double) in h.totalCount == 0 ? "-" : String(h.valueAtPercentile(q)) }
            let errors =
                result.errors.isEmpty
                ? "0"
                : result.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", ")
            return [
                name, String(result.calls), errors,
                self.seconds > 0 ? String(Int(Double(h.totalCount) / self.seconds)) : "-",
                p(50), p(90), p(99), p(99.9), h.totalCount == 0 ? "-" : String(h.max),
            ]
        }
        for (name, result) in self.results.operations.sorted(by: { $0.key < $1.key }) { rows.append(row(name, result)) }
        if self.results.operations.count > 1 { rows.append(row("all", self.results.total)) }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { cells in
            zip(cells, widths).enumerated().map { index, pair in
                let (cell, width) = pair
                let pad = String(repeating: " ", count: width - cell.count)
                return index == 0 || index == 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
