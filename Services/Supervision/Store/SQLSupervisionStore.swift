import AccordMessages
import AccordStorage
import Logging

/// Supervision's store, written once over the SQL both engines run (``SQLDatabase``): SQLite or PostgreSQL.
final class SQLSupervisionStore: SupervisionStore {
    let database: any SQLDatabase

    /// Opens (or creates) the database and migrates it.
    init(_ location: StorageLocation, logger: Logger) async throws {
        self.database = try await location.oneWriterAtATime.open(SupervisionSchema.migrations, logger: logger)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SupervisionRecords) throws -> T) async throws -> T {
        try await self.database.read { db in try body(SQLSupervisionRecords(db: db)) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SupervisionRecords) throws -> T) async throws -> T {
        try await self.database.write { db in try body(SQLSupervisionRecords(db: db)) }
    }

    func verifyAudit() async throws -> AuditTrail.Verdict {
        try await self.database.read { db in try AuditTrail.verify(db) }
    }

    func claimProgress(limit: Int, now: Int64, lease: Int64) async throws -> [PendingProgress] {
        try await self.database.write { db in
            try db.claimRows("outbox", pending: "delivered_at_ms IS NULL", now: now, lease: lease, limit: limit) {
                "SELECT rowid, request_id, status, agreement_rowid FROM outbox WHERE rowid IN (\($0)) ORDER BY rowid"
            }
            .map {
                PendingProgress(
                    rowid: $0["rowid"],
                    request: RecordAgreementProgressRequest(
                        requestId: $0["request_id"],
                        status: RequestStatus(rawValue: $0["status"]),
                        agreementId: SupervisionRows.id("mo", $0["agreement_rowid"])
                    )
                )
            }
        }
    }

    func takeTurn(_ job: String, holder: String, now: Int64, lease: Int64) async throws -> Bool {
        try await self.database.write { db in try db.takeTurn(job, holder: holder, now: now, lease: lease) }
    }

    func releaseProgress(_ items: [PendingProgress]) async throws {
        try await self.database.write { db in try db.release("outbox", items.map(\.rowid)) }
    }

    func progressDelivered(_ item: PendingProgress, at now: Int64) async throws {
        try await self.database.write { db in
            try db.execute("UPDATE outbox SET delivered_at_ms = ? WHERE rowid = ?", [now, item.rowid])
        }
    }
}

/// One supervision transaction on SQLite.
struct SQLSupervisionRecords: SupervisionRecords {
    let db: any SQLSession

    func audit(_ table: String, _ rowid: Int64, _ action: String, _ change: Change) throws {
        try AuditTrail.record(
            self.db,
            table: table,
            rowid: rowid,
            action: action,
            who: change.who,
            why: change.why,
            at: change.at,
            happenedAt: change.happenedAt
        )
    }

    func auditEntries(entity: String?, entityID: String?, after: Int64, limit: Int) throws -> [AuditEntry] {
        var filter = SQLFilter()
        filter.equal("entity", entity)
        filter.equal("entity_id", entityID)
        filter.add("sequence > ?", [after])
        return try db.rows(
            "SELECT * FROM audit WHERE \(filter.sql) ORDER BY sequence LIMIT ?",
            filter.arguments + [limit]
        ).map(SupervisionRows.auditEntry)
    }

    /// The row ids a query selects.
    func rowids(_ sql: String, _ arguments: SQLArguments) throws -> [Int64] {
        try db.values(Int64.self, sql, arguments)
    }

    /// The one row id a query selects, if any.
    func rowid(_ sql: String, _ arguments: SQLArguments) throws -> Int64? {
        try db.value(Int64.self, sql, arguments)
    }

    /// Inserts a row and returns its row id.
    func insert(_ sql: String, _ arguments: SQLArguments) throws -> Int64 {
        try self.db.insert(sql, arguments)
    }

    /// Sets the given columns of one row.
    func update(
        _ table: String,
        _ rowid: Int64,
        _ columns: [(String, (any SQLValueConvertible)?)]
    )
        throws
    {
        guard !columns.isEmpty else { return }
        let sets = columns.map { "\($0.0) = ?" }.joined(separator: ", ")
        try db.execute(
            "UPDATE \"\(table)\" SET \(sets) WHERE rowid = ?",
            SQLArguments(columns.map { $0.1?.sqlValue ?? .null }) + [rowid]
        )
    }
}
