import AccordCalendar
import AccordMessages
import AccordStorage

extension SQLSupervisionRecords {
    // MARK: Actions

    func action(_ rowid: Int64) throws -> DelegatedAction? {
        try db.row("SELECT * FROM action WHERE rowid = ?", [rowid])
            .map(SupervisionRows.action)
    }

    func actions(_ filter: ActionFilter, after: Int64, newestFirst: Bool, limit: Int) throws -> [DelegatedAction] {
        var conditions = SQLFilter()
        conditions.equal("agency_id", filter.agencyID)
        conditions.equal("officer_id", filter.officerID)
        conditions.equal("agreement_rowid", filter.agreement)
        conditions.equal("supervisor_rowid", filter.supervisor)
        conditions.equal("decision", filter.decision?.rawValue)
        if let t = filter.asOf {
            conditions.add("recorded_at_ms <= ?", [t])
            if let review = filter.review, review == .pending {
                conditions.add("(review = ? OR reviewed_at_ms > ?)", [review.rawValue, t])
            } else if let review = filter.review {
                conditions.add("review = ? AND reviewed_at_ms <= ?", [review.rawValue, t])
            }
        } else {
            conditions.equal("review", filter.review?.rawValue)
        }
        if filter.lateOnly { conditions.add("late = 1") }
        conditions.add(newestFirst ? "rowid < ?" : "rowid > ?", [after])
        return try db.rows(
            """
            SELECT * FROM action WHERE \(conditions.sql) ORDER BY rowid \(newestFirst ? "DESC" : "") LIMIT ?
            """,
            conditions.arguments + [limit]
        ).map { row in
            var action = SupervisionRows.action(row)
            if let t = filter.asOf, let reviewed = action.reviewedAtMs, reviewed > t {
                action.review = .pending
                action.reviewedAtMs = nil
                action.reviewReason = nil
            }
            return action
        }
    }

    func insertAction(_ action: NewAction) throws -> Int64 {
        try self.insert(
            """
            INSERT INTO action (officer_id, agency_id, agreement_rowid, authorization_rowid, function, performed_at_ms,
                place, location, subject_ref, outcome, citizenship_claimed, detainer_category, decision,
                rejection_code, rejection_reason, recorded_at_ms, recorded_by, notify_by_ms, late, supervisor_rowid,
                review, draft)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                action.officerID, action.agencyID, action.agreement, action.authorization, action.function.rawValue,
                action.performedAtMs, action.place.rawValue, action.location, action.subjectRef, action.outcome,
                action.citizenshipClaimed, action.detainerCategory, action.decision.rawValue, action.rejection?.code,
                action.rejection?.reason, action.recordedAtMs, action.recordedBy, action.notifyByMs, action.late,
                action.supervisor, action.review.rawValue, action.draft,
            ]
        )
    }

    func reviewAction(_ rowid: Int64, review: ReviewStatus, reason: String?, at moment: Int64, by who: String) throws {
        try self.update(
            "action",
            rowid,
            [("review", review.rawValue), ("review_reason", reason), ("reviewed_at_ms", moment), ("reviewed_by", who)]
        )
    }

    func signAction(_ rowid: Int64, by signer: String) throws {
        try self.update("action", rowid, [("draft", 0), ("signed_by", signer)])
    }

    // MARK: Complaints

    func complaint(_ rowid: Int64) throws -> Complaint? {
        try db.row("SELECT * FROM complaint WHERE rowid = ?", [rowid])
            .map(SupervisionRows.complaint)
    }

    func complaints(_ filter: ComplaintFilter, after: Int64, limit: Int) throws -> [Complaint] {
        var conditions = SQLFilter()
        conditions.equal("agreement_rowid", filter.agreement)
        conditions.equal("agency_id", filter.agencyID)
        if let t = filter.asOf {
            conditions.add("received_at_ms <= ?", [t])
            switch filter.status {
            case .some(.open): conditions.add("(resolved_at_ms IS NULL OR resolved_at_ms > ?)", [t])
            case .some(.resolved): conditions.add("resolved_at_ms <= ?", [t])
            default: break
            }
        } else {
            conditions.equal("status", filter.status?.rawValue)
        }
        conditions.add("rowid > ?", [after])
        return try db.rows(
            "SELECT * FROM complaint WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
            conditions.arguments + [limit]
        ).map(SupervisionRows.complaint)
    }

    func insertComplaint(_ complaint: NewComplaint) throws -> Int64 {
        try self.insert(
            """
            INSERT INTO complaint (agreement_rowid, agency_id, officer_id, source, summary, received_at_ms,
                may_lead_to_discipline, status, notice_due_ms, resolution_due_ms, filed_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                complaint.agreement, complaint.agencyID, complaint.officerID, complaint.source, complaint.summary,
                complaint.receivedAtMs, complaint.mayLeadToDiscipline, ComplaintStatus.open.rawValue,
                complaint.noticeDueMs, complaint.resolutionDueMs, complaint.filedBy,
            ]
        )
    }

    func setComplaintNotified(_ rowid: Int64, at moment: Int64) throws {
        try self.update("complaint", rowid, [("notified_at_ms", moment)])
    }

    func resolveComplaint(_ rowid: Int64, at moment: Int64, resolution: String?, reportDueMs: Int64) throws {
        try self.update(
            "complaint",
            rowid,
            [
                ("status", ComplaintStatus.resolved.rawValue), ("resolved_at_ms", moment), ("resolution", resolution),
                ("outcome_report_due_ms", reportDueMs),
            ]
        )
    }

    func setComplaintOutcomeReported(_ rowid: Int64, at moment: Int64) throws {
        try self.update("complaint", rowid, [("outcome_reported_at_ms", moment)])
    }

    // MARK: Inspections and meetings

    func inspection(_ rowid: Int64) throws -> Inspection? {
        try db.row("SELECT * FROM inspection WHERE rowid = ?", [rowid])
            .map(SupervisionRows.inspection)
    }

    func inspections(agreement: Int64?, status: InspectionStatus?, after: Int64, limit: Int) throws -> [Inspection] {
        var conditions = SQLFilter()
        conditions.equal("agreement_rowid", agreement)
        conditions.equal("status", status?.rawValue)
        conditions.add("rowid > ?", [after])
        return try db.rows(
            "SELECT * FROM inspection WHERE \(conditions.sql) ORDER BY rowid LIMIT ?",
            conditions.arguments + [limit]
        ).map(SupervisionRows.inspection)
    }

    func insertInspection(agreement: Int64, scheduledOn: String) throws -> Int64 {
        try self.insert(
            "INSERT INTO inspection (agreement_rowid, scheduled_on, status) VALUES (?, ?, ?)",
            [agreement, scheduledOn, InspectionStatus.scheduled.rawValue]
        )
    }

    func updateInspection(_ rowid: Int64, _ update: InspectionUpdate) throws {
        var columns: [(String, (any SQLValueConvertible)?)] = [("status", update.status.rawValue)]
        if let inspected = update.inspected {
            columns += [
                ("inspected_on", inspected.on), ("findings", inspected.findings.joined(separator: "\n")),
                ("corrective_actions", inspected.corrective.joined(separator: "\n")),
            ]
        }
        if let day = update.closedOn { columns.append(("closed_on", day)) }
        try self.update("inspection", rowid, columns)
    }

    func insertMeeting(agreement: Int64, kind: MeetingKind, heldOn: String, notes: String?) throws -> Int64 {
        try self.insert(
            "INSERT INTO meeting (agreement_rowid, kind, held_on, notes) VALUES (?, ?, ?, ?)",
            [agreement, kind.rawValue, heldOn, notes]
        )
    }
}
