import AccordMessages
import AccordServiceKit
import AccordStorage
import Logging

/// Intake's store, written once over the SQL both engines run (``SQLDatabase``): SQLite or PostgreSQL.
final class SQLIntakeStore: IntakeStore {
    let database: any SQLDatabase

    /// Opens (or creates) the database and migrates it.
    init(_ location: StorageLocation, logger: Logger) async throws {
        self.database = try await location.open(IntakeSchema.migrations, logger: logger)
    }

    // MARK: Agencies

    func registerAgency(_ fields: AgencyFields, _ change: ChangeStamp) async throws -> Agency {
        try await self.database.write { db in try Self.insertAgency(db, fields, change) }
    }

    /// Inserts an agency unless another has its state and name, or its ORI: the schema's unique
    /// constraints decide (on PostgreSQL, after a racing insert of another replica commits or
    /// rolls back), and only a refused insert reads the agency it clashed with.
    static func insertAgency(_ db: any SQLSession, _ fields: AgencyFields, _ change: ChangeStamp) throws -> Agency {
        let inserted = try db.value(
            Int64.self,
            """
            INSERT INTO agency (state, name, name_key, type, county, ori, has_jail, jail_capacity,
                created_by, created_at_ms, created_why, updated_by, updated_at_ms, updated_why)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING rowid
            """,
            self.agencyArguments(fields) + [
                change.who, change.at, change.why, change.who, change.at, change.why,
            ]
        )
        guard let rowid = inserted else {
            try self.refuseClash(db, fields, except: nil)
            throw StorageError("agency \(fields.name) was not inserted, and no agency clashes with it")
        }
        try self.appendChange(db, entity: "agency", id: IntakeRecords.agencyID(rowid), action: "register", change)
        let stamp = ChangeInfo(who: change.who, atMs: change.at, why: change.why)
        return Agency(
            id: IntakeRecords.agencyID(rowid),
            state: fields.state,
            name: fields.name,
            type: fields.type,
            county: fields.county,
            ori: fields.ori,
            hasJail: fields.hasJail,
            jailCapacity: fields.jailCapacity,
            created: stamp,
            updated: stamp
        )
    }

    /// The state, name, name key, type, county, ORI, jail and capacity columns' values.
    private static func agencyArguments(_ fields: AgencyFields) -> SQLArguments {
        [
            fields.state, fields.name, Normalize.key(fields.name), fields.type.rawValue, fields.county, fields.ori,
            fields.hasJail.map { $0 ? 1 : 0 }, fields.jailCapacity.map { Int64($0) },
        ]
    }

    /// Throws ``IntakeStoreError/duplicateAgency(_:sameORI:)`` naming the agency (other than
    /// `except`) with the same state and name, or the same ORI.
    private static func refuseClash(_ db: any SQLSession, _ fields: AgencyFields, except rowid: Int64?) throws {
        guard
            let row = try db.row(
                """
                SELECT \(IntakeRows.agencyColumns) FROM agency
                WHERE rowid != ? AND ((state = ? AND name_key = ?) OR (ori IS NOT NULL AND ori = ?))
                """,
                [rowid ?? 0, fields.state, Normalize.key(fields.name), fields.ori]
            )
        else { return }
        let other = IntakeRows.agency(row)
        throw IntakeStoreError.duplicateAgency(other, sameORI: other.ori != nil && other.ori == fields.ori)
    }

    func updateAgency(
        rowid: Int64,
        _ change: ChangeStamp,
        _ edit: @escaping @Sendable (Agency) throws -> AgencyFields
    ) async throws -> Agency {
        try await self.database.write { db in
            try db.lockRow("agency", rowid)
            guard let current = try Self.loadAgency(db, rowid) else {
                throw IntakeStoreError.agencyNotFound(IntakeRecords.agencyID(rowid))
            }
            let fields = try edit(current)
            try Self.refuseClash(db, fields, except: rowid)
            try db.execute(
                """
                UPDATE agency SET state = ?, name = ?, name_key = ?, type = ?, county = ?, ori = ?, has_jail = ?,
                    jail_capacity = ?, updated_by = ?, updated_at_ms = ?, updated_why = ?
                WHERE rowid = ?
                """,
                Self.agencyArguments(fields) + [change.who, change.at, change.why, rowid]
            )
            try Self.appendChange(db, entity: "agency", id: current.id!, action: "update", change)
            return try Self.loadAgency(db, rowid)!
        }
    }

    static func loadAgency(_ db: any SQLSession, _ rowid: Int64) throws -> Agency? {
        try db.row("SELECT \(IntakeRows.agencyColumns) FROM agency WHERE rowid = ?", [rowid]).map(IntakeRows.agency)
    }

    func agency(rowid: Int64) async throws -> Agency? {
        try await self.database.read { db in try Self.loadAgency(db, rowid) }
    }

    func agency(ori: String) async throws -> Agency? {
        try await self.database.read { db in
            try db.row("SELECT \(IntakeRows.agencyColumns) FROM agency WHERE ori = ?", [ori]).map(IntakeRows.agency)
        }
    }

    func agencies(_ filter: AgencyFilter, after: Int64, limit: Int) async throws -> [Agency] {
        var conditions = SQLFilter()
        conditions.equal("state", filter.state)
        conditions.equal("type", filter.type?.rawValue)
        if let county = filter.county {
            // Each engine's own case-insensitive comparison, so that each uses its index.
            let clause = self.database.dialect == .sqlite ? "county = ? COLLATE NOCASE" : "lower(county) = lower(?)"
            conditions.add(clause, [county])
        }
        if let key = filter.nameKeyPrefix {
            conditions.add("name_key >= ? AND name_key < ?", [key, key + "\u{10FFFF}"])
        }
        conditions.equal("rowid", filter.onlyRowid)
        conditions.add("rowid > ?", [after])
        return try await self.database.read { [conditions] db in
            try db.rows(
                "SELECT \(IntakeRows.agencyColumns) FROM agency WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
                conditions.arguments + [limit]
            ).map(IntakeRows.agency)
        }
    }

    func agencyCount() async throws -> Int {
        try await self.database.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM agency") ?? 0 }
    }

    // MARK: The change log

    static func appendChange(
        _ db: any SQLSession,
        entity: String,
        id: String,
        action: String,
        _ change: ChangeStamp
    ) throws {
        try db.execute(
            "INSERT INTO change_log (entity, entity_id, action, who, at_ms, why) VALUES (?, ?, ?, ?, ?, ?)",
            [entity, id, action, change.who, change.at, change.why]
        )
    }
}
