import AccordMessages
import AccordPaging
import AccordRPC
import GRDB

extension IntakeService {
    /// A checked agency, ready to store.
    struct AgencyFields: Sendable {
        var state: String
        var name: String
        var type: AgencyType
        var county: String?
        var ori: String?
        var hasJail: Bool?
        var jailCapacity: UInt32?
    }

    static func validate(_ agency: Agency?, prefix: String) throws -> AgencyFields {
        guard let agency else { throw RPCError.invalidArgument(field: prefix, "is required") }
        let state = try IntakeValidation.state(agency.state, field: "\(prefix).state")
        let fields = AgencyFields(
            state: state,
            name: try IntakeValidation.text(agency.name, field: "\(prefix).name"),
            type: try IntakeValidation.known(agency.type, field: "\(prefix).type"),
            county: Normalize.county(try IntakeValidation.optionalText(agency.county, field: "\(prefix).county")),
            ori: try IntakeValidation.ori(agency.ori, state: state, field: "\(prefix).ori"),
            hasJail: agency.hasJail,
            jailCapacity: agency.jailCapacity
        )
        if let capacity = fields.jailCapacity {
            guard capacity <= 100_000 else {
                throw RPCError.invalidArgument(field: "\(prefix).jail_capacity", "\(capacity) is more than 100000")
            }
            guard fields.hasJail == true || capacity == 0 else {
                throw RPCError.invalidArgument(field: "\(prefix).jail_capacity", "is set but has_jail is not true")
            }
        }
        return fields
    }

    func registerAgency(_ request: RegisterAgencyRequest, _ context: ServerContext) async throws -> Agency {
        try self.requireProgramOffice(try self.principal(context), "register agencies")
        let fields = try Self.validate(request.agency, prefix: "agency")
        let reason = try IntakeValidation.optionalText(
            request.reason,
            field: "reason",
            maxLength: IntakeValidation.maxReasonLength
        )
        let who = self.who(context)
        let now = self.now()
        return try await self.store.write { db in
            try Self.insertAgency(db, fields, who: who, at: now, why: reason)
        }
    }

    /// Inserts an agency, or throws ALREADY_EXISTS naming the one with the same state and name,
    /// or the same ORI.
    static func insertAgency(
        _ db: Database,
        _ fields: AgencyFields,
        who: String,
        at now: Int64,
        why: String?
    ) throws
        -> Agency
    {
        let key = Normalize.key(fields.name)
        if let existing = try Row.fetchOne(
            db.cachedStatement(
                sql:
                    "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE (state = ? AND name_key = ?) OR (ori IS NOT NULL AND ori = ?)"
            ),
            arguments: [fields.state, key, fields.ori]
        ) {
            let agency = IntakeRecords.agency(existing)
            let what = agency.ori != nil && agency.ori == fields.ori ? "ORI \(fields.ori!)" : "name in \(fields.state)"
            throw RPCError(
                .alreadyExists,
                "agency \(agency.id!) (\(agency.name!), \(agency.state!)) already has this \(what)",
                details: ErrorDetails(
                    reason: "DUPLICATE_AGENCY",
                    metadata: [KeyValue(key: "agency_id", value: agency.id)]
                )
            )
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO agency (state, name, name_key, type, county, ori, has_jail, jail_capacity,
                    created_by, created_at_ms, created_why, updated_by, updated_at_ms, updated_why)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                fields.state, fields.name, key, fields.type.rawValue, fields.county, fields.ori,
                fields.hasJail.map { $0 ? 1 : 0 }, fields.jailCapacity.map { Int64($0) },
                who, now, why, who, now, why,
            ]
        )
        let rowid = db.lastInsertedRowID
        try IntakeRecords.appendChange(
            db,
            entity: "agency",
            id: IntakeRecords.agencyID(rowid),
            action: "register",
            who: who,
            at: now,
            why: why
        )
        let change = ChangeInfo(who: who, atMs: now, why: why)
        return Agency(
            id: IntakeRecords.agencyID(rowid),
            state: fields.state,
            name: fields.name,
            type: fields.type,
            county: fields.county,
            ori: fields.ori,
            hasJail: fields.hasJail,
            jailCapacity: fields.jailCapacity,
            created: change,
            updated: change
        )
    }

    func updateAgency(_ request: UpdateAgencyRequest, _ context: ServerContext) async throws -> Agency {
        guard let id = request.agency?.id else { throw RPCError.invalidArgument(field: "agency.id", "is required") }
        guard let rowid = IntakeRecords.rowid(id, prefix: "ag") else {
            throw RPCError.invalidArgument(field: "agency.id", "\(id) is not an agency id")
        }
        try self.requireAgencyAccess(try self.principal(context), agencyRowid: rowid, write: true)
        let reason = try IntakeValidation.optionalText(
            request.reason,
            field: "reason",
            maxLength: IntakeValidation.maxReasonLength
        )
        let patch = request.agency!
        let clearable = ["county", "ori", "has_jail", "jail_capacity"]
        let given: [String: Bool] = [
            "county": patch.county != nil, "ori": patch.ori != nil, "has_jail": patch.hasJail != nil,
            "jail_capacity": patch.jailCapacity != nil,
        ]
        for name in request.clear {
            guard clearable.contains(name) else {
                throw RPCError.invalidArgument(
                    field: "clear",
                    "\(name) cannot be cleared (only \(clearable.joined(separator: ", ")))"
                )
            }
            if given[name] == true {
                throw RPCError.invalidArgument(field: "clear", "\(name) is both given and cleared")
            }
        }
        let clear = Set(request.clear)
        let who = self.who(context)
        let now = self.now()
        return try await self.store.write { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE rowid = ?"),
                    arguments: [rowid]
                )
            else {
                throw RPCError(.notFound, "agency \(id) not found")
            }
            var merged = IntakeRecords.agency(row)
            if let value = patch.state { merged.state = value }
            if let value = patch.name { merged.name = value }
            if let value = patch.type { merged.type = value }
            if let value = patch.county { merged.county = value }
            if let value = patch.ori { merged.ori = value }
            if let value = patch.hasJail { merged.hasJail = value }
            if let value = patch.jailCapacity { merged.jailCapacity = value }
            if clear.contains("county") { merged.county = nil }
            if clear.contains("ori") { merged.ori = nil }
            if clear.contains("has_jail") { merged.hasJail = nil }
            if clear.contains("jail_capacity") { merged.jailCapacity = nil }
            let fields = try Self.validate(merged, prefix: "agency")
            let key = Normalize.key(fields.name)
            if let clash = try Row.fetchOne(
                db,
                sql:
                    "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE rowid != ? AND ((state = ? AND name_key = ?) OR (ori IS NOT NULL AND ori = ?))",
                arguments: [rowid, fields.state, key, fields.ori]
            ) {
                let other = IntakeRecords.agency(clash)
                throw RPCError(
                    .alreadyExists,
                    "agency \(other.id!) (\(other.name!), \(other.state!)) already has this name or ORI",
                    details: ErrorDetails(
                        reason: "DUPLICATE_AGENCY",
                        metadata: [KeyValue(key: "agency_id", value: other.id)]
                    )
                )
            }
            try db.execute(
                sql: """
                    UPDATE agency SET state = ?, name = ?, name_key = ?, type = ?, county = ?, ori = ?, has_jail = ?,
                        jail_capacity = ?, updated_by = ?, updated_at_ms = ?, updated_why = ?
                    WHERE rowid = ?
                    """,
                arguments: [
                    fields.state, fields.name, key, fields.type.rawValue, fields.county, fields.ori,
                    fields.hasJail.map { $0 ? 1 : 0 }, fields.jailCapacity.map { Int64($0) }, who, now, reason, rowid,
                ]
            )
            try IntakeRecords.appendChange(
                db,
                entity: "agency",
                id: id,
                action: "update",
                who: who,
                at: now,
                why: reason
            )
            return IntakeRecords.agency(
                try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE rowid = ?"),
                    arguments: [rowid]
                )!
            )
        }
    }

    func getAgency(_ request: GetAgencyRequest, _ context: ServerContext) async throws -> Agency {
        let key = try IntakeValidation.text(request.agency, field: "agency", maxLength: 40)
        let principal = try self.principal(context)
        return try await self.store.read { db in
            let row: Row?
            if let rowid = IntakeRecords.rowid(key, prefix: "ag") {
                row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE rowid = ?"),
                    arguments: [rowid]
                )
            } else {
                row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE ori = ?"),
                    arguments: [key.uppercased()]
                )
            }
            guard let row else { throw RPCError(.notFound, "agency \(key) not found (give an agency id or an ORI)") }
            try self.requireAgencyAccess(principal, agencyRowid: row[0], write: false)
            return IntakeRecords.agency(row)
        }
    }

    /// The WHERE clause and arguments of an agency list, and the filters that tie a page token to it.
    static func agencyFilters(
        state: String?,
        type: AgencyType?,
        county: String?,
        namePrefix: String?,
        onlyRowid: Int64? = nil
    ) throws
        -> (sql: String, arguments: StatementArguments, fingerprint: [String])
    {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        var fingerprint: [String] = []
        if let state {
            let code = try IntakeValidation.state(state, field: "state")
            clauses.append("state = ?")
            arguments += [code]
            fingerprint.append("state=\(code)")
        }
        if let type {
            let known = try IntakeValidation.known(type, field: "type")
            clauses.append("type = ?")
            arguments += [known.rawValue]
            fingerprint.append("type=\(known.rawValue)")
        }
        if let county = try IntakeValidation.optionalText(county, field: "county") {
            clauses.append("county = ? COLLATE NOCASE")
            arguments += [county]
            fingerprint.append("county=\(county.lowercased())")
        }
        if let prefix = try IntakeValidation.optionalText(namePrefix, field: "name_prefix") {
            let key = Normalize.key(prefix)
            clauses.append("name_key >= ? AND name_key < ?")
            arguments += [key, key + "\u{10FFFF}"]
            fingerprint.append("prefix=\(key)")
        }
        if let onlyRowid {
            clauses.append("rowid = ?")
            arguments += [onlyRowid]
            fingerprint.append("only=\(onlyRowid)")
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), arguments, fingerprint)
    }

    func listAgencies(_ request: ListAgenciesRequest, _ context: ServerContext) async throws -> ListAgenciesResponse {
        let filters = try Self.agencyFilters(
            state: request.state,
            type: request.type,
            county: request.county,
            namePrefix: request.namePrefix,
            onlyRowid: try self.agencyLimit(try self.principal(context))
        )
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: filters.fingerprint)
        return try await self.store.read { db in
            var arguments = filters.arguments
            arguments += [after.afterRowid, size + 1]
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql:
                        "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE \(filters.sql) AND rowid > ? ORDER BY rowid LIMIT ?"
                ),
                arguments: arguments
            )
            let (page, next) = PageToken.split(rows, size: size, filters: filters.fingerprint)
            return ListAgenciesResponse(agencies: page.map(IntakeRecords.agency), page: next)
        }
    }

    func exportAgencies(
        _ request: ExportAgenciesRequest,
        _ context: ServerContext,
        _ stream: ResponseStream<Agency>
    ) async throws {
        let filters = try Self.agencyFilters(
            state: request.state,
            type: nil,
            county: nil,
            namePrefix: nil,
            onlyRowid: try self.agencyLimit(try self.principal(context))
        )
        var after: Int64 = 0
        while true {
            let start = after
            let batch = try await self.store.read { db in
                var arguments = filters.arguments
                arguments += [start, 500]
                return try Row.fetchAll(
                    db,
                    sql:
                        "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE \(filters.sql) AND rowid > ? ORDER BY rowid LIMIT ?",
                    arguments: arguments
                ).map { (rowid: $0["rowid"] as Int64, agency: IntakeRecords.agency($0)) }
            }
            for item in batch { try await stream.send(item.agency) }
            guard batch.count == 500, let last = batch.last else { return }
            after = last.rowid
        }
    }
}
