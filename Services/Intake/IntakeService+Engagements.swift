import AccordMessages
import AccordPaging
import AccordRPC
import GRDB

extension IntakeService {
    func recordEngagement(_ request: RecordEngagementRequest, _ context: ServerContext) async throws -> Engagement {
        try self.requireProgramOffice(try self.principal(context), "record engagements")
        guard let body = request.engagement else { throw RPCError.invalidArgument(field: "engagement", "is required") }
        let today = self.today
        let state = try IntakeValidation.state(body.state, field: "engagement.state")
        let official = try IntakeValidation.text(body.officialName, field: "engagement.official_name")
        let office = try IntakeValidation.text(body.office, field: "engagement.office", maxLength: 100)
        let contacted = try IntakeValidation.pastDate(body.contactedOn, field: "engagement.contacted_on", today: today)
        let channel = try IntakeValidation.known(body.channel, field: "engagement.channel")
        let outcome = try IntakeValidation.known(body.outcome, field: "engagement.outcome")
        var followUp: CalendarDate?
        if let text = try IntakeValidation.optionalText(
            body.followUpOn,
            field: "engagement.follow_up_on",
            maxLength: 10
        ) {
            guard let date = CalendarDate(iso: text) else {
                throw RPCError.invalidArgument(field: "engagement.follow_up_on", "\(text) is not a date as YYYY-MM-DD")
            }
            guard date >= contacted else {
                throw RPCError.invalidArgument(field: "engagement.follow_up_on", "\(text) is before the contact")
            }
            followUp = date
        }
        let notes = try IntakeValidation.optionalText(body.notes, field: "engagement.notes", maxLength: 4000)
        var agencyRowid: Int64?
        if let id = body.agencyId {
            guard let rowid = IntakeRecords.rowid(id, prefix: "ag") else {
                throw RPCError.invalidArgument(field: "engagement.agency_id", "\(id) is not an agency id")
            }
            agencyRowid = rowid
        }
        let agency = agencyRowid
        let followUpText = followUp?.description
        let who = self.who(context)
        let now = self.now()
        return try await self.store.write { db in
            if let agency, try Int.fetchOne(db, sql: "SELECT 1 FROM agency WHERE rowid = ?", arguments: [agency]) == nil
            {
                throw RPCError(.notFound, "agency \(IntakeRecords.agencyID(agency)) not found")
            }
            try db.execute(
                sql: """
                    INSERT INTO engagement (state, official_name, office, agency_rowid, contacted_on, channel, outcome,
                        follow_up_on, notes, created_by, created_at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    state, official, office, agency, contacted.description, channel.rawValue, outcome.rawValue,
                    followUpText, notes, who, now,
                ]
            )
            let rowid = db.lastInsertedRowID
            try IntakeRecords.appendChange(
                db,
                entity: "engagement",
                id: "en_\(rowid)",
                action: "record",
                who: who,
                at: now,
                why: nil
            )
            return Self.engagement(
                try Row.fetchOne(db, sql: "SELECT * FROM engagement WHERE rowid = ?", arguments: [rowid])!
            )
        }
    }

    static func engagement(_ row: Row) -> Engagement {
        Engagement(
            id: "en_\(row["rowid"] as Int64)",
            state: row["state"],
            officialName: row["official_name"],
            office: row["office"],
            agencyId: (row["agency_rowid"] as Int64?).map(IntakeRecords.agencyID),
            contactedOn: row["contacted_on"],
            channel: EngagementChannel(rawValue: row["channel"]),
            outcome: EngagementOutcome(rawValue: row["outcome"]),
            followUpOn: row["follow_up_on"],
            notes: row["notes"],
            created: ChangeInfo(who: row["created_by"], atMs: row["created_at_ms"])
        )
    }

    func listEngagements(
        _ request: ListEngagementsRequest,
        _ context: ServerContext
    ) async throws -> ListEngagementsResponse {
        guard try self.principal(context).role != .agency else {
            throw RPCError(.permissionDenied, "outreach records are for the program office, supervisors and auditors")
        }
        var clauses: [String] = []
        var arguments: StatementArguments = []
        var fingerprint: [String] = []
        if let state = request.state {
            let code = try IntakeValidation.state(state, field: "state")
            clauses.append("state = ?")
            arguments += [code]
            fingerprint.append("state=\(code)")
        }
        if let outcome = request.outcome {
            let known = try IntakeValidation.known(outcome, field: "outcome")
            clauses.append("outcome = ?")
            arguments += [known.rawValue]
            fingerprint.append("outcome=\(known.rawValue)")
        }
        if request.overdueFollowUp == true {
            let today = self.today.description
            clauses.append("follow_up_on IS NOT NULL AND follow_up_on < ?")
            arguments += [today]
            fingerprint.append("overdue=\(today)")
        }
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: fingerprint)
        arguments += [after.afterRowid, size + 1]
        let whereSQL = clauses.isEmpty ? "1" : clauses.joined(separator: " AND ")
        let finalArguments = arguments
        let finalFingerprint = fingerprint
        return try await self.store.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM engagement WHERE \(whereSQL) AND rowid > ? ORDER BY rowid LIMIT ?",
                arguments: finalArguments
            )
            let (page, next) = PageToken.split(rows, size: size, filters: finalFingerprint)
            return ListEngagementsResponse(engagements: page.map(Self.engagement), page: next)
        }
    }
}
