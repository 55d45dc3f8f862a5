import Foundation
import Metrics
import Synchronization

/// Whether this process's writes are failing for want of storage (a full disk, a data directory
/// that cannot be written, an unreachable database), as health reports it: set by a write that
/// failed so, cleared by the next write that succeeds. Reads are not judged.
public final class StorageHealth: Sendable {
    /// The process's (every store of a service reports here).
    public static let shared = StorageHealth()

    private let state = Mutex<(reason: String, since: Date)?>(nil)
    private let failures = Mutex<[StorageError.Kind: Int]>([:])

    public init() {}

    /// Why writes fail now, with since when; nil when the last write succeeded.
    public var degraded: String? {
        self.state.withLock { state in
            state.map { "writes failing since \(ISO8601DateFormatter().string(from: $0.since)): \($0.reason)" }
        }
    }

    /// Writes refused for want of storage since start, by kind.
    public var failureCounts: [StorageError.Kind: Int] { self.failures.withLock { $0 } }

    func writeFailed(_ error: StorageError) {
        self.failures.withLock { $0[error.kind, default: 0] += 1 }
        Counter(label: "accord_storage_write_failures_total", dimensions: [("kind", error.kind.rawValue)]).increment()
        self.state.withLock { state in
            if state == nil { state = (error.description, Date()) } else { state!.reason = error.description }
        }
    }

    func writeSucceeded() {
        self.state.withLock { state in
            if state != nil { state = nil }
        }
    }
}
