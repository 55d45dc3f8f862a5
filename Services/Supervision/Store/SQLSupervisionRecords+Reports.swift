import AccordCalendar
import AccordMessages
import AccordStorage

extension SQLSupervisionRecords {
    func agreementInForce(
        current agreement: Int64,
        at moment: Int64
    ) throws
        -> (agreement: Int64, status: AgreementStatus?)
    {
        var candidate = agreement
        var status = try self.agreementStatus(candidate, at: moment)
        while [nil, .offered].contains(status), let previous = try self.agreementRenewed(by: candidate) {
            candidate = previous
            status = try self.agreementStatus(candidate, at: moment)
        }
        return (candidate, status)
    }

    func projection(from now: Int64, to t: Int64) throws -> Projection {
        let lapsing = try self.rowids(
            """
            SELECT rowid FROM "authorization" WHERE authorized_at_ms <= ?1
                AND (revoked_at_ms IS NULL OR revoked_at_ms > ?1) AND expires_at_ms > ?1 AND expires_at_ms <= ?2
            ORDER BY expires_at_ms, rowid
            """,
            [now, t]
        )
        let today = Day(unixMilliseconds: now)
        let terminating = try db.rows(
            "SELECT rowid, termination_effective_on FROM agreement WHERE status = ? ORDER BY rowid",
            [AgreementStatus.terminationNoticed.rawValue]
        ).compactMap { row -> Int64? in
            guard let effective = (row["termination_effective_on"] as String?).flatMap(Day.init),
                effective > today, effective.startMilliseconds <= t
            else { return nil }
            return row["rowid"]
        }
        // Their authorizations still in force then end with them.
        let ending =
            terminating.isEmpty
            ? 0
            : try db.value(
                Int.self,
                """
                SELECT count(*) FROM "authorization"
                WHERE agreement_rowid IN (\(SQLArguments.placeholders(terminating.count))) AND authorized_at_ms <= ?
                    AND (revoked_at_ms IS NULL OR revoked_at_ms > ?) AND (expires_at_ms IS NULL OR expires_at_ms > ?)
                """,
                SQLArguments(terminating) + [t, t, t]
            ) ?? 0
        return Projection(
            lapsing: lapsing.map { "az_\($0)" },
            terminating: terminating.map { "mo_\($0)" },
            authorizationsEnding: ending
        )
    }

    func reportFacts(asOf t: Int64) throws -> ReportFacts {
        var facts = ReportFacts()
        facts.agreements = try self.agreementsAt(t)
        // Officers whose authority was in force at t.
        let inForce = """
            authorized_at_ms <= ?1 AND (revoked_at_ms IS NULL OR revoked_at_ms > ?1)
            AND (expires_at_ms IS NULL OR expires_at_ms > ?1)
            """
        facts.officersAuthorized =
            try db.value(Int.self, "SELECT count(*) FROM \"authorization\" WHERE \(inForce)", [t]) ?? 0
        facts.officersSuspended =
            try db.value(
                Int.self,
                """
                SELECT count(*) FROM \"authorization\" a WHERE \(inForce) AND EXISTS (
                    SELECT 1 FROM authorization_suspension s WHERE s.authorization_rowid = a.rowid
                    AND s.from_ms <= ?1 AND (s.until_ms IS NULL OR s.until_ms > ?1))
                """,
                [t]
            ) ?? 0
        // A renewal carries its officers over: as of a moment before it, they were under the
        // agreement it renewed.
        facts.agreementsWithOfficers = Set(
            try self.rowids("SELECT DISTINCT agreement_rowid FROM \"authorization\" WHERE \(inForce)", [t])
                .map { try self.agreementInForce(current: $0, at: t).agreement }
        )
        try self.addActionFacts(&facts, t)
        facts.complaints = try db.rows("SELECT * FROM complaint WHERE received_at_ms <= ?", [t]).map(
            SupervisionRows.complaint
        )
        return facts
    }

    /// Every agreement that existed at t, with its status then.
    private func agreementsAt(_ t: Int64) throws -> [ReportFacts.AgreementAt] {
        try db.rows(
            """
            SELECT a.rowid, a.state, a.model, a.partner, a.termination_effective_on, a.effective_on,
                (SELECT s.status FROM agreement_status s WHERE s.agreement_rowid = a.rowid AND s.at_ms <= ?1
                 ORDER BY s.at_ms DESC, s.rowid DESC LIMIT 1) AS status_at
            FROM agreement a
            """,
            [t]
        ).compactMap { row in
            guard var status = (row["status_at"] as Int32?).map(AgreementStatus.init(rawValue:)) else { return nil }
            if status == .terminationNoticed,
                let effective = (row["termination_effective_on"] as String?).flatMap(Day.init),
                effective.startMilliseconds <= t
            {
                status = .terminated
            }
            return ReportFacts.AgreementAt(
                rowid: row["rowid"],
                state: row["state"],
                model: Model(rawValue: row["model"]),
                partner: FederalPartner(rawValue: row["partner"]),
                status: status,
                effectiveOn: row["effective_on"]
            )
        }
    }

    /// Actions performed up to t, late notifications, and the review queue then.
    private func addActionFacts(_ facts: inout ReportFacts, _ t: Int64) throws {
        facts.actions = try db.rows(
            """
            SELECT function, decision, review, count(*) AS n FROM action WHERE performed_at_ms <= ?
            GROUP BY function, decision, review ORDER BY function, decision, review
            """,
            [t]
        ).map {
            ActionCount(
                function: DelegatedFunction(rawValue: $0["function"]),
                decision: ActionDecision(rawValue: $0["decision"]),
                review: ReviewStatus(rawValue: $0["review"]),
                count: UInt64(clamping: $0["n"] as Int64)
            )
        }
        facts.notificationsLate =
            try db.value(Int64.self, "SELECT count(*) FROM action WHERE late = 1 AND performed_at_ms <= ?", [t]) ?? 0
        let queue = try db.row(
            "SELECT count(*) AS n, min(recorded_at_ms) AS oldest FROM action WHERE review = 1 AND recorded_at_ms <= ?",
            [t]
        )
        facts.awaitingReview = queue?["n"] ?? 0
        facts.oldestReviewRecordedAt = queue?["oldest"]
    }

    func oversightFacts(
        asOf t: Int64,
        today: String,
        meetingsAfter: String,
        inspectedAfter: String
    ) throws -> OversightFacts {
        var facts = OversightFacts()
        // An assignment always names a supervisor: any by then will do.
        facts.supervised = Set(
            try self.rowids(
                "SELECT DISTINCT agreement_rowid FROM supervisor_assignment WHERE agreement_rowid IS NOT NULL AND from_ms <= ?",
                [t]
            )
        )
        facts.metRecently = Set(
            try self.rowids(
                "SELECT DISTINCT agreement_rowid FROM meeting WHERE held_on > ? AND held_on <= ?",
                [meetingsAfter, today]
            )
        )
        facts.firstReviewed = Set(
            try self.rowids(
                "SELECT DISTINCT agreement_rowid FROM meeting WHERE kind = ? AND held_on <= ?",
                [MeetingKind.firstReview.rawValue, today]
            )
        )
        facts.inspected = Set(
            try self.rowids(
                "SELECT DISTINCT agreement_rowid FROM inspection WHERE inspected_on > ? AND inspected_on <= ?",
                [inspectedAfter, today]
            )
        )
        return facts
    }
}
