import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordWire

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

    func recordAction(_ request: RecordActionRequest, _ context: ServerContext) async throws -> DelegatedAction {
        let principal = try self.caller(context)
        let change = self.stamp(principal)
        let report = try self.validateReport(request.action, now: change.at)
        let outcome: Result<DelegatedAction, Refusal> = try await self.store.write { tx in
            let checked = try self.judge(tx, report, principal)
            let rowid = try tx.insertAction(self.record(report, checked, change))
            let refusal = checked.refusal
            try tx.audit(
                "action",
                rowid,
                refusal == nil ? "accept" : "reject:\(refusal!.reason)",
                change.because(refusal?.message).happened(at: report.performedAt)
            )
            if var failure = refusal {
                failure.message = "\(failure.message) (recorded as rejected action \(Self.id("ac", rowid)))"
                return .failure(failure)
            }
            return .success(try tx.requireAction(rowid))
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

    /// What an action was checked against, and the verdict.
    struct Judged: Sendable {
        var authority: AuthorityRecord?
        var verdict: Result<Accepted, Refusal>

        var refusal: Refusal? {
            if case .failure(let refusal) = self.verdict { return refusal }
            return nil
        }
    }

    /// Finds the officer's authority at the moment of the action and checks the action against it.
    func judge(_ tx: any SupervisionRecords, _ report: Report, _ principal: Principal) throws -> Judged {
        // The officer's authorization in force at that moment, else their latest.
        guard let authority = try tx.authority(officerID: report.officerID, at: report.performedAt) else {
            // A rejected action is recorded only for a real officer.
            guard try tx.knowsOfficer(report.officerID) else {
                throw RPCError(
                    .notFound,
                    "supervision has no record of officer \(report.officerID): no certification, no authorization",
                    details: ErrorDetails(reason: "OFFICER_NOT_FOUND")
                )
            }
            if principal.role == .agency {
                throw RPCError(
                    .permissionDenied,
                    "officer \(report.officerID) is not an authorized officer of \(principal.header)"
                )
            }
            let refusal = Refusal(
                code: .permissionDenied,
                reason: "NOT_AUTHORIZED",
                message: "officer \(report.officerID) holds no authorization"
            )
            return Judged(authority: nil, verdict: .failure(refusal))
        }
        if principal.role == .agency, authority.authorization.agencyId != principal.scope {
            throw RPCError(
                .permissionDenied,
                "\(principal.header) records actions only for its own officers; \(report.officerID) is not one"
            )
        }
        // A renewal carries the officers over: an action from before it counts under the
        // agreement it renewed.
        let (agreement, status) = try tx.agreementInForce(current: authority.agreementRowid, at: report.performedAt)
        // No status yet at that moment: the agreement did not exist.
        guard status != nil else {
            throw RPCError.invalidArgument(
                field: "action.performed_at_ms",
                "is before agreement \(Self.id("mo", agreement)) existed"
            )
        }
        let verdict = try self.check(tx, report, authority: authority, agreement: agreement, status: status)
        return Judged(authority: authority, verdict: verdict)
    }

    /// The action as recorded: accepted under its agreement and supervisor, with its notification
    /// deadline, or rejected with the reason.
    func record(_ report: Report, _ judged: Judged, _ change: Change) -> NewAction {
        var action = NewAction(
            officerID: report.officerID,
            agencyID: judged.authority?.authorization.agencyId,
            agreement: judged.authority?.agreementRowid,
            authorization: judged.authority?.rowid,
            function: report.function,
            performedAtMs: report.performedAt,
            place: report.place,
            location: report.location,
            subjectRef: report.subject,
            outcome: report.outcome,
            citizenshipClaimed: report.citizenshipClaimed,
            detainerCategory: report.category,
            decision: .rejected,
            recordedAtMs: change.at,
            recordedBy: change.who,
            late: false,
            review: .unspecified,
            draft: false
        )
        switch judged.verdict {
        case .success(let accepted):
            action.decision = .accepted
            action.review = .pending
            action.draft = report.function == .chargingDocument
            action.agreement = accepted.agreement
            action.supervisor = accepted.supervisor
            if let minutes = self.rules.notifyWithinMinutes(
                model: accepted.model,
                function: report.function,
                citizenshipClaimed: report.citizenshipClaimed
            ) {
                action.notifyByMs = report.performedAt + Int64(minutes) * 60_000
                action.late = change.at > action.notifyByMs!
            }
        case .failure(let refusal):
            action.rejection = (refusal.reason, refusal.message)
        }
        return action
    }

    func reviewAction(_ request: ReviewActionRequest, _ context: ServerContext) async throws -> DelegatedAction {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.actionId, prefix: "ac", field: "action_id", what: "an action")
        guard let review = request.review, [.approved, .returned, .rejected].contains(review) else {
            throw RPCError.invalidArgument(field: "review", "is APPROVED, RETURNED or REJECTED")
        }
        let reason = try Self.text(request.reason, field: "reason", max: 1000, optional: review == .approved)
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let action = try tx.requireAction(rowid)
            guard action.supervisorId == principal.scope else {
                throw RPCError(.permissionDenied, "\(principal.header) does not supervise the officer of \(action.id!)")
            }
            guard action.review == .pending || action.review == .returned else {
                throw RPCError(
                    .failedPrecondition,
                    "action \(action.id!) is \(action.review?.protoName ?? "not in the review queue")"
                )
            }
            try tx.reviewAction(rowid, review: review, reason: reason, at: change.at, by: change.who)
            try tx.audit("action", rowid, "review:\(review.protoName)", change)
            return try tx.requireAction(rowid)
        }
    }

    func signChargingDocument(
        _ request: SignChargingDocumentRequest,
        _ context: ServerContext
    ) async throws
        -> DelegatedAction
    {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.actionId, prefix: "ac", field: "action_id", what: "an action")
        let signer = try Self.text(request.signedBy, field: "signed_by")!
        let change = self.stamp(principal, why: signer)
        return try await self.store.write { tx in
            let action = try tx.requireAction(rowid)
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
            try tx.signAction(rowid, by: signer)
            try tx.audit("action", rowid, "sign", change)
            return try tx.requireAction(rowid)
        }
    }

    func getAction(_ request: GetActionRequest, _ context: ServerContext) async throws -> DelegatedAction {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.actionId, prefix: "ac", field: "action_id", what: "an action")
        let action = try await self.store.read { tx in try tx.requireAction(rowid) }
        try self.requireSees(principal, agencyID: action.agencyId ?? "", what: "actions")
        if principal.role == .supervisor && action.supervisorId != principal.scope {
            throw RPCError(.permissionDenied, "\(principal.header) sees only the actions it supervises")
        }
        return action
    }

    /// A list's filter, checked against who is asking, and what ties a page token to it.
    func actionFilter(_ request: ListActionsRequest, _ principal: Principal) throws -> (ActionFilter, [String]) {
        var filter = ActionFilter()
        if principal.role == .agency {
            guard request.agencyId == nil || request.agencyId == principal.scope else {
                throw RPCError(.permissionDenied, "an agency sees only its own actions")
            }
            filter.agencyID = principal.scope
        } else {
            filter.agencyID = request.agencyId
        }
        filter.officerID = request.officerId
        filter.agreement = try request.agreementId.map {
            try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
        }
        filter.supervisor = try Self.supervisorFilter(request.supervisorId, principal)
        filter.decision = try Self.known(request.decision, field: "decision", required: false)
        filter.review = try Self.known(request.review, field: "review", required: false)
        filter.lateOnly = request.lateOnly == true
        filter.asOf = try Self.pastMoment(request.asOfMs, now: self.clock.now())
        let tokens = [
            filter.asOf.map { "as_of=\($0)" },
            filter.agencyID.map { "agency=\($0)" }, filter.officerID.map { "officer=\($0)" },
            filter.agreement.map { "agreement=\($0)" }, filter.supervisor.map { "supervisor=\($0)" },
            filter.decision.map { "decision=\($0.rawValue)" }, filter.review.map { "review=\($0.rawValue)" },
            filter.lateOnly ? "late=1" : nil,
        ]
        return (filter, tokens.compactMap { $0 })
    }

    /// The supervisor a list is for: a supervisor sees only the actions it supervises.
    static func supervisorFilter(_ asked: String?, _ principal: Principal) throws -> Int64? {
        let supervisor = try asked.map {
            try Self.rowid($0, prefix: "sv", field: "supervisor_id", what: "a supervisor")
        }
        guard principal.role == .supervisor else { return supervisor }
        let own = try Self.rowid(principal.scope, prefix: "sv", field: "principal", what: "a supervisor")
        guard supervisor == nil || supervisor == own else {
            throw RPCError(.permissionDenied, "\(principal.header) sees only the actions it supervises")
        }
        return own
    }

    func listActions(_ request: ListActionsRequest, _ context: ServerContext) async throws -> ListActionsResponse {
        let (filter, tokens) = try self.actionFilter(request, try self.caller(context))
        let newestFirst = request.newestFirst ?? false
        let tokenFilters = tokens + ["newest=\(newestFirst)"]
        let size = try PageToken.size(request.page)
        let token = try PageToken.decode(request.page, filters: tokenFilters).afterRowid
        // Newest first pages downwards: the token then holds the last (smallest) row id seen.
        let start = newestFirst && token == 0 ? Int64.max : token
        let actions = try await self.store.read { tx in
            try tx.actions(filter, after: start, newestFirst: newestFirst, limit: size + 1)
        }
        let (page, next) = PageToken.split(actions, size: size, filters: tokenFilters) { RecordID.rowid(of: $0.id) }
        return ListActionsResponse(actions: Array(page), page: next)
    }

    func exportActions(
        _ request: ListActionsRequest,
        _ context: ServerContext,
        _ stream: ResponseStream<DelegatedAction>
    ) async throws {
        let (filter, _) = try self.actionFilter(request, try self.caller(context))
        var after: Int64 = 0
        while true {
            let start = after
            let batch = try await self.store.read { tx in
                try tx.actions(filter, after: start, newestFirst: false, limit: 1000)
            }
            for action in batch { try await stream.send(action) }
            guard batch.count == 1000, let last = batch.last else { return }
            after = RecordID.rowid(of: last.id)
        }
    }
}
