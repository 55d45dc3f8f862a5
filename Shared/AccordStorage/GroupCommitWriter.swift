public import GRDB

/// Group commit: writes that arrive while a transaction is committing wait for the next one,
/// and all of them share that transaction and its sync. Each write runs in its own savepoint,
/// so one that throws is rolled back alone; the callers are answered after the commit.
///
/// With one sync costing a few milliseconds, one transaction per write caps a service at a few
/// hundred writes a second; with group commit the cost is shared by every write in the batch.
public actor GroupCommitWriter {
    private struct Pending: Sendable {
        /// Runs the write in the batch's transaction; returns how to answer its caller.
        let run: @Sendable (Database) -> @Sendable () -> Void
        /// Answers the caller when the whole batch failed to commit.
        let fail: @Sendable (any Error) -> Void
    }

    private let pool: DatabasePool
    private var pending: [Pending] = []
    private var committing = false
    /// Writes in each committed batch, for the storage metrics and tests.
    public private(set) var committedBatches = 0
    public private(set) var committedWrites = 0
    /// The most writes one transaction takes; the rest wait for the next.
    public let maxBatch: Int

    public init(pool: DatabasePool, maxBatch: Int = 1024) {
        self.pool = pool
        self.maxBatch = maxBatch
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            self.pending.append(
                Pending(
                    run: { db in
                        do {
                            var value: T?
                            try db.inSavepoint {
                                value = try body(db)
                                return .commit
                            }
                            let result = value!
                            return { continuation.resume(returning: result) }
                        } catch {
                            return { continuation.resume(throwing: error) }
                        }
                    },
                    fail: { continuation.resume(throwing: $0) }
                )
            )
            if !self.committing {
                self.committing = true
                Task { await self.commitLoop() }
            }
        }
    }

    private func commitLoop() async {
        while !self.pending.isEmpty {
            let batch = Array(self.pending.prefix(self.maxBatch))
            self.pending.removeFirst(batch.count)
            do {
                let answers = try await self.pool.write { db in batch.map { $0.run(db) } }
                self.committedBatches += 1
                self.committedWrites += batch.count
                for answer in answers { answer() }
            } catch {
                for write in batch { write.fail(error) }
            }
        }
        self.committing = false
    }
}
