import AccordMessages
import AccordServiceKit
import AccordStorage

extension SQLIntakeStore {
    func importRows(
        _ rows: [(line: UInt32, row: ParsedSheetRow)],
        sheet: String,
        _ change: ChangeStamp
    ) async throws -> ImportSheetResponse {
        try await self.database.write { db in
            var response = ImportSheetResponse(read: UInt32(rows.count), imported: 0, unchanged: 0, rejected: 0)
            for (line, row) in rows {
                do {
                    let changed = try Self.importRow(db, row, sheet: sheet, change)
                    if changed { response.imported! += 1 } else { response.unchanged! += 1 }
                } catch let rejection as SheetRowRejection {
                    response.rejections.append(RowRejection(line: line, reason: rejection.reason))
                }
            }
            response.rejected = UInt32(response.rejections.count)
            return response
        }
    }

    /// Why one row was not taken.
    private struct SheetRowRejection: Error {
        let reason: String
    }

    /// Takes one row; returns whether it changed anything.
    private static func importRow(
        _ db: any SQLSession,
        _ row: ParsedSheetRow,
        sheet: String,
        _ change: ChangeStamp
    ) throws
        -> Bool
    {
        switch row {
        case .rejected(let reason):
            throw SheetRowRejection(reason: reason)
        case .participating(let fields, let model, let signedOn, let moa):
            let (agencyRowid, created) = try self.matchOrCreateAgency(db, fields, sheet: sheet, change)
            let added = try self.recordImportedAgreement(db, agencyRowid, model, signedOn, moa, sheet, at: change.at)
            return created || added
        case .pending(let fields, let model):
            let (agencyRowid, created) = try self.matchOrCreateAgency(db, fields, sheet: sheet, change)
            let submitted = try self.importPendingRequest(db, agencyRowid, model, sheet: sheet, change)
            return created || submitted
        }
    }

    /// Records an agreement of a participating sheet and queues it for supervision, unless the
    /// same agency, model and signing date is recorded already; returns whether it was new.
    private static func recordImportedAgreement(
        _ db: any SQLSession,
        _ agencyRowid: Int64,
        _ model: Model,
        _ signedOn: CalendarDate,
        _ moa: String?,
        _ sheet: String,
        at now: Int64
    ) throws -> Bool {
        let rowid = try db.value(
            Int64.self,
            """
            INSERT INTO imported_agreement (agency_rowid, model, signed_on, moa_link, sheet)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING rowid
            """,
            [agencyRowid, model.rawValue, signedOn.description, moa, sheet]
        )
        guard let rowid else { return false }
        try db.execute(
            "INSERT INTO outbox (kind, subject_rowid, revision, created_at_ms) VALUES ('agreement', ?, NULL, ?)",
            [rowid, now]
        )
        return true
    }

    /// Submits the request of a pending sheet's row, unless that sheet's row was taken before;
    /// returns whether it submitted one.
    private static func importPendingRequest(
        _ db: any SQLSession,
        _ agencyRowid: Int64,
        _ model: Model,
        sheet: String,
        _ change: ChangeStamp
    ) throws -> Bool {
        let source = "ice-sheet:\(sheet)"
        let existing = try db.value(
            Int.self,
            "SELECT 1 FROM request WHERE agency_rowid = ? AND model = ? AND partner = ? AND source = ?",
            [agencyRowid, model.rawValue, FederalPartner.ice.rawValue, source]
        )
        guard existing == nil else { return false }
        let fields = RequestFields(agencyRowid: agencyRowid, model: model, partner: .ice, consent: nil, needs: nil)
        do {
            _ = try self.insertRequest(db, fields, source: source, change.because("imported"))
        } catch let error as IntakeStoreError {
            throw SheetRowRejection(reason: error.rpcError.message)
        }
        return true
    }

    /// The agency with this state and name, created from the sheet's facts when there is none.
    private static func matchOrCreateAgency(
        _ db: any SQLSession,
        _ fields: AgencyFields,
        sheet: String,
        _ change: ChangeStamp
    ) throws -> (rowid: Int64, created: Bool) {
        if let rowid = try db.value(
            Int64.self,
            "SELECT rowid FROM agency WHERE state = ? AND name_key = ?",
            [fields.state, Normalize.key(fields.name)]
        ) {
            return (rowid, false)
        }
        let agency = try self.insertAgency(db, fields, change.because("imported from ICE sheet \(sheet)"))
        return (RecordID.rowid(of: agency.id), true)
    }

    func importedAgreements(
        agencyRowid: Int64?,
        after: Int64,
        limit: Int
    ) async throws -> [(rowid: Int64, agreement: ImportedAgreement)] {
        var filter = SQLFilter()
        filter.equal("agency_rowid", agencyRowid)
        filter.add("rowid > ?", [after])
        return try await self.database.read { [filter] db in
            try db.rows(
                "SELECT * FROM imported_agreement WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                filter.arguments + [limit]
            ).map { (rowid: $0["rowid"], agreement: IntakeRows.importedAgreement($0)) }
        }
    }

    // MARK: Engagements

    func recordEngagement(_ fields: EngagementFields, _ change: ChangeStamp) async throws -> Engagement {
        try await self.database.write { db in
            if let agency = fields.agencyRowid, try Self.loadAgency(db, agency) == nil {
                throw IntakeStoreError.agencyNotFound(IntakeRecords.agencyID(agency))
            }
            let rowid = try db.value(
                Int64.self,
                """
                INSERT INTO engagement (state, official_name, office, agency_rowid, contacted_on, channel, outcome,
                    follow_up_on, notes, created_by, created_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rowid
                """,
                [
                    fields.state, fields.officialName, fields.office, fields.agencyRowid, fields.contactedOn,
                    fields.channel.rawValue, fields.outcome.rawValue, fields.followUpOn, fields.notes, change.who,
                    change.at,
                ]
            )!
            try Self.appendChange(
                db,
                entity: "engagement",
                id: IntakeRecords.engagementID(rowid),
                action: "record",
                change.because(nil)
            )
            return IntakeRows.engagement(
                try db.row("SELECT * FROM engagement WHERE rowid = ?", [rowid])!
            )
        }
    }

    func engagements(_ filter: EngagementFilter, after: Int64, limit: Int) async throws -> [Engagement] {
        var conditions = SQLFilter()
        conditions.equal("state", filter.state)
        conditions.equal("outcome", filter.outcome?.rawValue)
        if let day = filter.followUpBefore {
            conditions.add("follow_up_on IS NOT NULL AND follow_up_on < ?", [day])
        }
        conditions.add("rowid > ?", [after])
        return try await self.database.read { [conditions] db in
            try db.rows(
                "SELECT * FROM engagement WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
                conditions.arguments + [limit]
            ).map(IntakeRows.engagement)
        }
    }
}
