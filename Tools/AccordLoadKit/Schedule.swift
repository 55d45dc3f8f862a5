#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When an open-loop run sends its calls: at a constant rate, or as a Poisson process (random,
/// exponentially distributed gaps with the same mean). Offsets are nanoseconds from the start;
/// the same seed gives the same schedule.
public enum Arrival: String, Sendable, CaseIterable {
    case constant
    case poisson
}

public struct Schedule: Sequence, Sendable {
    public let rate: Double
    public let arrival: Arrival
    public let duration: UInt64
    public let seed: UInt64

    /// `rate` calls per second for `duration` nanoseconds.
    public init(rate: Double, arrival: Arrival, durationNanoseconds duration: UInt64, seed: UInt64 = 0x5EED) {
        precondition(rate > 0, "the rate must be positive")
        self.rate = rate
        self.arrival = arrival
        self.duration = duration
        self.seed = seed
    }

    /// The gap the schedule aims at between calls, in nanoseconds.
    public var meanIntervalNanoseconds: Double { 1e9 / self.rate }

    public func makeIterator() -> Iterator {
        Iterator(schedule: self, random: SplitMix64(seed: self.seed))
    }

    public struct Iterator: IteratorProtocol {
        let schedule: Schedule
        var random: SplitMix64
        var index: UInt64 = 0
        var upcoming: Double = 0

        public mutating func next() -> UInt64? {
            let offset: Double
            switch self.schedule.arrival {
            case .constant:
                offset = Double(self.index) * self.schedule.meanIntervalNanoseconds
                self.index += 1
            case .poisson:
                offset = self.upcoming
                // Exponential gap: -ln(U) / rate, with U in (0, 1].
                let uniform = (Double(self.random.next() >> 11) + 1) / 9_007_199_254_740_992.0
                self.upcoming += -log(uniform) * self.schedule.meanIntervalNanoseconds
            }
            guard offset < Double(self.schedule.duration) else { return nil }
            return UInt64(offset)
        }
    }
}

/// A small, fast, seedable generator (SplitMix64), so that schedules can be reproduced.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
