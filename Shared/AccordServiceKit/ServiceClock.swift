#if canImport(Glibc)
import Glibc
#endif

/// The one source of "now" a service reads, injected so that tests (and, later, a simulated
/// deployment) decide what time it is. Time is Unix milliseconds, as in every message.
public struct ServiceClock: Sendable {
    private let read: @Sendable () -> Int64

    public init(_ now: @escaping @Sendable () -> Int64) {
        self.read = now
    }

    /// Unix milliseconds now.
    public func now() -> Int64 { self.read() }

    /// The machine's real-time clock.
    public static let system = ServiceClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// A clock that always reads `milliseconds`.
    public static func fixed(_ milliseconds: Int64) -> ServiceClock { ServiceClock { milliseconds } }
}
