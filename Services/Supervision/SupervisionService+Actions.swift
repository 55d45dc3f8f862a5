import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordStorage
import AccordWire
import GRDB

/// Delegated actions: checked against the agreement, the officer's authority and the model's
/// delegation at the moment they were performed; accepted ones enter their supervisor's review
/// queue, refused ones are recorded as rejected.
extension SupervisionService {
    func registerActions(into router: inout RPCRouter) {
        router.register(SupervisionMethods.recordAction) { try await self.recordAction($0, $1) }
        router.register(SupervisionMethods.reviewAction) { try await self.reviewAction($0, $1) }
        router.register(SupervisionMethods.signChargingDocument) { try await self.signChargingDocument($0, $1) }
        router.register(SupervisionMethods.getAction) { try await self.getAction($0, $1) }
        router.register(SupervisionMethods.listActions) { try await self.listActions($0, $1) }
        router.register(SupervisionMethods.exportActions) { try await self.exportActions($0, $1, $2) }
    }

    static func action(_ row: Row) -> DelegatedAction {
        DelegatedAction(
            id: Self.id("ac", row["rowid"]),
            officerId: row["officer_id"],
            agencyId: row["agency_id"],
            agreementId: (row["agreement_rowid"] as Int64?).map { Self.id("mo", $0) },
            authorizationId: (row["authorization_rowid"] as Int64?).map { Self.id("az", $0) },
            function: DelegatedFunction(rawValue: row["function"]),
            performedAtMs: row["performed_at_ms"],
            place: ActionPlace(rawValue: row["place"]),
            location: row["location"],
            subjectRef: row["subject_ref"],
            outcome: row["outcome"],
            citizenshipClaimed: (row["citizenship_claimed"] as Int64) != 0,
            detainerCategory: row["detainer_category"],
            decision: ActionDecision(rawValue: row["decision"]),
            rejectionCode: row["rejection_code"],
            rejectionReason: row["rejection_reason"],
            recordedAtMs: row["recorded_at_ms"],
            notifyByMs: row["notify_by_ms"],
            late: (row["late"] as Int64) != 0,
            supervisorId: (row["supervisor_rowid"] as Int64?).map { Self.id("sv", $0) },
            review: ReviewStatus(rawValue: row["review"]),
            reviewReason: row["review_reason"],
            reviewedAtMs: row["reviewed_at_ms"],
            draft: (row["draft"] as Int64) != 0,
            signedBy: row["signed_by"]
        )
    }

    static func loadAction(_ db: Database, _ rowid: Int64) throws -> DelegatedAction {
        let statement = try db.cachedStatement(sql: "SELECT * FROM action WHERE rowid = ?")
        guard let row = try Row.fetchOne(statement, arguments: [rowid]) else {
            throw RPCError(.notFound, "action \(Self.id("ac", rowid)) not found")
        }
        return Self.action(row)
    }

    /// The validated fields of an action as the officer reported it.
    struct Report: Sendable {
        var officerID: String
        var function: DelegatedFunction
        var performedAt: Int64
        var place: ActionPlace
        var location: String?
        var subject: String
        var outcome: String?
        var citizenshipClaimed: Bool
        var category: String?
    }

    /// Why an action is refused: the status code the caller gets and the recorded reason.
    struct Refusal: Error {
        var code: StatusCode
        var reason: String
        var message: String
    }

    /// Checks an action against the records as they stood when it was performed. Returns the
    /// authorization, agreement and supervisor it is accepted under, or the refusal.
    func check(
        _ db: Database,
        _ report: Report,
        authorization row: Row,
        agreement: Int64,
        status: AgreementStatus?
    ) throws -> Result<
        (authorization: Int64, agreement: Int64, supervisor: Int64, model: Model), Refusal
    > {
        let t = report.performedAt
        let authorization: Int64 = row["rowid"]
        let model = Model(rawValue: row["model"])
        let azID = Self.id("az", authorization)
        let moID = Self.id("mo", agreement)
        // 1. The agreement was in force.
        guard status == .active || status == .terminationNoticed else {
            return .failure(
                Refusal(
                    code: .failedPrecondition,
                    reason: "AGREEMENT_NOT_ACTIVE",
                    message: "agreement \(moID) was \(status?.protoName ?? "not yet in force") at that time"
                )
            )
        }
        // 2. The officer's authority was in force and not suspended.
        let authorizedAt: Int64 = row["authorized_at_ms"]
        guard authorizedAt <= t else {
            return .failure(
                Refusal(
                    code: .permissionDenied,
                    reason: "NOT_AUTHORIZED",
                    message: "officer \(report.officerID) was not yet authorized at that time (\(azID))"
                )
            )
        }
        if let revokedAt = row["revoked_at_ms"] as Int64?, revokedAt <= t {
            return .failure(
                Refusal(
                    code: .permissionDenied,
                    reason: "AUTHORIZATION_REVOKED",
                    message: "authorization \(azID) was revoked: \(row["revoked_because"] as String? ?? "")"
                )
            )
        }
        if let expiresAt = row["expires_at_ms"] as Int64?, expiresAt <= t {
            return .failure(
                Refusal(
                    code: .permissionDenied,
                    reason: "AUTHORIZATION_EXPIRED",
                    message:
                        "authorization \(azID) (\(model.shortName)) expired after \(self.rules.tfmAuthorityDays) days"
                )
            )
        }
        if let suspension = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT reason FROM authorization_suspension WHERE authorization_rowid = ? AND from_ms <= ?
                    AND (until_ms IS NULL OR until_ms > ?) LIMIT 1
                    """
            ),
            arguments: [authorization, t, t]
        ) {
            return .failure(
                Refusal(
                    code: .failedPrecondition,
                    reason: "AUTHORITY_SUSPENDED",
                    message: "officer \(report.officerID)'s authority was suspended: \(suspension["reason"] as String)"
                )
            )
        }
        // 3. The model delegates this function at this place.
        let categories = (row["categories"] as String).split(separator: "\n").map(String.init)
        if let refusal = self.rules.refusal(
            model: model,
            function: report.function,
            place: report.place,
            category: report.category,
            allowedCategories: categories
        ) {
            return .failure(Refusal(code: .permissionDenied, reason: "FUNCTION_NOT_DELEGATED", message: refusal))
        }
        // 4. A federal supervisor was assigned to the officer or the agreement.
        guard let supervisor = try Self.supervisor(db, authorization: authorization, agreement: agreement, at: t) else {
            return .failure(
                Refusal(
                    code: .failedPrecondition,
                    reason: "NO_SUPERVISOR",
                    message:
                        "no federal supervisor was assigned to officer \(report.officerID) or agreement \(moID) at that time"
                )
            )
        }
        return .success((authorization, agreement, supervisor, model))
    }

    func recordAction(_ request: RecordActionRequest, _ context: ServerContext) async throws -> DelegatedAction {
        let principal = try self.caller(context)
        try self.require(principal, [.agency, .programOffice, .operator], "record delegated actions")
        guard let action = request.action else { throw RPCError.invalidArgument(field: "action", "is required") }
        let now = self.now()
        guard let performedAt = action.performedAtMs, performedAt > 0 else {
            throw RPCError.invalidArgument(field: "action.performed_at_ms", "is required")
        }
        guard performedAt <= now + 60_000 else {
            throw RPCError.invalidArgument(field: "action.performed_at_ms", "is in the future")
        }
        let report = Report(
            officerID: try Self.text(action.officerId, field: "action.officer_id", max: 40)!,
            function: try Self.known(action.function, field: "action.function")!,
            performedAt: performedAt,
            place: try Self.known(action.place, field: "action.place")!,
            location: try Self.text(action.location, field: "action.location", optional: true),
            subject: try Self.text(action.subjectRef, field: "action.subject_ref", max: 80)!,
            outcome: try Self.text(action.outcome, field: "action.outcome", max: 1000, optional: true),
            citizenshipClaimed: action.citizenshipClaimed ?? false,
            category: try Self.text(
                action.detainerCategory,
                field: "action.detainer_category",
                max: 100,
                optional: true
            )
        )
        let who = principal.description
        let outcome: Result<DelegatedAction, Refusal> = try await self.store.write { db in
            // The officer's authorization in force at that moment, else their latest.
            let authorization = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM authorization WHERE officer_id = ?
                        ORDER BY (authorized_at_ms <= ?) DESC, authorized_at_ms DESC, rowid DESC LIMIT 1
                        """
                ),
                arguments: [report.officerID, performedAt]
            )
            if principal.role == .agency, let authorization, (authorization["agency_id"] as String) != principal.scope {
                throw RPCError(
                    .permissionDenied,
                    "\(principal.header) records actions only for its own officers; \(report.officerID) is not one"
                )
            }
            let checked: Result<(authorization: Int64, agreement: Int64, supervisor: Int64, model: Model), Refusal>
            if let authorization {
                // A renewal carries the officers over: an action from before it counts under the
                // agreement it renewed.
                let (agreement, status) = try Self.agreementInForce(
                    db,
                    current: authorization["agreement_rowid"],
                    at: performedAt
                )
                // No status yet at that moment: the agreement did not exist.
                guard status != nil else {
                    throw RPCError.invalidArgument(
                        field: "action.performed_at_ms",
                        "is before agreement \(Self.id("mo", agreement)) existed"
                    )
                }
                checked = try self.check(db, report, authorization: authorization, agreement: agreement, status: status)
            } else {
                if principal.role == .agency {
                    throw RPCError(
                        .permissionDenied,
                        "officer \(report.officerID) is not an authorized officer of \(principal.header)"
                    )
                }
                checked = .failure(
                    Refusal(
                        code: .permissionDenied,
                        reason: "NOT_AUTHORIZED",
                        message: "officer \(report.officerID) holds no authorization"
                    )
                )
            }
            let refusal: Refusal?
            var columns:
                (agency: String?, agreement: Int64?, authorization: Int64?, supervisor: Int64?, notifyBy: Int64?)
            columns = (
                authorization?["agency_id"], authorization?["agreement_rowid"], authorization?["rowid"], nil, nil
            )
            var late = false
            switch checked {
            case .success(let accepted):
                refusal = nil
                columns.agreement = accepted.agreement
                columns.supervisor = accepted.supervisor
                if let minutes = self.rules.notifyWithinMinutes(
                    model: accepted.model,
                    function: report.function,
                    citizenshipClaimed: report.citizenshipClaimed
                ) {
                    let notifyBy = performedAt + Int64(minutes) * 60_000
                    columns.notifyBy = notifyBy
                    late = now > notifyBy
                }
            case .failure(let failure):
                refusal = failure
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO action (officer_id, agency_id, agreement_rowid, authorization_rowid, function, performed_at_ms,
                        place, location, subject_ref, outcome, citizenship_claimed, detainer_category, decision,
                        rejection_code, rejection_reason, recorded_at_ms, recorded_by, notify_by_ms, late, supervisor_rowid,
                        review, draft)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    report.officerID, columns.agency, columns.agreement, columns.authorization,
                    report.function.rawValue,
                    performedAt, report.place.rawValue, report.location, report.subject, report.outcome,
                    report.citizenshipClaimed, report.category,
                    (refusal == nil ? ActionDecision.accepted : ActionDecision.rejected).rawValue,
                    refusal?.reason, refusal?.message, now, who, columns.notifyBy, late, columns.supervisor,
                    (refusal == nil ? ReviewStatus.pending : ReviewStatus.unspecified).rawValue,
                    refusal == nil && report.function == .chargingDocument,
                ]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(
                db,
                "action",
                rowid,
                refusal == nil ? "accept" : "reject:\(refusal!.reason)",
                who: who,
                why: refusal?.message,
                at: now
            )
            if let refusal {
                var failure = refusal
                failure.message = "\(refusal.message) (recorded as rejected action \(Self.id("ac", rowid)))"
                return .failure(failure)
            }
            return .success(try Self.loadAction(db, rowid))
        }
        switch outcome {
        case .success(let action):
            return action
        case .failure(let refusal):
            context.logger.notice(
                "Delegated action rejected",
                metadata: ["officer": "\(report.officerID)", "reason": "\(refusal.reason)"]
            )
            throw RPCError(refusal.code, refusal.message, details: ErrorDetails(reason: refusal.reason))
        }
    }

    func reviewAction(_ request: ReviewActionRequest, _ context: ServerContext) async throws -> DelegatedAction {
        let principal = try self.caller(context)
        try self.require(principal, [.supervisor], "review actions: the officer's federal supervisor does")
        let rowid = try Self.rowid(request.actionId, prefix: "ac", field: "action_id", what: "an action")
        guard let review = request.review, [.approved, .returned, .rejected].contains(review) else {
            throw RPCError.invalidArgument(field: "review", "is APPROVED, RETURNED or REJECTED")
        }
        let reason = try Self.text(request.reason, field: "reason", max: 1000, optional: review == .approved)
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let action = try Self.loadAction(db, rowid)
            guard action.supervisorId == principal.scope else {
                throw RPCError(.permissionDenied, "\(principal.header) does not supervise the officer of \(action.id!)")
            }
            guard action.review == .pending || action.review == .returned else {
                throw RPCError(
                    .failedPrecondition,
                    "action \(action.id!) is \(action.review?.protoName ?? "not in the review queue")"
                )
            }
            try db.execute(
                sql:
                    "UPDATE action SET review = ?, review_reason = ?, reviewed_at_ms = ?, reviewed_by = ? WHERE rowid = ?",
                arguments: [review.rawValue, reason, now, who, rowid]
            )
            try Self.audit(db, "action", rowid, "review:\(review.protoName)", who: who, why: reason, at: now)
            return try Self.loadAction(db, rowid)
        }
    }

    func signChargingDocument(
        _ request: SignChargingDocumentRequest,
        _ context: ServerContext
    ) async throws
        -> DelegatedAction
    {
        let principal = try self.caller(context)
        try self.require(principal, [.supervisor, .programOffice], "sign charging documents: a federal officer does")
        let rowid = try Self.rowid(request.actionId, prefix: "ac", field: "action_id", what: "an action")
        let signer = try Self.text(request.signedBy, field: "signed_by")!
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let action = try Self.loadAction(db, rowid)
            guard action.function == .chargingDocument, action.decision == .accepted else {
                throw RPCError(.failedPrecondition, "action \(action.id!) is not an accepted charging document")
            }
            guard action.draft == true else {
                throw RPCError(
                    .failedPrecondition,
                    "action \(action.id!) is already signed by \(action.signedBy ?? "?")"
                )
            }
            if principal.role == .supervisor && action.supervisorId != principal.scope {
                throw RPCError(.permissionDenied, "\(principal.header) does not supervise the officer of \(action.id!)")
            }
            try db.execute(
                sql: "UPDATE action SET draft = 0, signed_by = ? WHERE rowid = ?",
                arguments: [signer, rowid]
            )
            try Self.audit(db, "action", rowid, "sign", who: who, why: signer, at: now)
            return try Self.loadAction(db, rowid)
        }
    }

    func getAction(_ request: GetActionRequest, _ context: ServerContext) async throws -> DelegatedAction {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.actionId, prefix: "ac", field: "action_id", what: "an action")
        let action = try await self.store.read { db in try Self.loadAction(db, rowid) }
        try self.requireSees(principal, agencyID: action.agencyId ?? "", what: "actions")
        return action
    }

    struct ActionFilter: Sendable {
        var sql: String
        var arguments: StatementArguments
        var tokenFilters: [String]
    }

    func actionFilter(_ request: ListActionsRequest, _ principal: Principal) throws -> ActionFilter {
        var clauses = ["1"]
        var arguments: StatementArguments = []
        var tokens: [String] = []
        func add(_ clause: String, _ value: (any DatabaseValueConvertible)?, _ name: String) {
            guard let value else { return }
            clauses.append(clause)
            arguments += [value]
            tokens.append("\(name)=\(value)")
        }
        if principal.role == .agency {
            guard request.agencyId == nil || request.agencyId == principal.scope else {
                throw RPCError(.permissionDenied, "an agency sees only its own actions")
            }
            add("agency_id = ?", principal.scope, "agency")
        } else {
            add("agency_id = ?", request.agencyId, "agency")
        }
        add("officer_id = ?", request.officerId, "officer")
        add(
            "agreement_rowid = ?",
            try request.agreementId.map {
                try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
            },
            "agreement"
        )
        var supervisor = try request.supervisorId.map {
            try Self.rowid($0, prefix: "sv", field: "supervisor_id", what: "a supervisor")
        }
        if principal.role == .supervisor {
            let own = try Self.rowid(principal.scope, prefix: "sv", field: "principal", what: "a supervisor")
            guard supervisor == nil || supervisor == own else {
                throw RPCError(.permissionDenied, "\(principal.header) sees only the actions it supervises")
            }
            supervisor = own
        }
        add("supervisor_rowid = ?", supervisor, "supervisor")
        add("decision = ?", try Self.known(request.decision, field: "decision", required: false)?.rawValue, "decision")
        add("review = ?", try Self.known(request.review, field: "review", required: false)?.rawValue, "review")
        if request.lateOnly == true { add("late = ?", 1, "late") }
        return ActionFilter(sql: clauses.joined(separator: " AND "), arguments: arguments, tokenFilters: tokens)
    }

    func listActions(_ request: ListActionsRequest, _ context: ServerContext) async throws -> ListActionsResponse {
        let principal = try self.caller(context)
        let filter = try self.actionFilter(request, principal)
        let newestFirst = request.newestFirst ?? false
        let tokenFilters = filter.tokenFilters + ["newest=\(newestFirst)"]
        let size = try PageToken.size(request.page)
        let token = try PageToken.decode(request.page, filters: tokenFilters).afterRowid
        // Newest first pages downwards: the token then holds the last (smallest) row id seen.
        let start = newestFirst && token == 0 ? Int64.max : token
        return try await self.store.read { db in
            var arguments = filter.arguments
            arguments += [start, size + 1]
            let order = newestFirst ? "rowid < ? ORDER BY rowid DESC" : "rowid > ? ORDER BY rowid"
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM action WHERE \(filter.sql) AND \(order) LIMIT ?",
                arguments: arguments
            )
            let (page, next) = PageToken.split(rows, size: size, filters: tokenFilters)
            return ListActionsResponse(actions: page.map(Self.action), page: next)
        }
    }

    func exportActions(
        _ request: ListActionsRequest,
        _ context: ServerContext,
        _ stream: ResponseStream<DelegatedAction>
    ) async throws {
        let principal = try self.caller(context)
        let filter = try self.actionFilter(request, principal)
        var after: Int64 = 0
        while true {
            let start = after
            let batch = try await self.store.read { db in
                var arguments = filter.arguments
                arguments += [start, 1000]
                return try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM action WHERE \(filter.sql) AND rowid > ? ORDER BY rowid LIMIT ?",
                    arguments: arguments
                ).map { (rowid: $0["rowid"] as Int64, action: Self.action($0)) }
            }
            for item in batch { try await stream.send(item.action) }
            guard batch.count == 1000, let last = batch.last else { return }
            after = last.rowid
        }
    }
}
