import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// Oversight: complaints with their deadlines, inspections for every model, meetings.
extension SupervisionService {
    func registerOversight(into router: inout RPCRouter) {
        router.register(SupervisionMethods.fileComplaint) { try await self.fileComplaint($0, $1) }
        router.register(SupervisionMethods.updateComplaint) { try await self.updateComplaint($0, $1) }
        router.register(SupervisionMethods.listComplaints) { try await self.listComplaints($0, $1) }
        router.register(SupervisionMethods.scheduleInspection) { try await self.scheduleInspection($0, $1) }
        router.register(SupervisionMethods.recordInspection) { try await self.recordInspection($0, $1) }
        router.register(SupervisionMethods.closeInspection) { try await self.closeInspection($0, $1) }
        router.register(SupervisionMethods.listInspections) { try await self.listInspections($0, $1) }
        router.register(SupervisionMethods.recordMeeting) { try await self.recordMeeting($0, $1) }
    }

    // MARK: Complaints

    func fileComplaint(_ request: FileComplaintRequest, _ context: ServerContext) async throws -> Complaint {
        let principal = try self.caller(context)
        let change = self.stamp(principal)
        var filed = try self.validateComplaint(request.complaint, now: change.at)
        filed.filedBy = change.who
        let checked = filed
        return try await self.store.write { tx in
            var complaint = checked
            let owner = try tx.requireAgreement(complaint.agreement)
            if principal.role == .agency && owner.agencyId != principal.scope {
                throw RPCError(.permissionDenied, "\(principal.header) files complaints only on its own agreements")
            }
            complaint.agencyID = owner.agencyId ?? ""
            let authorization = try Self.complaintAuthorization(tx, complaint)
            let rowid = try tx.insertComplaint(complaint)
            try tx.audit("complaint", rowid, "file", change.happened(at: complaint.receivedAtMs))
            if complaint.mayLeadToDiscipline, let authorization,
                [.active, .suspended].contains(try tx.requireAuthorization(authorization).status)
            {
                try Self.suspend(
                    tx,
                    authorization,
                    cause: .complaint(rowid),
                    change.because("complaint \(Self.id("cp", rowid)) pending")
                )
            }
            return Self.present(try tx.requireComplaint(rowid), now: change.at)
        }
    }

    /// The officer's latest authorization with the agreement's agency, when the complaint names
    /// an officer: one never authorized there is refused.
    static func complaintAuthorization(_ tx: any SupervisionRecords, _ complaint: NewComplaint) throws -> Int64? {
        guard let officer = complaint.officerID else { return nil }
        guard let authorization = try tx.latestAuthorization(officerID: officer, agencyID: complaint.agencyID) else {
            throw RPCError.invalidArgument(
                field: "complaint.officer_id",
                "\(officer) has never been authorized for agency \(complaint.agencyID)"
            )
        }
        return authorization
    }

    /// A complaint as filed, checked, with its deadlines (its agency comes from its agreement).
    func validateComplaint(_ complaint: Complaint?, now: Int64) throws -> NewComplaint {
        guard let complaint else { throw RPCError.invalidArgument(field: "complaint", "is required") }
        let agreement = try Self.rowid(
            complaint.agreementId,
            prefix: "mo",
            field: "complaint.agreement_id",
            what: "an agreement"
        )
        let officer = try Self.text(complaint.officerId, field: "complaint.officer_id", max: 40, optional: true)
        let received = complaint.receivedAtMs ?? now
        guard received > 0, received <= now + 60_000 else {
            throw RPCError.invalidArgument(field: "complaint.received_at_ms", "is in the future")
        }
        let discipline = complaint.mayLeadToDiscipline ?? false
        if discipline && officer == nil {
            throw RPCError.invalidArgument(field: "complaint.officer_id", "is required when it may lead to discipline")
        }
        return NewComplaint(
            agreement: agreement,
            agencyID: "",
            officerID: officer,
            source: try Self.text(complaint.source, field: "complaint.source", max: 60)!,
            summary: try Self.text(complaint.summary, field: "complaint.summary", max: 4000)!,
            receivedAtMs: received,
            mayLeadToDiscipline: discipline,
            noticeDueMs: Self.addingBusinessHours(self.rules.complaintNoticeBusinessHours, to: received),
            resolutionDueMs: received + Int64(self.rules.complaintResolutionDays) * 86_400_000,
            filedBy: ""
        )
    }

    func updateComplaint(_ request: UpdateComplaintRequest, _ context: ServerContext) async throws -> Complaint {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.complaintId, prefix: "cp", field: "complaint_id", what: "a complaint")
        let resolution = try Self.text(request.resolution, field: "resolution", max: 4000, optional: true)
        let change = self.stamp(principal, why: resolution)
        try Self.validateComplaintUpdate(request, resolution: resolution, now: change.at)
        let reportDays = Int64(self.rules.complaintOutcomeReportDays)
        return try await self.store.write { tx in
            let current = try tx.requireComplaint(rowid)
            if principal.role == .agency && current.agencyId != principal.scope {
                throw RPCError(.permissionDenied, "\(principal.header) updates only its own complaints")
            }
            if let notified = request.notifiedAtMs { try Self.notify(tx, current, at: notified) }
            if let resolved = request.resolvedAtMs {
                try Self.resolve(tx, current, at: resolved, resolution, reportDays: reportDays, change)
            }
            if let reported = request.outcomeReportedAtMs {
                try Self.reportOutcome(tx, try tx.requireComplaint(rowid), at: reported)
            }
            try tx.audit("complaint", rowid, "update", change)
            return Self.present(try tx.requireComplaint(rowid), now: change.at)
        }
    }

    static func validateComplaintUpdate(_ request: UpdateComplaintRequest, resolution: String?, now: Int64) throws {
        for (field, value) in [
            ("notified_at_ms", request.notifiedAtMs), ("resolved_at_ms", request.resolvedAtMs),
            ("outcome_reported_at_ms", request.outcomeReportedAtMs),
        ] {
            if let value, value <= 0 || value > now + 60_000 {
                throw RPCError.invalidArgument(field: field, "is not a moment up to now")
            }
        }
        if request.resolvedAtMs != nil && resolution == nil {
            throw RPCError.invalidArgument(field: "resolution", "is required when the complaint is resolved")
        }
        guard request.notifiedAtMs != nil || request.resolvedAtMs != nil || request.outcomeReportedAtMs != nil else {
            throw RPCError.invalidArgument(field: "notified_at_ms", "nothing to update")
        }
    }

    static func notify(_ tx: any SupervisionRecords, _ complaint: Complaint, at notified: Int64) throws {
        guard complaint.notifiedAtMs == nil else {
            throw RPCError(.failedPrecondition, "complaint \(complaint.id!) was already notified")
        }
        guard notified >= (complaint.receivedAtMs ?? 0) else {
            throw RPCError.invalidArgument(field: "notified_at_ms", "is before the complaint was received")
        }
        try tx.setComplaintNotified(RecordID.rowid(of: complaint.id), at: notified)
    }

    /// Resolves a complaint; the officer's authority comes back once nothing else keeps it suspended.
    static func resolve(
        _ tx: any SupervisionRecords,
        _ complaint: Complaint,
        at resolved: Int64,
        _ resolution: String?,
        reportDays: Int64,
        _ change: Change
    ) throws {
        guard complaint.status == .open else {
            throw RPCError(.failedPrecondition, "complaint \(complaint.id!) is already resolved")
        }
        guard resolved >= (complaint.receivedAtMs ?? 0) else {
            throw RPCError.invalidArgument(field: "resolved_at_ms", "is before the complaint was received")
        }
        let rowid = RecordID.rowid(of: complaint.id)
        try tx.resolveComplaint(
            rowid,
            at: resolved,
            resolution: resolution,
            reportDueMs: resolved + reportDays * 86_400_000
        )
        for authorization in try tx.suspendedAuthorizations(complaint: rowid) {
            try Self.lift(tx, authorization, cause: .complaint(rowid), change.because("complaint resolved"))
        }
    }

    static func reportOutcome(_ tx: any SupervisionRecords, _ complaint: Complaint, at reported: Int64) throws {
        guard let resolvedAt = complaint.resolvedAtMs else {
            throw RPCError(.failedPrecondition, "complaint \(complaint.id!) is not resolved: no outcome to report")
        }
        guard reported >= resolvedAt else {
            throw RPCError.invalidArgument(field: "outcome_reported_at_ms", "is before the resolution")
        }
        try tx.setComplaintOutcomeReported(RecordID.rowid(of: complaint.id), at: reported)
    }

    func listComplaints(
        _ request: ListComplaintsRequest,
        _ context: ServerContext
    ) async throws -> ListComplaintsResponse {
        let principal = try self.caller(context)
        if principal.role == .agency && request.agencyId != nil && request.agencyId != principal.scope {
            throw RPCError(.permissionDenied, "an agency sees only its own complaints")
        }
        let filter = ComplaintFilter(
            agreement: try request.agreementId.map {
                try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
            },
            status: try Self.known(request.status, field: "status", required: false),
            agencyID: principal.role == .agency ? principal.scope : request.agencyId,
            asOf: try Self.pastMoment(request.asOfMs, now: self.clock.now())
        )
        let overdueOnly = request.overdueOnly ?? false
        let filters = [
            "as_of=\(filter.asOf.map(String.init) ?? "")",
            "agreement=\(filter.agreement.map(String.init) ?? "")",
            "status=\(filter.status.map { String($0.rawValue) } ?? "")", "agency=\(filter.agencyID ?? "")",
            "overdue=\(overdueOnly)",
        ]
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: filters).afterRowid
        let (complaints, more) = try await self.scanComplaints(
            filter,
            after: after,
            size: size,
            overdueOnly: overdueOnly
        )
        let last = RecordID.rowid(of: complaints.last?.id)
        let page =
            more ? PageResponse(nextPageToken: PageToken.encode(afterRowid: last, filters: filters)) : PageResponse()
        return ListComplaintsResponse(complaints: complaints, page: page)
    }

    /// Overdue is computed, not stored: scans in batches until a page is full. Returns the page
    /// and whether more follow.
    func scanComplaints(
        _ filter: ComplaintFilter,
        after start: Int64,
        size: Int,
        overdueOnly: Bool
    ) async throws -> ([Complaint], Bool) {
        let now = filter.asOf ?? self.clock.now()
        var complaints: [Complaint] = []
        var after = start
        while true {
            let position = after
            let batch = try await self.store.read { tx in try tx.complaints(filter, after: position, limit: 500) }
            for complaint in batch.map({ Self.present(filter.asOf == nil ? $0 : Self.asItStood($0, at: now), now: now) }
            ) {
                if overdueOnly && complaint.overdue.isEmpty { continue }
                if complaints.count == size { return (complaints, true) }
                complaints.append(complaint)
            }
            guard batch.count == 500, let end = batch.last else { return (complaints, false) }
            after = RecordID.rowid(of: end.id)
        }
    }

    // MARK: Inspections and meetings

    func scheduleInspection(_ request: ScheduleInspectionRequest, _ context: ServerContext) async throws -> Inspection {
        let principal = try self.caller(context)
        let agreement = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let scheduled = try Self.day(request.scheduledOn, field: "scheduled_on")
        let change = self.stamp(principal)
        return try await self.store.write { tx in
            _ = try tx.agreement(agreement, allowed: Self.openStatuses, action: "schedule an inspection")
            let rowid = try tx.insertInspection(agreement: agreement, scheduledOn: scheduled.description)
            try tx.audit("inspection", rowid, "schedule", change)
            return try tx.requireInspection(rowid)
        }
    }

    func recordInspection(_ request: RecordInspectionRequest, _ context: ServerContext) async throws -> Inspection {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.inspectionId, prefix: "in", field: "inspection_id", what: "an inspection")
        let today = self.today
        let inspected = try Self.day(request.inspectedOn, field: "inspected_on", default: today)
        guard inspected <= today else {
            throw RPCError.invalidArgument(field: "inspected_on", "\(inspected) is in the future")
        }
        let findings = try request.findings.enumerated().map { try Self.text($1, field: "findings[\($0)]", max: 1000)! }
        let corrective = try request.correctiveActions.enumerated().map {
            try Self.text($1, field: "corrective_actions[\($0)]", max: 1000)!
        }
        let change = self.stamp(principal)
        return try await self.store.write { tx in
            let current = try tx.requireInspection(rowid)
            guard current.status == .scheduled else {
                throw RPCError(.failedPrecondition, "inspection \(current.id!) is \(current.status!.protoName)")
            }
            try tx.updateInspection(
                rowid,
                InspectionUpdate(status: .findings, inspected: (inspected.description, findings, corrective))
            )
            try tx.audit("inspection", rowid, "record", change)
            return try tx.requireInspection(rowid)
        }
    }

    func closeInspection(_ request: CloseInspectionRequest, _ context: ServerContext) async throws -> Inspection {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.inspectionId, prefix: "in", field: "inspection_id", what: "an inspection")
        let closed = try Self.day(request.closedOn, field: "closed_on", default: self.today)
        let reason = try Self.text(request.reason, field: "reason", max: 1000, optional: true)
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let current = try tx.requireInspection(rowid)
            guard current.status == .findings else {
                throw RPCError(
                    .failedPrecondition,
                    "inspection \(current.id!) is \(current.status!.protoName): record its findings first"
                )
            }
            if let inspected = current.inspectedOn.flatMap(Day.init), closed < inspected {
                throw RPCError.invalidArgument(field: "closed_on", "is before the inspection (\(inspected))")
            }
            try tx.updateInspection(rowid, InspectionUpdate(status: .closed, closedOn: closed.description))
            try tx.audit("inspection", rowid, "close", change)
            return try tx.requireInspection(rowid)
        }
    }

    func listInspections(
        _ request: ListInspectionsRequest,
        _ context: ServerContext
    ) async throws
        -> ListInspectionsResponse
    {
        _ = try self.caller(context)
        let agreement = try request.agreementId.map {
            try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
        }
        let status = try Self.known(request.status, field: "status", required: false)
        let filters = [
            "agreement=\(agreement.map(String.init) ?? "")", "status=\(status.map { String($0.rawValue) } ?? "")",
        ]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let found = try await self.store.read { tx in
            try tx.inspections(agreement: agreement, status: status, after: start, limit: size + 1)
        }
        let (page, next) = PageToken.split(found, size: size, filters: filters) { RecordID.rowid(of: $0.id) }
        return ListInspectionsResponse(inspections: Array(page), page: next)
    }

    func recordMeeting(_ request: RecordMeetingRequest, _ context: ServerContext) async throws -> Meeting {
        let principal = try self.caller(context)
        let agreement = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let kind = try Self.known(request.kind, field: "kind")!
        let today = self.today
        let held = try Self.day(request.heldOn, field: "held_on", default: today)
        guard held <= today else { throw RPCError.invalidArgument(field: "held_on", "\(held) is in the future") }
        let notes = try Self.text(request.notes, field: "notes", max: 4000, optional: true)
        let change = self.stamp(principal)
        return try await self.store.write { tx in
            _ = try tx.agreement(agreement, allowed: Self.openStatuses, action: "record a meeting")
            let rowid = try tx.insertMeeting(agreement: agreement, kind: kind, heldOn: held.description, notes: notes)
            try tx.audit("meeting", rowid, "record", change)
            return Meeting(
                id: Self.id("mt", rowid),
                agreementId: Self.id("mo", agreement),
                kind: kind,
                heldOn: held.description,
                notes: notes
            )
        }
    }
}
