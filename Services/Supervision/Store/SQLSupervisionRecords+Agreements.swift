import AccordCalendar
import AccordMessages
import AccordStorage

extension SQLSupervisionRecords {
    func agreement(_ rowid: Int64) throws -> Agreement? {
        guard
            let row = try db.row("SELECT * FROM agreement WHERE rowid = ?", [rowid])
        else { return nil }
        let addenda = try db.rows(
            "SELECT title, link, signed_on FROM addendum WHERE agreement_rowid = ? ORDER BY rowid",
            [rowid]
        ).map { Addendum(title: $0["title"], link: $0["link"], signedOn: $0["signed_on"]) }
        return SupervisionRows.agreement(row, addenda: addenda)
    }

    func agreements(_ filter: AgreementFilter, after: Int64, limit: Int) throws -> [Agreement] {
        var conditions = SQLFilter()
        conditions.equal("agency_id", filter.agencyID)
        conditions.equal("state", filter.state)
        conditions.equal("model", filter.model?.rawValue)
        conditions.equal("partner", filter.partner?.rawValue)
        if let t = filter.asOf {
            return try self.agreements(conditions, asOf: t, filter.status, after: after, limit: limit)
        }
        conditions.equal("status", filter.status?.rawValue)
        conditions.add("rowid > ?", [after])
        return try self.rowids(
            "SELECT rowid FROM agreement WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
            conditions.arguments + [limit]
        ).compactMap { try self.agreement($0) }
    }

    /// The agreements that existed at `t` (they had a status by then), each with its status then;
    /// a termination under notice whose effective day has come is shown terminated.
    private func agreements(
        _ matching: SQLFilter,
        asOf t: Int64,
        _ status: AgreementStatus?,
        after: Int64,
        limit: Int
    ) throws -> [Agreement] {
        let statusThen = """
            (SELECT s.status FROM agreement_status s WHERE s.agreement_rowid = agreement.rowid AND s.at_ms <= ?
             ORDER BY s.at_ms DESC, s.rowid DESC LIMIT 1)
            """
        var conditions = matching
        conditions.add("\(statusThen) IS NOT NULL", [t])
        if let status { conditions.add("\(statusThen) = ?", [t, status.rawValue]) }
        conditions.add("rowid > ?", [after])
        let today = Day(unixMilliseconds: t)
        return try db.rows(
            "SELECT rowid, \(statusThen) AS status_then FROM agreement WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
            [t] + conditions.arguments + [limit]
        ).compactMap { row -> Agreement? in
            guard var agreement = try self.agreement(row["rowid"]) else { return nil }
            agreement.status = AgreementStatus(rawValue: row["status_then"])
            if agreement.status == .terminationNoticed,
                let effective = agreement.terminationEffectiveOn.flatMap(Day.init), effective <= today
            {
                agreement.status = .terminated
            }
            return agreement
        }
    }

    /// The statuses of an open agreement, as stored.
    private static let openStatuses = "(1, 2, 3, 4)"

    func openAgreement(agencyID: String, model: Model) throws -> Int64? {
        try self.rowid(
            """
            SELECT rowid FROM agreement WHERE agency_id = ? AND model = ? AND status IN \(Self.openStatuses)
            AND NOT (supersedes IS NOT NULL AND status = ?) LIMIT 1
            """,
            [agencyID, model.rawValue, AgreementStatus.offered.rawValue]
        )
    }

    func activeAgreement(agencyID: String, model: Model) throws -> Int64? {
        try self.rowid(
            "SELECT rowid FROM agreement WHERE agency_id = ? AND model = ? AND status = ? ORDER BY rowid DESC LIMIT 1",
            [agencyID, model.rawValue, AgreementStatus.active.rawValue]
        )
    }

    func importedAgreement(key: String) throws -> Int64? {
        try self.rowid("SELECT rowid FROM agreement WHERE import_key = ?", [key])
    }

    func insertAgreement(_ agreement: NewAgreement, _ change: Change) throws -> Int64 {
        try self.insert(
            """
            INSERT INTO agreement (agency_id, agency_name, state, model, partner, office, status, request_id,
                federal_signed_on, agency_signed_on, effective_on, review_due_on, moa_link, created_by, created_at_ms,
                source, import_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                agreement.agencyID, agreement.agencyName, agreement.state, agreement.model.rawValue,
                agreement.partner.rawValue, agreement.office, agreement.status.rawValue, agreement.requestID,
                agreement.signedOn, agreement.signedOn, agreement.signedOn, agreement.reviewDueOn, agreement.moaLink,
                change.who, change.at, agreement.source, agreement.importKey,
            ]
        )
    }

    func insertRenewal(of rowid: Int64, office: String?, _ change: Change) throws -> Int64 {
        try self.insert(
            """
            INSERT INTO agreement (agency_id, agency_name, state, model, partner, office, status, request_id,
                supersedes, moa_link, created_by, created_at_ms, source, supervisor_rowid)
            SELECT agency_id, agency_name, state, model, partner, coalesce(?, office), ?, request_id, rowid, NULL,
                ?, ?, 'api', supervisor_rowid
            FROM agreement WHERE rowid = ?
            """,
            [office, AgreementStatus.offered.rawValue, change.who, change.at, rowid]
        )
    }

    func updateAgreement(_ rowid: Int64, _ update: AgreementUpdate) throws {
        var columns: [(String, (any SQLValueConvertible)?)] = []
        if let signature = update.signature {
            columns += [("\(signature.party)_signed_by", signature.by), ("\(signature.party)_signed_on", signature.on)]
        }
        if let day = update.effectiveOn { columns.append(("effective_on", day)) }
        if let day = update.reviewDueOn { columns.append(("review_due_on", day)) }
        if let suspension = update.suspension {
            columns += [
                ("suspension_reason", suspension.reason), ("suspension_days", Int64(suspension.days)),
                ("suspension_response", suspension.response),
            ]
        }
        if let termination = update.termination {
            columns += [
                ("termination_reason", termination.reason), ("termination_noticed_on", termination.noticedOn),
                ("termination_effective_on", termination.effectiveOn),
            ]
        }
        if let supervisor = update.supervisor { columns.append(("supervisor_rowid", supervisor)) }
        if let renewal = update.supersededBy { columns.append(("superseded_by", renewal)) }
        try self.update("agreement", rowid, columns)
        if let suffix = update.sourceSuffix {
            try db.execute("UPDATE agreement SET source = source || ? WHERE rowid = ?", [suffix, rowid])
        }
    }

    func setAgreementStatus(_ rowid: Int64, _ status: AgreementStatus, at moment: Int64, _ change: Change) throws {
        try db.execute(
            "UPDATE agreement SET status = ?, updated_by = ?, updated_at_ms = ?, updated_why = ? WHERE rowid = ?",
            [status.rawValue, change.who, change.at, change.why, rowid]
        )
        try self.audit("agreement", rowid, "status:\(status.protoName)", change)
        let history = try self.insert(
            "INSERT INTO agreement_status (agreement_rowid, status, at_ms) VALUES (?, ?, ?)",
            [rowid, status.rawValue, moment]
        )
        try self.audit("agreement_status", history, "status:\(status.protoName)", change)
    }

    func agreementStatus(_ rowid: Int64, at moment: Int64) throws -> AgreementStatus? {
        guard
            let row = try db.row(
                """
                SELECT s.status, a.termination_effective_on
                FROM agreement_status s JOIN agreement a ON a.rowid = s.agreement_rowid
                WHERE s.agreement_rowid = ? AND s.at_ms <= ? ORDER BY s.at_ms DESC, s.rowid DESC LIMIT 1
                """,
                [rowid, moment]
            )
        else { return nil }
        let status = AgreementStatus(rawValue: row["status"])
        if status == .terminationNoticed,
            let effective = (row["termination_effective_on"] as String?).flatMap(Day.init),
            effective.startMilliseconds <= moment
        {
            return .terminated
        }
        return status
    }

    func agreementRenewed(by rowid: Int64) throws -> Int64? {
        try self.rowid("SELECT rowid FROM agreement WHERE superseded_by = ?", [rowid])
    }

    func pendingRenewal(of rowid: Int64) throws -> Int64? {
        try self.rowid(
            "SELECT rowid FROM agreement WHERE supersedes = ? AND status = ?",
            [rowid, AgreementStatus.offered.rawValue]
        )
    }

    func dueTerminations(onOrBefore day: String) throws -> [(rowid: Int64, effectiveOn: String)] {
        try db.rows(
            """
            SELECT rowid, termination_effective_on FROM agreement
            WHERE status IN (3, 4) AND termination_effective_on IS NOT NULL AND termination_effective_on <= ?
            """,
            [day]
        ).map { (rowid: $0["rowid"], effectiveOn: $0["termination_effective_on"]) }
    }

    func insertAddendum(agreement: Int64, title: String, link: String?, signedOn: String, _ change: Change) throws {
        let rowid = try self.insert(
            "INSERT INTO addendum (agreement_rowid, title, link, signed_on) VALUES (?, ?, ?, ?)",
            [agreement, title, link, signedOn]
        )
        try self.audit("addendum", rowid, "add", change)
    }

    func queueProgress(requestID: String, _ status: RequestStatus, agreement: Int64, at moment: Int64) throws {
        try db.execute(
            "INSERT INTO outbox (request_id, status, agreement_rowid, created_at_ms) VALUES (?, ?, ?, ?)",
            [requestID, status.rawValue, agreement, moment]
        )
    }
}
