import Foundation
import Histogram
import Synchronization

/// The live line on a terminal: calls per second over the last second, errors so far, and the
/// p99 so far. Off when standard error is not a terminal (or with --json).
final class LiveProgress: Sendable {
    private struct State {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)
        var calls = 0
        var errors = 0
    }

    let enabled: Bool
    private let state = Mutex(State())

    init(enabled: Bool) { self.enabled = enabled }

    func record(micros: UInt64, error: Bool) {
        guard self.enabled else { return }
        self.state.withLock { state in
            if error {
                state.errors += 1
            } else {
                state.calls += 1
                _ = state.histogram.record(min(micros, 60_000_000))
            }
        }
    }

    func run() async {
        guard self.enabled else { return }
        let started = ContinuousClock.now
        var previous = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let (calls, errors, p99) = self.state.withLock {
                ($0.calls, $0.errors, $0.histogram.totalCount == 0 ? 0 : $0.histogram.valueAtPercentile(99))
            }
            let elapsed = (ContinuousClock.now - started).components.seconds
            let line =
                "\r\(elapsed) s  \(calls - previous) calls/s  \(errors) errors  p99 so far \(Double(p99) / 1000) ms   "
            FileHandle.standardError.write(line.data(using: .utf8)!)
            previous = calls
        }
    }

    func finish() {
        if self.enabled { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }
}
