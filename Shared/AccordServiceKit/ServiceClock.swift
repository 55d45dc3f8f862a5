import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one source of "now" a service reads, injected so that tests and a simulated deployment
/// decide what time it is. Time is Unix milliseconds, as in every message.
public struct ServiceClock: Sendable {
    private let read: @Sendable () -> Int64
    /// Set for a simulated clock: real time plus an offset that only grows.
    public let simulation: Simulation?

    public init(_ now: @escaping @Sendable () -> Int64) {
        self.read = now
        self.simulation = nil
    }

    private init(simulation: Simulation) {
        self.read = { ServiceClock.realTime() + simulation.offset }
        self.simulation = simulation
    }

    /// Unix milliseconds now.
    public func now() -> Int64 { self.read() }

    /// The machine's real-time clock.
    public static let system = ServiceClock { ServiceClock.realTime() }

    /// A clock that always reads `milliseconds`.
    public static func fixed(_ milliseconds: Int64) -> ServiceClock { ServiceClock { milliseconds } }

    /// A simulated clock: it reads `start` now (real time when nil) and runs at the pace of real
    /// time from there. Its offset is taken from, and kept in, the service's database when the
    /// service opens (see ``ClockKeeper``), so that a restart goes on from where it was.
    public static func simulated(startingAt start: Int64?) -> ServiceClock {
        let offset = start.map { $0 - Self.realTime() } ?? 0
        return ServiceClock(simulation: Simulation(offset: offset, requestedStart: start))
    }

    /// Unix milliseconds of the machine's real-time clock.
    public static func realTime() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The state of a simulated clock: how far ahead of real time it is.
    public final class Simulation: Sendable {
        private let offsetMs: Atomic<Int64>
        /// The time the deployment asked to start at (`--simulated-clock`); nil for "now".
        public let requestedStart: Int64?

        init(offset: Int64, requestedStart: Int64?) {
            self.offsetMs = Atomic(offset)
            self.requestedStart = requestedStart
        }

        /// Milliseconds the simulated clock is ahead of real time.
        public var offset: Int64 { self.offsetMs.load(ordering: .acquiring) }

        /// Takes the offset the stored moves say, whatever the start asked for (at opening).
        public func resume(offset: Int64) {
            self.offsetMs.store(offset, ordering: .releasing)
        }

        /// Moves the clock to `offset`, unless it is already further ahead: it never goes back.
        /// Returns whether it moved.
        @discardableResult
        public func adopt(offset: Int64) -> Bool {
            var current = self.offsetMs.load(ordering: .acquiring)
            while offset > current {
                let (exchanged, original) = self.offsetMs.compareExchange(
                    expected: current,
                    desired: offset,
                    ordering: .acquiringAndReleasing
                )
                if exchanged { return true }
                current = original
            }
            return false
        }
    }
}

/// How far ahead the program report may look: a projection of what is on record (three years).
public enum ProjectionHorizon {
    public static let days: Int64 = 3 * 366
}
