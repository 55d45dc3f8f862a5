import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import NIOCore

/// The program report as of any moment, and the audit trail's reads and verification.
extension SupervisionService {
    static var projectionDays: Int64 { ProjectionHorizon.days }

    func programReport(_ request: ProgramReportRequest, _ context: ServerContext) async throws -> ProgramReport {
        _ = try self.caller(context)
        let now = self.clock.now()
        // A moment later today (the end of today, as a date means) is now: the day is not over.
        let asOf =
            request.asOfMs.map { Day(unixMilliseconds: $0) == Day(unixMilliseconds: now) ? min($0, now) : $0 } ?? now
        let horizon = now + Self.projectionDays * 86_400_000
        guard asOf > 0, asOf <= horizon else {
            throw RPCError.invalidArgument(
                field: "as_of_ms",
                "is not a moment up to \(Self.projectionDays) days ahead (at most \(Moment.text(horizon)))"
            )
        }
        let rules = self.rules
        let started = NIODeadline.now()
        // Later than now (beyond a minute of clock skew): a projection of what is on record.
        let projection = asOf > now + 60_000
        var report = try await self.store.read { tx in
            var report = try Self.report(tx, asOf: asOf, rules: rules)
            if projection {
                report.projection = true
                let projected = try tx.projection(from: now, to: asOf)
                report.authorizationsLapsing = projected.lapsing
                report.terminationsTakingEffect = projected.terminating
                report.officersAuthorized = report.officersAuthorized.map {
                    $0 - UInt32(clamping: min(Int($0), projected.authorizationsEnding))
                }
            }
            return report
        }
        report.computedInMs = (NIODeadline.now() - started).nanoseconds / 1_000_000
        if self.clock.simulation != nil { report.simulatedClock = true }
        return report
    }

    /// The report over one read transaction (a consistent snapshot).
    static func report(_ tx: any SupervisionRecords, asOf t: Int64, rules: SupervisionRules) throws -> ProgramReport {
        let facts = try tx.reportFacts(asOf: t)
        var report = ProgramReport(asOfMs: t)
        report.agreements = Self.agreementCounts(facts.agreements)
        report.officersAuthorized = UInt32(clamping: facts.officersAuthorized)
        report.officersSuspended = UInt32(clamping: facts.officersSuspended)
        report.actions = facts.actions
        report.notificationsLate = UInt64(clamping: facts.notificationsLate)
        report.actionsAwaitingReview = UInt64(clamping: facts.awaitingReview)
        report.oldestReviewAgeMs = facts.oldestReviewRecordedAt.map { t - $0 } ?? 0
        try Self.addOversight(&report, tx, facts, asOf: t, rules: rules)
        Self.addComplaints(&report, facts.complaints, asOf: t, rules: rules)
        return report
    }

    /// Agreements by state, model, partner and their status at the moment.
    static func agreementCounts(_ agreements: [ReportFacts.AgreementAt]) -> [AgreementCount] {
        struct Counted: Hashable {
            var state: String
            var model: Int32
            var partner: Int32
            var status: Int32
        }
        var counts: [Counted: UInt32] = [:]
        for agreement in agreements {
            let key = Counted(
                state: agreement.state,
                model: agreement.model.rawValue,
                partner: agreement.partner.rawValue,
                status: agreement.status.rawValue
            )
            counts[key, default: 0] += 1
        }
        return counts.sorted {
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
    }

    /// Supervision, meetings and inspections of the agreements in force at the moment.
    static func addOversight(
        _ report: inout ProgramReport,
        _ tx: any SupervisionRecords,
        _ facts: ReportFacts,
        asOf t: Int64,
        rules: SupervisionRules
    ) throws {
        let asOfDay = Day(unixMilliseconds: t)
        let today = asOfDay.description
        let yearAgo = asOfDay.adding(-rules.yearlyMeetingWithinDays).description
        let inspectedSince = asOfDay.adding(-365).description
        let oversight = try tx.oversightFacts(
            asOf: t,
            today: today,
            meetingsAfter: yearAgo,
            inspectedAfter: inspectedSince
        )
        var inspected: [Model: (active: UInt32, inspected: UInt32)] = [:]
        let active = facts.agreements.filter { $0.status == .active || $0.status == .terminationNoticed }
        for agreement in active.sorted(by: { $0.rowid < $1.rowid }) {
            let id = Self.id("mo", agreement.rowid)
            let effective = agreement.effectiveOn.flatMap(Day.init)
            if facts.agreementsWithOfficers.contains(agreement.rowid), !oversight.supervised.contains(agreement.rowid) {
                report.agreementsWithoutSupervisor.append(id)
            }
            let yearOld = effective.map { $0.adding(rules.yearlyMeetingWithinDays) <= asOfDay } ?? true
            if yearOld, !oversight.metRecently.contains(agreement.rowid) {
                report.agreementsWithoutYearlyMeeting.append(id)
            }
            if let effective, effective.adding(rules.firstReviewWithinDays) <= asOfDay,
                !oversight.firstReviewed.contains(agreement.rowid)
            {
                report.agreementsWithoutFirstReview.append(id)
            }
            var entry = inspected[agreement.model] ?? (0, 0)
            entry.active += 1
            if oversight.inspected.contains(agreement.rowid) { entry.inspected += 1 }
            inspected[agreement.model] = entry
        }
        report.inspections = [Model.jem, .wso, .tfm].map {
            ModelInspections(
                model: $0,
                activeAgreements: inspected[$0]?.active ?? 0,
                inspectedInLastYear: inspected[$0]?.inspected ?? 0
            )
        }
    }

    /// Complaints as they stood at t: later events are not yet known.
    static func addComplaints(
        _ report: inout ProgramReport,
        _ complaints: [Complaint],
        asOf t: Int64,
        rules: SupervisionRules
    ) {
        var open: UInt32 = 0
        var pastNotice: UInt32 = 0
        var pastResolution: UInt32 = 0
        var pastReport: UInt32 = 0
        for complaint in complaints {
            func known(_ moment: Int64?) -> Int64? { moment.flatMap { $0 <= t ? $0 : nil } }
            let resolved = known(complaint.resolvedAtMs)
            if resolved == nil { open += 1 }
            if (known(complaint.notifiedAtMs) ?? t) > (complaint.noticeDueMs ?? 0) { pastNotice += 1 }
            if (resolved ?? t) > (complaint.resolutionDueMs ?? 0) { pastResolution += 1 }
            if let resolved {
                let due = resolved + Int64(rules.complaintOutcomeReportDays) * 86_400_000
                if (known(complaint.outcomeReportedAtMs) ?? t) > due { pastReport += 1 }
            }
        }
        report.complaintsOpen = open
        report.complaintsPastNotice = pastNotice
        report.complaintsPastResolution = pastResolution
        report.complaintsPastOutcomeReport = pastReport
    }

    // MARK: Audit trail

    func listAudit(_ request: ListAuditRequest, _ context: ServerContext) async throws -> ListAuditResponse {
        _ = try self.caller(context)
        let filters = ["entity=\(request.entity ?? "")", "id=\(request.entityId ?? "")"]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let entries = try await self.store.read { tx in
            try tx.auditEntries(entity: request.entity, entityID: request.entityId, after: start, limit: size + 1)
        }
        let (page, next) = PageToken.split(entries, size: size, filters: filters) { Int64($0.sequence ?? 0) }
        return ListAuditResponse(entries: Array(page), page: next)
    }

    func verifyAudit(_ request: VerifyAuditRequest, _ context: ServerContext) async throws -> VerifyAuditResponse {
        _ = try self.caller(context)
        let verdict = try await self.store.verifyAudit()
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
