/// Group commit for writers that take turns (``PostgresDatabase/Writers/oneAtATime``): writes
/// that arrive while a turn is committing wait for the next turn, and all of them share its
/// transaction, its hold of the writer lock and its sync.
///
/// Without it, each write of such a store holds the database's writer lock until its own
/// commit is durable, so the store does one write per sync (about 170 a second here) however
/// many callers wait. Each write of a turn runs in a savepoint of its own, so one that throws
/// is rolled back alone and answered with its error; the others are answered after the commit.
actor PostgresTurnWriter {
    private struct Pending: Sendable {
        /// Runs the write in the turn's transaction; returns how to answer its caller.
        let run: @Sendable (any SQLSession, _ alone: Bool) throws -> @Sendable () -> Void
        /// Answers the caller when the whole turn failed.
        let fail: @Sendable (any Error) -> Void
    }

    private let database: PostgresDatabase
    private var pending: [Pending] = []
    private var committing = false
    /// The most writes one turn takes; the rest wait for the next.
    let maxBatch: Int
    /// Turns committed and the writes they held, for tests.
    private(set) var committedTurns = 0
    private(set) var committedWrites = 0

    init(database: PostgresDatabase, maxBatch: Int = 32) {
        self.database = database
        self.maxBatch = maxBatch
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            self.pending.append(
                Pending(
                    run: { session, alone in
                        // A turn of one write needs no savepoint: its failure rolls back the turn.
                        if alone { return Self.answer(continuation, try body(session)) }
                        return try Self.inSavepoint(session, continuation, body)
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

    private static func answer<T: Sendable>(
        _ continuation: CheckedContinuation<T, any Error>,
        _ value: T
    ) -> @Sendable () -> Void {
        { continuation.resume(returning: value) }
    }

    /// Runs `body` in a savepoint. A failure of the write alone (its rules, a constraint) rolls
    /// back to the savepoint and becomes its caller's answer; a broken connection fails the turn.
    private static func inSavepoint<T: Sendable>(
        _ session: any SQLSession,
        _ continuation: CheckedContinuation<T, any Error>,
        _ body: (any SQLSession) throws -> T
    ) throws -> @Sendable () -> Void {
        try session.execute("SAVEPOINT turn_write")
        do {
            let value = try body(session)
            try session.execute("RELEASE SAVEPOINT turn_write")
            return Self.answer(continuation, value)
        } catch {
            if PostgresDatabase.isBroken(error) { throw error }
            try session.execute("ROLLBACK TO SAVEPOINT turn_write")
            let answer = PostgresDatabase.storageError(error)
            return { continuation.resume(throwing: answer) }
        }
    }

    private func commitLoop() async {
        while !self.pending.isEmpty {
            let batch = Array(self.pending.prefix(self.maxBatch))
            self.pending.removeFirst(batch.count)
            do {
                let answers = try await self.database.writeTurn { session in
                    try batch.map { try $0.run(session, batch.count == 1) }
                }
                self.committedTurns += 1
                self.committedWrites += batch.count
                for answer in answers { answer() }
            } catch {
                let answer = PostgresDatabase.storageError(error)
                for write in batch { write.fail(answer) }
            }
        }
        self.committing = false
    }
}
