public import Histogram

/// What one operation of a run measured: latencies in microseconds and errors by status name.
public struct OperationResult: Sendable {
    public var histogram: Histogram<UInt64>
    public var errors: [String: Int] = [:]

    public init() {
        self.histogram = Histogram(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    public var calls: UInt64 { self.histogram.totalCount + UInt64(self.errors.values.reduce(0, +)) }
    public var errorCount: Int { self.errors.values.reduce(0, +) }

    public mutating func add(_ other: OperationResult) {
        self.histogram.add(other.histogram)
        for (name, count) in other.errors { self.errors[name, default: 0] += count }
    }
}

/// Every operation's results; each worker keeps one and they are merged at the end.
public struct Results: Sendable {
    public var operations: [String: OperationResult] = [:]

    public init() {}

    /// Records an answered call. `expectedIntervalMicros` (closed loop with a target pace) adds
    /// the calls a stalled server kept from being sent, as HdrHistogram's correction does.
    public mutating func record(_ operation: String, micros: UInt64, expectedIntervalMicros: UInt64? = nil) {
        let value = min(micros, 60_000_000)
        if let interval = expectedIntervalMicros, interval > 0 {
            _ = self.operations[operation, default: OperationResult()].histogram.recordCorrectedValue(
                value,
                expectedInterval: interval
            )
        } else {
            _ = self.operations[operation, default: OperationResult()].histogram.record(value)
        }
    }

    public mutating func fail(_ operation: String, status: String) {
        self.operations[operation, default: OperationResult()].errors[status, default: 0] += 1
    }

    public mutating func add(_ other: Results) {
        for (name, result) in other.operations { self.operations[name, default: OperationResult()].add(result) }
    }

    /// All operations together.
    public var total: OperationResult {
        var total = OperationResult()
        for result in self.operations.values { total.add(result) }
        return total
    }

    /// The share of calls that failed, 0 when none was made.
    public var errorRate: Double {
        let total = self.total
        return total.calls == 0 ? 0 : Double(total.errorCount) / Double(total.calls)
    }

    /// Whether the run passes the error gate (`--max-error-rate`).
    public func passes(maxErrorRate: Double) -> Bool { self.errorRate <= maxErrorRate }
}
