import AccordMessages
import AccordPaging
import AccordRPC
import GRDB

/// The participation request's state machine (DOMAIN.md): which status may follow which.
enum RequestStateMachine {
    static let open: Set<RequestStatus> = [.received, .underReview, .qualified, .deficient, .agreementOffered]

    static func canDecide(from status: RequestStatus) -> Bool { status == .received || status == .underReview }
    static func canAmend(from status: RequestStatus) -> Bool { status == .deficient }
    static func canWithdraw(from status: RequestStatus) -> Bool { self.open.contains(status) }
    /// Supervision moves a qualified request to AGREEMENT_OFFERED, then to SIGNED.
    static func progressFrom(_ status: RequestStatus) -> RequestStatus? {
        switch status {
        case .agreementOffered: .qualified
        case .signed: .agreementOffered
        default: nil
        }
    }

    static func refuse(_ action: String, _ id: String, _ status: RequestStatus) -> RPCError {
        RPCError(
            .failedPrecondition,
            "request \(id) cannot be \(action): it is \(status.protoName)",
            details: ErrorDetails(
                reason: "ILLEGAL_TRANSITION",
                metadata: [KeyValue(key: "status", value: status.protoName)]
            )
        )
    }
}

extension IntakeService {
    struct RequestFields: Sendable {
        var agencyRowid: Int64
        var model: Model
        var partner: FederalPartner
        var consent: (name: String, office: String, signedOn: String)
        var needs: (encounters: UInt32, capacity: UInt32, officers: UInt32)
    }

    static func validateConsent(
        _ consent: Consent?,
        today: CalendarDate,
        prefix: String
    ) throws -> (String, String, String) {
        guard let consent else {
            throw RPCError.invalidArgument(field: prefix, "is required: a State or local official must consent")
        }
        return (
            try IntakeValidation.text(consent.officialName, field: "\(prefix).official_name"),
            try IntakeValidation.text(consent.office, field: "\(prefix).office", maxLength: 100),
            try IntakeValidation.pastDate(consent.signedOn, field: "\(prefix).signed_on", today: today).description
        )
    }

    static func validateNeeds(_ needs: NeedsAssessment?, prefix: String) throws -> (UInt32, UInt32, UInt32) {
        guard let needs else { throw RPCError.invalidArgument(field: prefix, "is required") }
        return (
            try IntakeValidation.count(
                needs.expectedAnnualEncounters,
                field: "\(prefix).expected_annual_encounters",
                range: 0...10_000_000
            ),
            try IntakeValidation.count(
                needs.detentionCapacity,
                field: "\(prefix).detention_capacity",
                range: 0...100_000
            ),
            try IntakeValidation.count(needs.officersProposed, field: "\(prefix).officers_proposed", range: 1...10_000)
        )
    }

    func submitRequest(_ request: SubmitRequestRequest, _ context: ServerContext) async throws -> ParticipationRequest {
        guard let body = request.request else { throw RPCError.invalidArgument(field: "request", "is required") }
        let agencyID = try IntakeValidation.text(body.agencyId, field: "request.agency_id", maxLength: 40)
        guard let agencyRowid = IntakeRecords.rowid(agencyID, prefix: "ag") else {
            throw RPCError.invalidArgument(field: "request.agency_id", "\(agencyID) is not an agency id")
        }
        try self.requireAgencyAccess(try self.principal(context), agencyRowid: agencyRowid, write: true)
        let fields = RequestFields(
            agencyRowid: agencyRowid,
            model: try IntakeValidation.known(body.model, field: "request.model"),
            partner: try IntakeValidation.known(body.partner, field: "request.partner"),
            consent: try Self.validateConsent(body.consent, today: self.today, prefix: "request.consent"),
            needs: try Self.validateNeeds(body.needs, prefix: "request.needs")
        )
        let reason = try IntakeValidation.optionalText(
            request.reason,
            field: "reason",
            maxLength: IntakeValidation.maxReasonLength
        )
        let idempotencyKey = try IntakeValidation.optionalText(
            context.metadata[MetadataKey.idempotencyKey],
            field: "idempotency-key",
            maxLength: 200
        )
        let who = self.who(context)
        let now = self.now()
        return try await self.store.write { db in
            if let idempotencyKey,
                let earlier = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT request.* FROM idempotency JOIN request ON request.rowid = idempotency.request_rowid WHERE key = ?",
                    arguments: [idempotencyKey]
                )
            {
                return IntakeRecords.request(earlier)
            }
            let rowid = try Self.insertRequest(
                db,
                fields,
                status: .received,
                source: "api",
                who: who,
                at: now,
                why: reason
            )
            if let idempotencyKey {
                try db.execute(
                    sql: "INSERT INTO idempotency (key, request_rowid) VALUES (?, ?)",
                    arguments: [idempotencyKey, rowid]
                )
            }
            return IntakeRecords.request(
                try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM request WHERE rowid = ?"), arguments: [rowid])!
            )
        }
    }

    /// Inserts a request after checking its agency exists and no open request of the same agency,
    /// model and partner does; queues its evaluation in the outbox. Returns the row id.
    static func insertRequest(
        _ db: Database,
        _ fields: RequestFields,
        status: RequestStatus,
        source: String,
        who: String,
        at now: Int64,
        why: String?
    ) throws -> Int64 {
        guard
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM agency WHERE rowid = ?"),
                arguments: [fields.agencyRowid]
            ) != nil
        else {
            throw RPCError(.notFound, "agency \(IntakeRecords.agencyID(fields.agencyRowid)) not found")
        }
        let openStatuses = RequestStateMachine.open.map(\.rawValue)
        if let open = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT rowid, status FROM request WHERE agency_rowid = ? AND model = ? AND partner = ?
                    AND status IN (\(openStatuses.map { _ in "?" }.joined(separator: ",")))
                    """
            ),
            arguments: StatementArguments([
                fields.agencyRowid, Int64(fields.model.rawValue), Int64(fields.partner.rawValue),
            ])
                + StatementArguments(openStatuses.map { Int64($0) })
        ) {
            let id = IntakeRecords.requestID(open["rowid"])
            let status = RequestStatus(rawValue: open["status"])
            throw RPCError(
                .alreadyExists,
                "agency already has open request \(id) (\(status.protoName)) for \(fields.model.protoName) with \(fields.partner.protoName)",
                details: ErrorDetails(reason: "OPEN_REQUEST_EXISTS", metadata: [KeyValue(key: "request_id", value: id)])
            )
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO request (agency_rowid, model, partner, consent_name, consent_office, consent_signed_on,
                    expected_encounters, detention_capacity, officers_proposed, status, revision, source,
                    created_by, created_at_ms, created_why, updated_by, updated_at_ms, updated_why)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                fields.agencyRowid, fields.model.rawValue, fields.partner.rawValue,
                fields.consent.name.isEmpty ? nil : fields.consent.name,
                fields.consent.office.isEmpty ? nil : fields.consent.office,
                fields.consent.signedOn.isEmpty ? nil : fields.consent.signedOn,
                fields.needs.officers == 0 ? nil : Int64(fields.needs.encounters),
                fields.needs.officers == 0 ? nil : Int64(fields.needs.capacity),
                fields.needs.officers == 0 ? nil : Int64(fields.needs.officers),
                status.rawValue, source, who, now, why, who, now, why,
            ]
        )
        let rowid = db.lastInsertedRowID
        try Self.queueEvaluation(db, rowid: rowid, revision: 1, at: now)
        try IntakeRecords.appendChange(
            db,
            entity: "request",
            id: IntakeRecords.requestID(rowid),
            action: "submit",
            who: who,
            at: now,
            why: why
        )
        return rowid
    }

    /// Queues the evaluation of one revision for delivery to the qualification service.
    static func queueEvaluation(_ db: Database, rowid: Int64, revision: Int64, at now: Int64) throws {
        try db.cachedStatement(
            sql: "INSERT INTO outbox (kind, subject_rowid, revision, created_at_ms) VALUES ('evaluate', ?, ?, ?)"
        ).execute(arguments: [rowid, revision, now])
    }

    /// Loads a request for a change, or NOT_FOUND.
    static func loadRequest(
        _ db: Database,
        _ id: String,
        field: String
    ) throws -> (rowid: Int64, request: ParticipationRequest) {
        guard let rowid = IntakeRecords.rowid(id, prefix: "rq") else {
            throw RPCError.invalidArgument(field: field, "\(id) is not a request id")
        }
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM request WHERE rowid = ?"),
                arguments: [rowid]
            )
        else {
            throw RPCError(.notFound, "request \(id) not found")
        }
        return (rowid, IntakeRecords.request(row))
    }

    func amendRequest(_ request: AmendRequestRequest, _ context: ServerContext) async throws -> ParticipationRequest {
        let id = try IntakeValidation.text(request.requestId, field: "request_id", maxLength: 40)
        guard let revision = request.revision else { throw RPCError.invalidArgument(field: "revision", "is required") }
        let consent = try request.consent.map { try Self.validateConsent($0, today: self.today, prefix: "consent") }
        let needs = try request.needs.map { try Self.validateNeeds($0, prefix: "needs") }
        guard consent != nil || needs != nil else {
            throw RPCError.invalidArgument(field: "consent", "an amendment changes the consent, the needs, or both")
        }
        let reason = try IntakeValidation.optionalText(
            request.reason,
            field: "reason",
            maxLength: IntakeValidation.maxReasonLength
        )
        let who = self.who(context)
        let now = self.now()
        let principal = try self.principal(context)
        return try await self.store.write { db in
            let (rowid, current) = try Self.loadRequest(db, id, field: "request_id")
            try self.requireAgencyAccess(
                principal,
                agencyRowid: IntakeRecords.rowid(current.agencyId!, prefix: "ag")!,
                write: true
            )
            guard RequestStateMachine.canAmend(from: current.status!) else {
                throw RequestStateMachine.refuse("amended", id, current.status!)
            }
            guard current.revision == revision else {
                throw RPCError(
                    .aborted,
                    "request \(id) is at revision \(current.revision!), not \(revision); read it again"
                )
            }
            var sets = [
                "status = ?", "revision = revision + 1", "deficiencies = ''", "updated_by = ?", "updated_at_ms = ?",
                "updated_why = ?",
            ]
            var arguments: StatementArguments = [RequestStatus.received.rawValue, who, now, reason]
            if let consent {
                sets += ["consent_name = ?", "consent_office = ?", "consent_signed_on = ?"]
                arguments += [consent.0, consent.1, consent.2]
            }
            if let needs {
                sets += ["expected_encounters = ?", "detention_capacity = ?", "officers_proposed = ?"]
                arguments += [Int64(needs.0), Int64(needs.1), Int64(needs.2)]
            }
            arguments += [rowid]
            try db.execute(
                sql: "UPDATE request SET \(sets.joined(separator: ", ")) WHERE rowid = ?",
                arguments: arguments
            )
            try Self.queueEvaluation(db, rowid: rowid, revision: Int64(revision) + 1, at: now)
            try IntakeRecords.appendChange(
                db,
                entity: "request",
                id: id,
                action: "amend",
                who: who,
                at: now,
                why: reason
            )
            return try Self.loadRequest(db, id, field: "request_id").request
        }
    }

    func withdrawRequest(
        _ request: WithdrawRequestRequest,
        _ context: ServerContext
    ) async throws -> ParticipationRequest {
        let id = try IntakeValidation.text(request.requestId, field: "request_id", maxLength: 40)
        let reason = try IntakeValidation.optionalText(
            request.reason,
            field: "reason",
            maxLength: IntakeValidation.maxReasonLength
        )
        let who = self.who(context)
        let now = self.now()
        let principal = try self.principal(context)
        return try await self.store.write { db in
            let (rowid, current) = try Self.loadRequest(db, id, field: "request_id")
            try self.requireAgencyAccess(
                principal,
                agencyRowid: IntakeRecords.rowid(current.agencyId!, prefix: "ag")!,
                write: true
            )
            guard RequestStateMachine.canWithdraw(from: current.status!) else {
                throw RequestStateMachine.refuse("withdrawn", id, current.status!)
            }
            try db.execute(
                sql:
                    "UPDATE request SET status = ?, updated_by = ?, updated_at_ms = ?, updated_why = ? WHERE rowid = ?",
                arguments: [RequestStatus.withdrawn.rawValue, who, now, reason, rowid]
            )
            try IntakeRecords.appendChange(
                db,
                entity: "request",
                id: id,
                action: "withdraw",
                who: who,
                at: now,
                why: reason
            )
            return try Self.loadRequest(db, id, field: "request_id").request
        }
    }

    func getRequest(_ request: GetRequestRequest, _ context: ServerContext) async throws -> ParticipationRequest {
        let id = try IntakeValidation.text(request.requestId, field: "request_id", maxLength: 40)
        let principal = try self.principal(context)
        return try await self.store.read { db in
            let request = try Self.loadRequest(db, id, field: "request_id").request
            try self.requireAgencyAccess(
                principal,
                agencyRowid: IntakeRecords.rowid(request.agencyId!, prefix: "ag")!,
                write: false
            )
            return request
        }
    }

    func listRequests(_ request: ListRequestsRequest, _ context: ServerContext) async throws -> ListRequestsResponse {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        var fingerprint: [String] = []
        if let only = try self.agencyLimit(try self.principal(context)) {
            if let asked = request.agencyId, IntakeRecords.rowid(asked, prefix: "ag") != only {
                throw RPCError(.permissionDenied, "an agency sees only its own requests")
            }
            clauses.append("request.agency_rowid = ?")
            arguments += [only]
            fingerprint.append("only=\(only)")
        }
        if let state = request.state {
            let code = try IntakeValidation.state(state, field: "state")
            clauses.append("agency.state = ?")
            arguments += [code]
            fingerprint.append("state=\(code)")
        }
        if let status = request.status {
            let known = try IntakeValidation.known(status, field: "status")
            clauses.append("request.status = ?")
            arguments += [known.rawValue]
            fingerprint.append("status=\(known.rawValue)")
        }
        if let model = request.model {
            let known = try IntakeValidation.known(model, field: "model")
            clauses.append("request.model = ?")
            arguments += [known.rawValue]
            fingerprint.append("model=\(known.rawValue)")
        }
        if let partner = request.partner {
            let known = try IntakeValidation.known(partner, field: "partner")
            clauses.append("request.partner = ?")
            arguments += [known.rawValue]
            fingerprint.append("partner=\(known.rawValue)")
        }
        if let agencyID = request.agencyId {
            guard let rowid = IntakeRecords.rowid(agencyID, prefix: "ag") else {
                throw RPCError.invalidArgument(field: "agency_id", "\(agencyID) is not an agency id")
            }
            clauses.append("request.agency_rowid = ?")
            arguments += [rowid]
            fingerprint.append("agency=\(rowid)")
        }
        if let days = request.minAgeDays {
            guard days <= 36_500 else {
                throw RPCError.invalidArgument(field: "min_age_days", "is more than 100 years")
            }
            clauses.append("request.created_at_ms <= ?")
            arguments += [self.now() - Int64(days) * 86_400_000]
            fingerprint.append("age=\(days)")
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
                sql: """
                    SELECT request.* FROM request JOIN agency ON agency.rowid = request.agency_rowid
                    WHERE \(whereSQL) AND request.rowid > ? ORDER BY request.rowid LIMIT ?
                    """,
                arguments: finalArguments
            )
            let (page, next) = PageToken.split(rows, size: size, filters: finalFingerprint)
            return ListRequestsResponse(requests: page.map(IntakeRecords.request), page: next)
        }
    }

    /// Qualification's decision on one revision. Recording the same decision again changes
    /// nothing (the evaluation hand-off may deliver twice); a decision on an old revision is refused.
    func recordDecision(_ request: RecordDecisionRequest, _ context: ServerContext) async throws -> ParticipationRequest
    {
        try self.requireProgramOffice(try self.principal(context), "record decisions")
        let id = try IntakeValidation.text(request.requestId, field: "request_id", maxLength: 40)
        guard let revision = request.revision else { throw RPCError.invalidArgument(field: "revision", "is required") }
        let status = try IntakeValidation.known(request.status, field: "status")
        guard status == .qualified || status == .deficient else {
            throw RPCError.invalidArgument(
                field: "status",
                "a decision is REQUEST_STATUS_QUALIFIED or REQUEST_STATUS_DEFICIENT"
            )
        }
        guard status == .qualified || !request.deficiencies.isEmpty else {
            throw RPCError.invalidArgument(field: "deficiencies", "a deficient decision names at least one deficiency")
        }
        for (index, deficiency) in request.deficiencies.enumerated() {
            _ = try IntakeValidation.text(deficiency.code, field: "deficiencies[\(index)].code", maxLength: 64)
            _ = try IntakeValidation.text(deficiency.message, field: "deficiencies[\(index)].message", maxLength: 1000)
        }
        let rulesVersion = try IntakeValidation.text(request.rulesVersion, field: "rules_version", maxLength: 64)
        let who = self.who(context)
        let now = self.now()
        let encoded = IntakeRecords.deficiencies(encoding: request.deficiencies)
        return try await self.store.write { db in
            let (rowid, current) = try Self.loadRequest(db, id, field: "request_id")
            if current.revision == revision, current.status == status, current.rulesVersion == rulesVersion {
                return current  // the same decision delivered again
            }
            guard current.revision == revision else {
                throw RPCError(
                    .failedPrecondition,
                    "the decision is on revision \(revision) but request \(id) is at revision \(current.revision!)"
                )
            }
            guard RequestStateMachine.canDecide(from: current.status!) else {
                throw RequestStateMachine.refuse("decided", id, current.status!)
            }
            try db.execute(
                sql: """
                    UPDATE request SET status = ?, deficiencies = ?, rules_version = ?, updated_by = ?, updated_at_ms = ?,
                        updated_why = ? WHERE rowid = ?
                    """,
                arguments: [
                    status.rawValue, encoded, rulesVersion, who, now, "decision of rules \(rulesVersion)", rowid,
                ]
            )
            try IntakeRecords.appendChange(
                db,
                entity: "request",
                id: id,
                action: "decide:\(status.protoName)",
                who: who,
                at: now,
                why: rulesVersion
            )
            return try Self.loadRequest(db, id, field: "request_id").request
        }
    }

    func recordAgreementProgress(
        _ request: RecordAgreementProgressRequest,
        _ context: ServerContext
    ) async throws -> ParticipationRequest {
        try self.requireProgramOffice(try self.principal(context), "record agreement progress")
        let id = try IntakeValidation.text(request.requestId, field: "request_id", maxLength: 40)
        let status = try IntakeValidation.known(request.status, field: "status")
        guard let from = RequestStateMachine.progressFrom(status) else {
            throw RPCError.invalidArgument(
                field: "status",
                "agreement progress is REQUEST_STATUS_AGREEMENT_OFFERED or REQUEST_STATUS_SIGNED"
            )
        }
        let agreement = try IntakeValidation.text(request.agreementId, field: "agreement_id", maxLength: 40)
        let who = self.who(context)
        let now = self.now()
        return try await self.store.write { db in
            let (rowid, current) = try Self.loadRequest(db, id, field: "request_id")
            if current.status == status { return current }  // the same progress delivered again
            guard current.status == from else {
                throw RequestStateMachine.refuse("moved to \(status.protoName)", id, current.status!)
            }
            try db.execute(
                sql:
                    "UPDATE request SET status = ?, updated_by = ?, updated_at_ms = ?, updated_why = ? WHERE rowid = ?",
                arguments: [status.rawValue, who, now, "agreement \(agreement)", rowid]
            )
            try IntakeRecords.appendChange(
                db,
                entity: "request",
                id: id,
                action: "agreement:\(status.protoName)",
                who: who,
                at: now,
                why: agreement
            )
            return try Self.loadRequest(db, id, field: "request_id").request
        }
    }

    /// Requests by state, model, partner and status; days from submission to first decision.
    func requestReport(_ request: RequestReportRequest, _ context: ServerContext) async throws -> RequestReport {
        let principal = try self.principal(context)
        guard principal.role != .agency else {
            throw RPCError(.permissionDenied, "\(principal.header) may not read the program's request report")
        }
        return try await self.store.read { db in
            let counts = try Row.fetchAll(
                db,
                sql: """
                    SELECT agency.state, request.model, request.partner, request.status, count(*) AS n
                    FROM request JOIN agency ON agency.rowid = request.agency_rowid
                    GROUP BY agency.state, request.model, request.partner, request.status
                    ORDER BY agency.state, request.model, request.partner, request.status
                    """
            ).map {
                RequestCount(
                    state: $0["state"],
                    model: Model(rawValue: $0["model"]),
                    partner: FederalPartner(rawValue: $0["partner"]),
                    status: RequestStatus(rawValue: $0["status"]),
                    count: UInt32(clamping: $0["n"] as Int64)
                )
            }
            let days = try Int64.fetchAll(
                db,
                sql: """
                    SELECT (min(change_log.at_ms) - request.created_at_ms) / 86400000 AS days
                    FROM request JOIN change_log ON change_log.entity = 'request'
                        AND change_log.entity_id = 'rq_' || request.rowid AND change_log.action LIKE 'decide:%'
                    GROUP BY request.rowid ORDER BY days
                    """
            )
            func percentile(_ q: Double) -> UInt32? {
                days.isEmpty ? nil : UInt32(clamping: days[min(days.count - 1, Int(Double(days.count) * q))])
            }
            return RequestReport(
                counts: counts,
                decided: UInt32(days.count),
                medianDaysToDecision: percentile(0.5),
                p90DaysToDecision: percentile(0.9)
            )
        }
    }
}
