import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordStorage
import GRDB
import NIOCore

/// The program report as of any moment, and the audit trail's reads and verification.
extension SupervisionService {
    static let readers: Set<Principal.Role> = [.programOffice, .operator, .auditor]

    func programReport(_ request: ProgramReportRequest, _ context: ServerContext) async throws -> ProgramReport {
        let principal = try self.caller(context)
        try self.require(principal, Self.readers, "read the program report")
        let now = self.now()
        let asOf = request.asOfMs ?? now
        guard asOf > 0, asOf <= now + 60_000 else {
            throw RPCError.invalidArgument(field: "as_of_ms", "is not a moment up to now")
        }
        let rules = self.rules
        let started = NIODeadline.now()
        var report = try await self.store.read { db in try Self.report(db, asOf: asOf, rules: rules) }
        report.computedInMs = (NIODeadline.now() - started).nanoseconds / 1_000_000
        return report
    }

    /// The report over one read transaction (a consistent snapshot).
    static func report(_ db: Database, asOf t: Int64, rules: SupervisionRules) throws -> ProgramReport {
        var report = ProgramReport(asOfMs: t)
        let asOfDay = Day(unixMilliseconds: t)
        // Agreements and their status at t.
        struct Counted: Hashable {
            var state: String
            var model: Int32
            var partner: Int32
            var status: Int32
        }
        var counts: [Counted: UInt32] = [:]
        var active: [(rowid: Int64, model: Model, effective: Day?)] = []
        let agreements = try Row.fetchCursor(
            db,
            sql: """
                SELECT a.rowid, a.state, a.model, a.partner, a.termination_effective_on, a.effective_on,
                    (SELECT s.status FROM agreement_status s WHERE s.agreement_rowid = a.rowid AND s.at_ms <= ?1
                     ORDER BY s.at_ms DESC, s.rowid DESC LIMIT 1) AS status_at
                FROM agreement a
                """,
            arguments: [t]
        )
        while let row = try agreements.next() {
            guard var status = (row["status_at"] as Int32?).map(AgreementStatus.init(rawValue:)) else { continue }
            if status == .terminationNoticed,
                let effective = (row["termination_effective_on"] as String?).flatMap(Day.init),
                effective.startMilliseconds <= t
            {
                status = .terminated
            }
            counts[
                Counted(state: row["state"], model: row["model"], partner: row["partner"], status: status.rawValue),
                default: 0
            ] += 1
            if status == .active || status == .terminationNoticed {
                active.append(
                    (row["rowid"], Model(rawValue: row["model"]), (row["effective_on"] as String?).flatMap(Day.init))
                )
            }
        }
        report.agreements = counts.sorted {
            ($0.key.state, $0.key.model, $0.key.partner, $0.key.status) < (
                $1.key.state, $1.key.model, $1.key.partner, $1.key.status
            )
        }.map {
            AgreementCount(
                state: $0.key.state,
                model: Model(rawValue: $0.key.model),
                partner: FederalPartner(rawValue: $0.key.partner),
                status: AgreementStatus(rawValue: $0.key.status),
                count: $0.value
            )
        }
        // Officers whose authority was in force at t.
        let inForce =
            "authorized_at_ms <= ?1 AND (revoked_at_ms IS NULL OR revoked_at_ms > ?1) AND (expires_at_ms IS NULL OR expires_at_ms > ?1)"
        report.officersAuthorized = UInt32(
            clamping: try Int.fetchOne(db, sql: "SELECT count(*) FROM authorization WHERE \(inForce)", arguments: [t])
                ?? 0
        )
        report.officersSuspended = UInt32(
            clamping: try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM authorization a WHERE \(inForce) AND EXISTS (
                        SELECT 1 FROM authorization_suspension s WHERE s.authorization_rowid = a.rowid AND s.from_ms <= ?1
                        AND (s.until_ms IS NULL OR s.until_ms > ?1))
                    """,
                arguments: [t]
            ) ?? 0
        )
        // A renewal carries its officers over: as of a moment before it, they were under the
        // agreement it renewed.
        let withOfficers = Set(
            try Int64.fetchAll(
                db,
                sql: "SELECT DISTINCT agreement_rowid FROM authorization WHERE \(inForce)",
                arguments: [t]
            ).map { try Self.agreementInForce(db, current: $0, at: t).agreement }
        )
        // Actions performed up to t.
        report.actions = try Row.fetchAll(
            db,
            sql: """
                SELECT function, decision, review, count(*) AS n FROM action WHERE performed_at_ms <= ?
                GROUP BY function, decision, review ORDER BY function, decision, review
                """,
            arguments: [t]
        ).map {
            ActionCount(
                function: DelegatedFunction(rawValue: $0["function"]),
                decision: ActionDecision(rawValue: $0["decision"]),
                review: ReviewStatus(rawValue: $0["review"]),
                count: UInt64(clamping: $0["n"] as Int64)
            )
        }
        report.notificationsLate = UInt64(
            clamping: try Int64.fetchOne(
                db,
                sql: "SELECT count(*) FROM action WHERE late = 1 AND performed_at_ms <= ?",
                arguments: [t]
            ) ?? 0
        )
        let queue = try Row.fetchOne(
            db,
            sql:
                "SELECT count(*) AS n, min(recorded_at_ms) AS oldest FROM action WHERE review = 1 AND recorded_at_ms <= ?",
            arguments: [t]
        )
        report.actionsAwaitingReview = UInt64(clamping: queue?["n"] as Int64? ?? 0)
        report.oldestReviewAgeMs = (queue?["oldest"] as Int64?).map { t - $0 } ?? 0
        // Supervision and meetings of the agreements in force.
        let yearAgo = asOfDay.adding(-rules.yearlyMeetingWithinDays).description
        let firstReviewAge = rules.firstReviewWithinDays
        var inspected: [Model: (active: UInt32, inspected: UInt32)] = [:]
        let inspectedSince = asOfDay.adding(-365).description
        for agreement in active.sorted(by: { $0.rowid < $1.rowid }) {
            let id = Self.id("mo", agreement.rowid)
            if withOfficers.contains(agreement.rowid), try Self.supervisor(db, agreement: agreement.rowid, at: t) == nil
            {
                report.agreementsWithoutSupervisor.append(id)
            }
            let yearOld = agreement.effective.map { $0.adding(rules.yearlyMeetingWithinDays) <= asOfDay } ?? true
            if yearOld {
                let met =
                    try Bool.fetchOne(
                        db,
                        sql:
                            "SELECT EXISTS (SELECT 1 FROM meeting WHERE agreement_rowid = ? AND held_on > ? AND held_on <= ?)",
                        arguments: [agreement.rowid, yearAgo, asOfDay.description]
                    ) ?? false
                if !met { report.agreementsWithoutYearlyMeeting.append(id) }
            }
            if let effective = agreement.effective, effective.adding(firstReviewAge) <= asOfDay {
                let reviewed =
                    try Bool.fetchOne(
                        db,
                        sql:
                            "SELECT EXISTS (SELECT 1 FROM meeting WHERE agreement_rowid = ? AND kind = ? AND held_on <= ?)",
                        arguments: [agreement.rowid, MeetingKind.firstReview.rawValue, asOfDay.description]
                    ) ?? false
                if !reviewed { report.agreementsWithoutFirstReview.append(id) }
            }
            let wasInspected =
                try Bool.fetchOne(
                    db,
                    sql:
                        "SELECT EXISTS (SELECT 1 FROM inspection WHERE agreement_rowid = ? AND inspected_on > ? AND inspected_on <= ?)",
                    arguments: [agreement.rowid, inspectedSince, asOfDay.description]
                ) ?? false
            var entry = inspected[agreement.model] ?? (0, 0)
            entry.active += 1
            if wasInspected { entry.inspected += 1 }
            inspected[agreement.model] = entry
        }
        report.inspections = [Model.jem, .wso, .tfm].map {
            ModelInspections(
                model: $0,
                activeAgreements: inspected[$0]?.active ?? 0,
                inspectedInLastYear: inspected[$0]?.inspected ?? 0
            )
        }
        // Complaints as they stood at t: later events are not yet known.
        var open: UInt32 = 0
        var pastNotice: UInt32 = 0
        var pastResolution: UInt32 = 0
        var pastReport: UInt32 = 0
        let complaints = try Row.fetchCursor(
            db,
            sql: "SELECT * FROM complaint WHERE received_at_ms <= ?",
            arguments: [t]
        )
        while let row = try complaints.next() {
            func known(_ column: String) -> Int64? { (row[column] as Int64?).flatMap { $0 <= t ? $0 : nil } }
            let resolved = known("resolved_at_ms")
            if resolved == nil { open += 1 }
            if (known("notified_at_ms") ?? t) > (row["notice_due_ms"] as Int64) { pastNotice += 1 }
            if (resolved ?? t) > (row["resolution_due_ms"] as Int64) { pastResolution += 1 }
            if let resolved {
                let due = resolved + Int64(rules.complaintOutcomeReportDays) * 86_400_000
                if (known("outcome_reported_at_ms") ?? t) > due { pastReport += 1 }
            }
        }
        report.complaintsOpen = open
        report.complaintsPastNotice = pastNotice
        report.complaintsPastResolution = pastResolution
        report.complaintsPastOutcomeReport = pastReport
        return report
    }

    // MARK: Audit trail

    func listAudit(_ request: ListAuditRequest, _ context: ServerContext) async throws -> ListAuditResponse {
        let principal = try self.caller(context)
        try self.require(principal, Self.readers, "read the audit trail")
        let filters = ["entity=\(request.entity ?? "")", "id=\(request.entityId ?? "")"]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        return try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("entity", request.entity)
            filter.equal("entity_id", request.entityId)
            filter.add("sequence > ?", [start])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT sequence AS rowid, * FROM audit WHERE \(filter.sql) ORDER BY sequence LIMIT ?",
                arguments: filter.arguments + [size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: filters)
            return ListAuditResponse(
                entries: page.map {
                    AuditEntry(
                        sequence: UInt64(clamping: $0["sequence"] as Int64),
                        atMs: $0["at_ms"],
                        who: $0["who"],
                        entity: $0["entity"],
                        entityId: $0["entity_id"],
                        action: $0["action"],
                        why: $0["why"],
                        stateHash: $0["state_hash"],
                        previousHash: $0["previous_hash"],
                        hash: $0["hash"]
                    )
                },
                page: next
            )
        }
    }

    func verifyAudit(_ request: VerifyAuditRequest, _ context: ServerContext) async throws -> VerifyAuditResponse {
        let principal = try self.caller(context)
        try self.require(principal, Self.readers, "verify the audit trail")
        let verdict = try await self.store.read { db in try AuditTrail.verify(db) }
        if !verdict.intact {
            context.logger.error(
                "Audit trail broken",
                metadata: ["first_bad": "\(verdict.firstBad ?? "")", "problem": "\(verdict.problem ?? "")"]
            )
        }
        return VerifyAuditResponse(verdict)
    }
}

extension VerifyAuditResponse {
    init(_ verdict: AuditTrail.Verdict) {
        self.init(
            intact: verdict.intact,
            entriesChecked: verdict.entriesChecked,
            recordsChecked: verdict.recordsChecked,
            firstBad: verdict.firstBad,
            problem: verdict.problem,
            headHash: verdict.headHash
        )
    }
}
