import AccordMessages
import AccordPaging
import AccordRPC
import GRDB

extension IntakeService {
    /// A sheet row after normalization, or why it cannot be taken.
    enum ParsedRow {
        case participating(AgencyFields, Model, signedOn: CalendarDate, moa: String?)
        case pending(AgencyFields, Model)
        case rejected(String)
    }

    /// Normalizes one row: trims, case-folds the model and type, reads `#N/A` counties as none,
    /// and refuses (with the reason) what it cannot read. It never guesses.
    static func parse(_ row: SheetRow, kind: SheetKind, today: CalendarDate) -> ParsedRow {
        guard let name = row.agency.map(Normalize.trimmed), !name.isEmpty else {
            return .rejected("agency name is missing")
        }
        guard name.count <= IntakeValidation.maxNameLength else { return .rejected("agency name is too long") }
        guard let stateText = row.state.map(Normalize.trimmed), !stateText.isEmpty else {
            return .rejected("state is missing")
        }
        guard let state = USStates.code(for: stateText) else { return .rejected("unknown state \"\(stateText)\"") }
        guard let typeText = row.type, let type = Normalize.agencyType(typeText) else {
            return .rejected("unknown agency type \"\(Normalize.trimmed(row.type ?? ""))\"")
        }
        guard let modelText = row.supportType, let model = Normalize.model(modelText) else {
            return .rejected("unknown model \"\(Normalize.trimmed(row.supportType ?? ""))\"")
        }
        let fields = AgencyFields(
            state: state,
            name: name,
            type: type,
            county: Normalize.county(row.county),
            ori: nil,
            hasJail: nil,
            jailCapacity: nil
        )
        switch kind {
        case .pending:
            return .pending(fields, model)
        default:
            guard let signedText = row.signed.map(Normalize.trimmed), !signedText.isEmpty else {
                return .rejected("signed date is missing")
            }
            guard let signed = CalendarDate(sheet: signedText) else {
                return .rejected("signed date \"\(signedText)\" is not a date")
            }
            // The program's first agreements were signed in 2002.
            guard signed.year >= 2002, signed <= today else {
                return .rejected("signed date \(signed) is implausible")
            }
            let moa = row.moa.map(Normalize.trimmed).flatMap { $0.isEmpty ? nil : $0 }
            return .participating(fields, model, signedOn: signed, moa: moa)
        }
    }

    func importSheet(_ request: ImportSheetRequest, _ context: ServerContext) async throws -> ImportSheetResponse {
        try self.requireProgramOffice(try self.principal(context), "import ICE sheets")
        let kind = try IntakeValidation.known(request.kind, field: "kind")
        let sheet = try IntakeValidation.text(request.sheet, field: "sheet", maxLength: 100)
        guard request.rows.count <= Self.maxRowsPerImport else {
            throw RPCError.invalidArgument(field: "rows", "send at most \(Self.maxRowsPerImport) rows per call")
        }
        let today = self.today
        let parsed = request.rows.map { (line: $0.line ?? 0, row: Self.parse($0, kind: kind, today: today)) }
        let who = self.who(context)
        let now = self.now()
        return try await self.store.write { db in
            var response = ImportSheetResponse(read: UInt32(parsed.count), imported: 0, unchanged: 0, rejected: 0)
            for (line, row) in parsed {
                let changed: Bool
                switch row {
                case .rejected(let reason):
                    response.rejections.append(RowRejection(line: line, reason: reason))
                    continue
                case .participating(let fields, let model, let signedOn, let moa):
                    let (agencyRowid, created) = try Self.matchOrCreateAgency(
                        db,
                        fields,
                        sheet: sheet,
                        who: who,
                        at: now
                    )
                    try db.execute(
                        sql: """
                            INSERT INTO imported_agreement (agency_rowid, model, signed_on, moa_link, sheet)
                            VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                            """,
                        arguments: [agencyRowid, model.rawValue, signedOn.description, moa, sheet]
                    )
                    changed = created || db.changesCount > 0
                    if db.changesCount > 0 {
                        try db.execute(
                            sql:
                                "INSERT INTO outbox (kind, subject_rowid, revision, created_at_ms) VALUES ('agreement', ?, NULL, ?)",
                            arguments: [db.lastInsertedRowID, now]
                        )
                    }
                case .pending(let fields, let model):
                    let (agencyRowid, created) = try Self.matchOrCreateAgency(
                        db,
                        fields,
                        sheet: sheet,
                        who: who,
                        at: now
                    )
                    let source = "ice-sheet:\(sheet)"
                    let existing = try Int.fetchOne(
                        db,
                        sql:
                            "SELECT 1 FROM request WHERE agency_rowid = ? AND model = ? AND partner = ? AND source = ?",
                        arguments: [agencyRowid, model.rawValue, FederalPartner.ice.rawValue, source]
                    )
                    if existing == nil {
                        let request = RequestFields(
                            agencyRowid: agencyRowid,
                            model: model,
                            partner: .ice,
                            consent: ("", "", ""),
                            needs: (0, 0, 0)
                        )
                        do {
                            _ = try Self.insertRequest(
                                db,
                                request,
                                status: .received,
                                source: source,
                                who: who,
                                at: now,
                                why: "imported"
                            )
                        } catch let error as RPCError where error.code == .alreadyExists {
                            response.rejections.append(RowRejection(line: line, reason: error.message))
                            continue
                        }
                    }
                    changed = created || existing == nil
                }
                if changed { response.imported! += 1 } else { response.unchanged! += 1 }
            }
            response.rejected = UInt32(response.rejections.count)
            return response
        }
    }

    /// The agency with this state and name, created from the sheet's facts when there is none.
    static func matchOrCreateAgency(
        _ db: Database,
        _ fields: AgencyFields,
        sheet: String,
        who: String,
        at now: Int64
    )
        throws -> (rowid: Int64, created: Bool)
    {
        if let rowid = try Int64.fetchOne(
            db,
            sql: "SELECT rowid FROM agency WHERE state = ? AND name_key = ?",
            arguments: [fields.state, Normalize.key(fields.name)]
        ) {
            return (rowid, false)
        }
        let agency = try Self.insertAgency(db, fields, who: who, at: now, why: "imported from ICE sheet \(sheet)")
        return (IntakeRecords.rowid(agency.id!, prefix: "ag")!, true)
    }

    func listImportedAgreements(
        _ request: ListImportedAgreementsRequest,
        _ context: ServerContext
    ) async throws
        -> ListImportedAgreementsResponse
    {
        let agencyRowid: Int64? = try request.agencyId.map { id in
            guard let rowid = IntakeRecords.rowid(id, prefix: "ag") else {
                throw RPCError.invalidArgument(field: "agency_id", "\(id) is not an agency id")
            }
            return rowid
        }
        if let only = try self.agencyLimit(try self.principal(context)), agencyRowid != only {
            throw RPCError(.permissionDenied, "an agency sees only its own agreements: give its agency_id")
        }
        let fingerprint = agencyRowid.map { ["agency=\($0)"] } ?? []
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: fingerprint)
        return try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("agency_rowid", agencyRowid)
            filter.add("rowid > ?", [after.afterRowid])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM imported_agreement WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                arguments: filter.arguments + [size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: fingerprint)
            return ListImportedAgreementsResponse(
                agreements: page.map { row in
                    ImportedAgreement(
                        agencyId: IntakeRecords.agencyID(row["agency_rowid"]),
                        model: Model(rawValue: row["model"]),
                        signedOn: row["signed_on"],
                        moaLink: row["moa_link"],
                        sheet: row["sheet"]
                    )
                },
                page: next
            )
        }
    }
}
