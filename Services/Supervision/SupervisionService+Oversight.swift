import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordStorage
import GRDB

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

    // MARK: Deadlines

    /// `hours` of weekdays after `start` (UTC): Saturdays and Sundays do not count.
    public static func addingBusinessHours(_ hours: Int, to start: Int64) -> Int64 {
        var remaining = Int64(hours) * 3_600_000
        var t = start
        while true {
            var day = Day(unixMilliseconds: t)
            while day.weekday >= 5 {
                day = day.adding(1)
                t = day.startMilliseconds
            }
            let endOfDay = day.adding(1).startMilliseconds
            if remaining <= endOfDay - t { return t + remaining }
            remaining -= endOfDay - t
            t = endOfDay
        }
    }

    /// The deadlines a complaint has missed as of `now`.
    static func overdue(_ row: Row, now: Int64) -> [String] {
        var missed: [String] = []
        let noticeDue: Int64 = row["notice_due_ms"]
        let notified: Int64? = row["notified_at_ms"]
        if (notified ?? now) > noticeDue { missed.append("notice") }
        let resolutionDue: Int64 = row["resolution_due_ms"]
        let resolved: Int64? = row["resolved_at_ms"]
        if (resolved ?? now) > resolutionDue { missed.append("resolution") }
        if let reportDue = row["outcome_report_due_ms"] as Int64? {
            let reported: Int64? = row["outcome_reported_at_ms"]
            if (reported ?? now) > reportDue { missed.append("outcome_report") }
        }
        return missed
    }

    static func complaint(_ row: Row, now: Int64) -> Complaint {
        Complaint(
            id: Self.id("cp", row["rowid"]),
            agreementId: Self.id("mo", row["agreement_rowid"]),
            agencyId: row["agency_id"],
            officerId: row["officer_id"],
            source: row["source"],
            summary: row["summary"],
            receivedAtMs: row["received_at_ms"],
            mayLeadToDiscipline: (row["may_lead_to_discipline"] as Int64) != 0,
            status: ComplaintStatus(rawValue: row["status"]),
            notifiedAtMs: row["notified_at_ms"],
            noticeDueMs: row["notice_due_ms"],
            resolutionDueMs: row["resolution_due_ms"],
            resolvedAtMs: row["resolved_at_ms"],
            resolution: row["resolution"],
            outcomeReportedAtMs: row["outcome_reported_at_ms"],
            outcomeReportDueMs: row["outcome_report_due_ms"],
            overdue: Self.overdue(row, now: now)
        )
    }

    static func loadComplaint(_ db: Database, _ rowid: Int64, now: Int64) throws -> Complaint {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM complaint WHERE rowid = ?", arguments: [rowid]) else {
            throw RPCError(.notFound, "complaint \(Self.id("cp", rowid)) not found")
        }
        return Self.complaint(row, now: now)
    }

    // MARK: Complaints

    func fileComplaint(_ request: FileComplaintRequest, _ context: ServerContext) async throws -> Complaint {
        let principal = try self.caller(context)
        try self.require(principal, [.agency, .programOffice, .operator, .supervisor], "file complaints")
        guard let complaint = request.complaint else {
            throw RPCError.invalidArgument(field: "complaint", "is required")
        }
        let agreement = try Self.rowid(
            complaint.agreementId,
            prefix: "mo",
            field: "complaint.agreement_id",
            what: "an agreement"
        )
        let officer = try Self.text(complaint.officerId, field: "complaint.officer_id", max: 40, optional: true)
        let source = try Self.text(complaint.source, field: "complaint.source", max: 60)!
        let summary = try Self.text(complaint.summary, field: "complaint.summary", max: 4000)!
        let now = self.now()
        let received = complaint.receivedAtMs ?? now
        guard received > 0, received <= now + 60_000 else {
            throw RPCError.invalidArgument(field: "complaint.received_at_ms", "is in the future")
        }
        let discipline = complaint.mayLeadToDiscipline ?? false
        if discipline && officer == nil {
            throw RPCError.invalidArgument(field: "complaint.officer_id", "is required when it may lead to discipline")
        }
        let noticeDue = Self.addingBusinessHours(self.rules.complaintNoticeBusinessHours, to: received)
        let resolutionDue = received + Int64(self.rules.complaintResolutionDays) * 86_400_000
        let who = principal.description
        return try await self.store.write { db in
            let owner = try Self.loadAgreement(db, agreement)
            if principal.role == .agency && owner.agencyId != principal.scope {
                throw RPCError(.permissionDenied, "\(principal.header) files complaints only on its own agreements")
            }
            var authorization: Int64?
            if let officer {
                authorization = try Int64.fetchOne(
                    db,
                    sql:
                        "SELECT rowid FROM authorization WHERE officer_id = ? AND agency_id = ? ORDER BY rowid DESC LIMIT 1",
                    arguments: [officer, owner.agencyId]
                )
                if authorization == nil {
                    throw RPCError.invalidArgument(
                        field: "complaint.officer_id",
                        "\(officer) has never been authorized for agency \(owner.agencyId!)"
                    )
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO complaint (agreement_rowid, agency_id, officer_id, source, summary, received_at_ms,
                        may_lead_to_discipline, status, notice_due_ms, resolution_due_ms, filed_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    agreement, owner.agencyId, officer, source, summary, received, discipline,
                    ComplaintStatus.open.rawValue, noticeDue, resolutionDue, who,
                ]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(db, "complaint", rowid, "file", who: who, why: nil, at: now)
            if discipline, let authorization,
                let status = try Int32.fetchOne(
                    db,
                    sql: "SELECT status FROM authorization WHERE rowid = ?",
                    arguments: [authorization]
                ),
                status == AuthorizationStatus.active.rawValue || status == AuthorizationStatus.suspended.rawValue
            {
                try Self.suspend(
                    db,
                    authorization,
                    reason: "complaint \(Self.id("cp", rowid)) pending",
                    cause: .complaint(rowid),
                    who: who,
                    at: now
                )
            }
            return try Self.loadComplaint(db, rowid, now: now)
        }
    }

    func updateComplaint(_ request: UpdateComplaintRequest, _ context: ServerContext) async throws -> Complaint {
        let principal = try self.caller(context)
        try self.require(principal, [.agency, .programOffice, .operator, .supervisor], "update complaints")
        let rowid = try Self.rowid(request.complaintId, prefix: "cp", field: "complaint_id", what: "a complaint")
        let resolution = try Self.text(request.resolution, field: "resolution", max: 4000, optional: true)
        let now = self.now()
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
        let who = principal.description
        let reportDays = Int64(self.rules.complaintOutcomeReportDays)
        return try await self.store.write { db in
            let current = try Self.loadComplaint(db, rowid, now: now)
            if principal.role == .agency && current.agencyId != principal.scope {
                throw RPCError(.permissionDenied, "\(principal.header) updates only its own complaints")
            }
            let received = current.receivedAtMs ?? 0
            if let notified = request.notifiedAtMs {
                guard current.notifiedAtMs == nil else {
                    throw RPCError(.failedPrecondition, "complaint \(current.id!) was already notified")
                }
                guard notified >= received else {
                    throw RPCError.invalidArgument(field: "notified_at_ms", "is before the complaint was received")
                }
                try db.execute(
                    sql: "UPDATE complaint SET notified_at_ms = ? WHERE rowid = ?",
                    arguments: [notified, rowid]
                )
            }
            if let resolved = request.resolvedAtMs {
                guard current.status == .open else {
                    throw RPCError(.failedPrecondition, "complaint \(current.id!) is already resolved")
                }
                guard resolved >= received else {
                    throw RPCError.invalidArgument(field: "resolved_at_ms", "is before the complaint was received")
                }
                try db.execute(
                    sql: """
                        UPDATE complaint SET status = ?, resolved_at_ms = ?, resolution = ?, outcome_report_due_ms = ?
                        WHERE rowid = ?
                        """,
                    arguments: [
                        ComplaintStatus.resolved.rawValue, resolved, resolution, resolved + reportDays * 86_400_000,
                        rowid,
                    ]
                )
                // The officer's authority comes back once nothing else keeps it suspended.
                let suspended = try Int64.fetchAll(
                    db,
                    sql:
                        "SELECT DISTINCT authorization_rowid FROM authorization_suspension WHERE complaint_rowid = ? AND until_ms IS NULL",
                    arguments: [rowid]
                )
                for authorization in suspended {
                    try Self.lift(
                        db,
                        authorization,
                        cause: .complaint(rowid),
                        who: who,
                        why: "complaint resolved",
                        at: now
                    )
                }
            }
            if let reported = request.outcomeReportedAtMs {
                let resolvedAt = try Int64.fetchOne(
                    db,
                    sql: "SELECT resolved_at_ms FROM complaint WHERE rowid = ?",
                    arguments: [rowid]
                )
                guard let resolvedAt else {
                    throw RPCError(
                        .failedPrecondition,
                        "complaint \(current.id!) is not resolved: no outcome to report"
                    )
                }
                guard reported >= resolvedAt else {
                    throw RPCError.invalidArgument(field: "outcome_reported_at_ms", "is before the resolution")
                }
                try db.execute(
                    sql: "UPDATE complaint SET outcome_reported_at_ms = ? WHERE rowid = ?",
                    arguments: [reported, rowid]
                )
            }
            try Self.audit(db, "complaint", rowid, "update", who: who, why: resolution, at: now)
            return try Self.loadComplaint(db, rowid, now: now)
        }
    }

    func listComplaints(
        _ request: ListComplaintsRequest,
        _ context: ServerContext
    ) async throws -> ListComplaintsResponse {
        let principal = try self.caller(context)
        let agreement = try request.agreementId.map {
            try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
        }
        let status = try Self.known(request.status, field: "status", required: false)?.rawValue
        if principal.role == .agency && request.agencyId != nil && request.agencyId != principal.scope {
            throw RPCError(.permissionDenied, "an agency sees only its own complaints")
        }
        let agency = principal.role == .agency ? principal.scope : request.agencyId
        let overdueOnly = request.overdueOnly ?? false
        let filters = [
            "agreement=\(agreement.map(String.init) ?? "")", "status=\(status.map(String.init) ?? "")",
            "agency=\(agency ?? "")", "overdue=\(overdueOnly)",
        ]
        let size = try PageToken.size(request.page)
        var after = try PageToken.decode(request.page, filters: filters).afterRowid
        let now = self.now()
        // Overdue is computed, not stored: scan in batches until a page is full.
        var complaints: [Complaint] = []
        var last: Int64 = after
        var more = false
        scan: while true {
            let start = after
            let batch = try await self.store.read { db in
                var filter = SQLFilter()
                filter.equal("agreement_rowid", agreement)
                filter.equal("status", status)
                filter.equal("agency_id", agency)
                filter.add("rowid > ?", [start])
                return try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM complaint WHERE \(filter.sql) ORDER BY rowid LIMIT 500",
                    arguments: filter.arguments
                ).map { (rowid: $0["rowid"] as Int64, complaint: Self.complaint($0, now: now)) }
            }
            for (rowid, complaint) in batch {
                if overdueOnly && complaint.overdue.isEmpty { continue }
                if complaints.count == size {
                    more = true
                    break scan
                }
                complaints.append(complaint)
                last = rowid
            }
            guard batch.count == 500, let end = batch.last else { break }
            after = end.rowid
        }
        let page =
            more ? PageResponse(nextPageToken: PageToken.encode(afterRowid: last, filters: filters)) : PageResponse()
        return ListComplaintsResponse(complaints: complaints, page: page)
    }

    // MARK: Inspections and meetings

    static func loadInspection(_ db: Database, _ rowid: Int64) throws -> Inspection {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM inspection WHERE rowid = ?", arguments: [rowid]) else {
            throw RPCError(.notFound, "inspection \(Self.id("in", rowid)) not found")
        }
        return Inspection(
            id: Self.id("in", rowid),
            agreementId: Self.id("mo", row["agreement_rowid"]),
            scheduledOn: row["scheduled_on"],
            status: InspectionStatus(rawValue: row["status"]),
            findings: (row["findings"] as String).split(separator: "\n").map(String.init),
            correctiveActions: (row["corrective_actions"] as String).split(separator: "\n").map(String.init),
            inspectedOn: row["inspected_on"],
            closedOn: row["closed_on"]
        )
    }

    static let inspectors: Set<Principal.Role> = [.programOffice, .operator, .supervisor]

    func scheduleInspection(_ request: ScheduleInspectionRequest, _ context: ServerContext) async throws -> Inspection {
        let principal = try self.caller(context)
        try self.require(principal, Self.inspectors, "schedule inspections")
        let agreement = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let scheduled = try Self.day(request.scheduledOn, field: "scheduled_on")
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            _ = try Self.agreementFor(db, agreement, allowed: Self.openStatuses, action: "schedule an inspection")
            try db.execute(
                sql: "INSERT INTO inspection (agreement_rowid, scheduled_on, status) VALUES (?, ?, ?)",
                arguments: [agreement, scheduled.description, InspectionStatus.scheduled.rawValue]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(db, "inspection", rowid, "schedule", who: who, why: nil, at: now)
            return try Self.loadInspection(db, rowid)
        }
    }

    func recordInspection(_ request: RecordInspectionRequest, _ context: ServerContext) async throws -> Inspection {
        let principal = try self.caller(context)
        try self.require(principal, Self.inspectors, "record inspections")
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
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let current = try Self.loadInspection(db, rowid)
            guard current.status == .scheduled else {
                throw RPCError(.failedPrecondition, "inspection \(current.id!) is \(current.status!.protoName)")
            }
            try db.execute(
                sql:
                    "UPDATE inspection SET status = ?, inspected_on = ?, findings = ?, corrective_actions = ? WHERE rowid = ?",
                arguments: [
                    InspectionStatus.findings.rawValue, inspected.description, findings.joined(separator: "\n"),
                    corrective.joined(separator: "\n"), rowid,
                ]
            )
            try Self.audit(db, "inspection", rowid, "record", who: who, why: nil, at: now)
            return try Self.loadInspection(db, rowid)
        }
    }

    func closeInspection(_ request: CloseInspectionRequest, _ context: ServerContext) async throws -> Inspection {
        let principal = try self.caller(context)
        try self.require(principal, Self.inspectors, "close inspections")
        let rowid = try Self.rowid(request.inspectionId, prefix: "in", field: "inspection_id", what: "an inspection")
        let today = self.today
        let closed = try Self.day(request.closedOn, field: "closed_on", default: today)
        let reason = try Self.text(request.reason, field: "reason", max: 1000, optional: true)
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let current = try Self.loadInspection(db, rowid)
            guard current.status == .findings else {
                throw RPCError(
                    .failedPrecondition,
                    "inspection \(current.id!) is \(current.status!.protoName): record its findings first"
                )
            }
            if let inspected = current.inspectedOn.flatMap(Day.init), closed < inspected {
                throw RPCError.invalidArgument(field: "closed_on", "is before the inspection (\(inspected))")
            }
            try db.execute(
                sql: "UPDATE inspection SET status = ?, closed_on = ? WHERE rowid = ?",
                arguments: [InspectionStatus.closed.rawValue, closed.description, rowid]
            )
            try Self.audit(db, "inspection", rowid, "close", who: who, why: reason, at: now)
            return try Self.loadInspection(db, rowid)
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
        let status = try Self.known(request.status, field: "status", required: false)?.rawValue
        let filters = ["agreement=\(agreement.map(String.init) ?? "")", "status=\(status.map(String.init) ?? "")"]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        return try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("agreement_rowid", agreement)
            filter.equal("status", status)
            filter.add("rowid > ?", [start])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid FROM inspection WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                arguments: filter.arguments + [size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: filters)
            return ListInspectionsResponse(
                inspections: try page.map { try Self.loadInspection(db, $0["rowid"]) },
                page: next
            )
        }
    }

    func recordMeeting(_ request: RecordMeetingRequest, _ context: ServerContext) async throws -> Meeting {
        let principal = try self.caller(context)
        try self.require(principal, Self.inspectors, "record meetings")
        let agreement = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let kind = try Self.known(request.kind, field: "kind")!
        let today = self.today
        let held = try Self.day(request.heldOn, field: "held_on", default: today)
        guard held <= today else { throw RPCError.invalidArgument(field: "held_on", "\(held) is in the future") }
        let notes = try Self.text(request.notes, field: "notes", max: 4000, optional: true)
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            _ = try Self.agreementFor(db, agreement, allowed: Self.openStatuses, action: "record a meeting")
            try db.execute(
                sql: "INSERT INTO meeting (agreement_rowid, kind, held_on, notes) VALUES (?, ?, ?, ?)",
                arguments: [agreement, kind.rawValue, held.description, notes]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(db, "meeting", rowid, "record", who: who, why: nil, at: now)
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
