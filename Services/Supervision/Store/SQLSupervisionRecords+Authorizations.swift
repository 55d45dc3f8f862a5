import AccordMessages
import AccordStorage

extension SQLSupervisionRecords {
    // MARK: Supervisors

    func supervisor(_ rowid: Int64) throws -> Supervisor? {
        try db.row("SELECT * FROM supervisor WHERE rowid = ?", [rowid])
            .map(SupervisionRows.supervisor)
    }

    func supervisors(after: Int64, limit: Int) throws -> [Supervisor] {
        try db.rows("SELECT * FROM supervisor WHERE rowid > ? ORDER BY rowid LIMIT ?", [after, limit]).map(
            SupervisionRows.supervisor
        )
    }

    func insertSupervisor(name: String, component: FederalPartner, office: String, _ change: Change) throws -> Int64 {
        let rowid = try self.insert(
            "INSERT INTO supervisor (name, component, office, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?)",
            [name, component.rawValue, office, change.who, change.at]
        )
        try self.audit("supervisor", rowid, "create", change)
        return rowid
    }

    func recordAssignment(
        agreement: Int64?,
        authorization: Int64?,
        supervisor: Int64,
        from moment: Int64?,
        _ change: Change
    ) throws {
        let rowid = try self.insert(
            """
            INSERT INTO supervisor_assignment (agreement_rowid, authorization_rowid, supervisor_rowid, from_ms)
            VALUES (?, ?, ?, ?)
            """,
            [agreement, authorization, supervisor, moment ?? change.at]
        )
        try self.audit("supervisor_assignment", rowid, "assign", change.because(nil))
    }

    func assignedSupervisor(authorization: Int64, at moment: Int64) throws -> Int64? {
        try self.rowid(
            """
            SELECT supervisor_rowid FROM supervisor_assignment WHERE authorization_rowid = ? AND from_ms <= ?
            ORDER BY from_ms DESC, rowid DESC LIMIT 1
            """,
            [authorization, moment]
        )
    }

    func assignedSupervisor(agreement: Int64, at moment: Int64) throws -> Int64? {
        try self.rowid(
            """
            SELECT supervisor_rowid FROM supervisor_assignment WHERE agreement_rowid = ? AND from_ms <= ?
            ORDER BY from_ms DESC, rowid DESC LIMIT 1
            """,
            [agreement, moment]
        )
    }

    // MARK: Authorizations

    func authorization(_ rowid: Int64) throws -> Authorization? {
        try db.row("SELECT * FROM \"authorization\" WHERE rowid = ?", [rowid]).map(SupervisionRows.authorization)
    }

    func authorizations(_ filter: AuthorizationFilter, after: Int64, limit: Int) throws -> [Authorization] {
        if filter.asOf { return try self.authorizations(asOf: filter, after: after, limit: limit) }
        var conditions = SQLFilter()
        conditions.equal("agency_id", filter.agencyID)
        conditions.equal("agreement_rowid", filter.agreement)
        // Lapsed TFM authority is stored active or suspended and shown expired: the status filter
        // goes by what is shown.
        let lapsed = "expires_at_ms IS NOT NULL AND expires_at_ms <= ?"
        switch filter.status {
        case .some(let shown) where shown == .active || shown == .suspended:
            conditions.add("status = ? AND NOT (\(lapsed))", [shown.rawValue, filter.now])
        case .some(.expired):
            conditions.add(
                "(status = ? OR (status IN (?, ?) AND \(lapsed)))",
                [
                    AuthorizationStatus.expired.rawValue, AuthorizationStatus.active.rawValue,
                    AuthorizationStatus.suspended.rawValue, filter.now,
                ]
            )
        default:
            conditions.equal("status", filter.status?.rawValue)
        }
        conditions.add("rowid > ?", [after])
        return try db.rows(
            "SELECT * FROM \"authorization\" WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
            conditions.arguments + [limit]
        ).map(SupervisionRows.authorization)
    }

    /// Authorizations granted by `filter.now`, each with the status it had then: revoked,
    /// lapsed, suspended or active.
    private func authorizations(asOf filter: AuthorizationFilter, after: Int64, limit: Int) throws -> [Authorization] {
        let t = filter.now
        let statusThen = """
            CASE WHEN a.revoked_at_ms IS NOT NULL AND a.revoked_at_ms <= ? THEN 3
                WHEN a.expires_at_ms IS NOT NULL AND a.expires_at_ms <= ? THEN 4
                WHEN EXISTS (SELECT 1 FROM authorization_suspension s WHERE s.authorization_rowid = a.rowid
                    AND s.from_ms <= ? AND (s.until_ms IS NULL OR s.until_ms > ?)) THEN 2
                ELSE 1 END
            """
        let moments: SQLArguments = [t, t, t, t]
        var conditions = SQLFilter()
        conditions.add("a.authorized_at_ms <= ?", [t])
        conditions.equal("a.agency_id", filter.agencyID)
        conditions.equal("a.agreement_rowid", filter.agreement)
        if let status = filter.status { conditions.add("(\(statusThen)) = ?", moments + [status.rawValue]) }
        conditions.add("a.rowid > ?", [after])
        return try db.rows(
            """
            SELECT a.*, \(statusThen) AS status_then FROM "authorization" a
            WHERE \(conditions.sql) ORDER BY a.rowid LIMIT ?
            """,
            moments + conditions.arguments + [limit]
        ).map { row in
            var authorization = SupervisionRows.authorization(row)
            authorization.status = AuthorizationStatus(rawValue: row["status_then"])
            return authorization
        }
    }

    /// Active or suspended, as stored.
    private static let live = "status IN (1, 2)"

    func liveAuthorization(officerID: String) throws -> Int64? {
        try self.rowid("SELECT rowid FROM \"authorization\" WHERE officer_id = ? AND \(Self.live)", [officerID])
    }

    func liveAuthorizations(agreement: Int64) throws -> [Int64] {
        try self.rowids("SELECT rowid FROM \"authorization\" WHERE agreement_rowid = ? AND \(Self.live)", [agreement])
    }

    func latestAuthorization(officerID: String, agencyID: String?) throws -> Int64? {
        if let agencyID {
            return try self.rowid(
                "SELECT rowid FROM \"authorization\" WHERE officer_id = ? AND agency_id = ? ORDER BY rowid DESC LIMIT 1",
                [officerID, agencyID]
            )
        }
        return try self.rowid(
            "SELECT rowid FROM \"authorization\" WHERE officer_id = ? ORDER BY authorized_at_ms DESC, rowid DESC LIMIT 1",
            [officerID]
        )
    }

    func knowsOfficer(_ officerID: String) throws -> Bool {
        try db.value(
            Bool.self,
            """
            SELECT EXISTS (SELECT 1 FROM certification WHERE officer_id = ?1)
                OR EXISTS (SELECT 1 FROM "authorization" WHERE officer_id = ?1)
            """,
            [officerID]
        ) == true
    }

    func authority(officerID: String, at moment: Int64) throws -> AuthorityRecord? {
        guard
            let row = try db.row(
                """
                SELECT * FROM \"authorization\" WHERE officer_id = ?
                ORDER BY (authorized_at_ms <= ?) DESC, authorized_at_ms DESC, rowid DESC LIMIT 1
                """,
                [officerID, moment]
            )
        else { return nil }
        return AuthorityRecord(
            rowid: row["rowid"],
            agreementRowid: row["agreement_rowid"],
            authorization: SupervisionRows.authorization(row),
            revokedAtMs: row["revoked_at_ms"]
        )
    }

    func insertAuthorization(_ authorization: NewAuthorization) throws -> Int64 {
        try self.insert(
            """
            INSERT INTO \"authorization\" (officer_id, officer_name, agency_id, agreement_rowid, model, status,
                authorized_at_ms, expires_at_ms, credential_serial, categories, supervisor_rowid, certified_rules_version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                authorization.officerID, authorization.officerName, authorization.agencyID, authorization.agreement,
                authorization.model.rawValue, AuthorizationStatus.active.rawValue, authorization.authorizedAtMs,
                authorization.expiresAtMs, authorization.credentialSerial,
                authorization.categories.joined(separator: "\n"), authorization.supervisor,
                authorization.certifiedRulesVersion,
            ]
        )
    }

    func updateAuthorization(_ rowid: Int64, _ update: AuthorizationUpdate) throws {
        var columns: [(String, (any SQLValueConvertible)?)] = []
        if let status = update.status { columns.append(("status", status.rawValue)) }
        if let revoked = update.revoked {
            columns += [("revoked_at_ms", revoked.atMs), ("revoked_because", revoked.because)]
        }
        if let because = update.suspendedBecause { columns.append(("suspended_because", because)) }
        if let supervisor = update.supervisor { columns.append(("supervisor_rowid", supervisor)) }
        if let categories = update.categories { columns.append(("categories", categories.joined(separator: "\n"))) }
        if let agreement = update.agreement { columns.append(("agreement_rowid", agreement)) }
        try self.update("authorization", rowid, columns)
    }

    func insertCertification(_ notice: NotifyCertifiedRequest, receivedAt: Int64) throws -> Int64? {
        try db.value(
            Int64.self,
            """
            INSERT INTO certification (officer_id, agency_id, model, name, certified_on, rules_version, received_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (officer_id) DO NOTHING RETURNING rowid
            """,
            [
                notice.officerId, notice.agencyId, notice.model?.rawValue, notice.name, notice.certifiedOn,
                notice.rulesVersion, receivedAt,
            ]
        )
    }

    func openSuspension(
        authorization: Int64,
        from: Int64,
        reason: String,
        complaint: Int64?,
        cause: String
    ) throws
        -> Int64
    {
        try self.insert(
            """
            INSERT INTO authorization_suspension (authorization_rowid, from_ms, reason, complaint_rowid, cause)
            VALUES (?, ?, ?, ?, ?)
            """,
            [authorization, from, reason, complaint, cause]
        )
    }

    func openSuspensions(authorization: Int64, cause: String, complaint: Int64?) throws -> [Int64] {
        try self.rowids(
            """
            SELECT rowid FROM authorization_suspension WHERE authorization_rowid = ? AND until_ms IS NULL
            AND complaint_rowid IS NOT DISTINCT FROM ?
            AND coalesce(cause, CASE WHEN complaint_rowid IS NULL THEN 'manual' ELSE 'complaint' END) = ?
            """,
            [authorization, complaint, cause]
        )
    }

    func closeSuspension(_ rowid: Int64, at moment: Int64) throws {
        try self.update("authorization_suspension", rowid, [("until_ms", moment)])
    }

    func openSuspensionCount(authorization: Int64) throws -> Int {
        try db.value(
            Int.self,
            "SELECT count(*) FROM authorization_suspension WHERE authorization_rowid = ? AND until_ms IS NULL",
            [authorization]
        ) ?? 0
    }

    func suspension(authorization: Int64, at moment: Int64) throws -> String? {
        try db.value(
            String.self,
            """
            SELECT reason FROM authorization_suspension WHERE authorization_rowid = ? AND from_ms <= ?
            AND (until_ms IS NULL OR until_ms > ?) LIMIT 1
            """,
            [authorization, moment, moment]
        )
    }

    func suspendedAuthorizations(complaint: Int64) throws -> [Int64] {
        try self.rowids(
            """
            SELECT DISTINCT authorization_rowid FROM authorization_suspension
            WHERE complaint_rowid = ? AND until_ms IS NULL
            """,
            [complaint]
        )
    }

    func liveAuthorizationsWithTraining() throws -> [(rowid: Int64, officerID: String, training: Bool)] {
        try db.rows(
            """
            SELECT a.rowid, a.officer_id, EXISTS (
                SELECT 1 FROM authorization_suspension s WHERE s.authorization_rowid = a.rowid
                AND s.until_ms IS NULL AND s.cause = 'training') AS training
            FROM \"authorization\" a WHERE a.status IN (1, 2)
            """
        ).map { (rowid: $0["rowid"], officerID: $0["officer_id"], training: $0["training"]) }
    }
}
