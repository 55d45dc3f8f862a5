import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

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
    static func validateConsent(_ consent: Consent?, today: CalendarDate, prefix: String) throws -> ConsentFields {
        guard let consent else {
            throw RPCError.invalidArgument(field: prefix, "is required: a State or local official must consent")
        }
        return ConsentFields(
            officialName: try IntakeValidation.text(consent.officialName, field: "\(prefix).official_name"),
            office: try IntakeValidation.text(consent.office, field: "\(prefix).office", maxLength: 100),
            signedOn: try IntakeValidation.pastDate(consent.signedOn, field: "\(prefix).signed_on", today: today)
                .description
        )
    }

    static func validateNeeds(_ needs: NeedsAssessment?, prefix: String) throws -> NeedsFields {
        guard let needs else { throw RPCError.invalidArgument(field: prefix, "is required") }
        return NeedsFields(
            encounters: try IntakeValidation.count(
                needs.expectedAnnualEncounters,
                field: "\(prefix).expected_annual_encounters",
                range: 0...10_000_000
            ),
            capacity: try IntakeValidation.count(
                needs.detentionCapacity,
                field: "\(prefix).detention_capacity",
                range: 0...100_000
            ),
            officers: try IntakeValidation.count(
                needs.officersProposed,
                field: "\(prefix).officers_proposed",
                range: 1...10_000
            )
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
        let change = self.stamp(context, why: try Self.reason(request.reason))
        let idempotencyKey = try IntakeValidation.optionalText(
            context.metadata[MetadataKey.idempotencyKey],
            field: "idempotency-key",
            maxLength: 200
        )
        return try await self.store.submitRequest(fields, idempotencyKey: idempotencyKey, change)
    }

    /// A request id, checked.
    static func requestRowid(_ id: String?, field: String) throws -> Int64 {
        let id = try IntakeValidation.text(id, field: field, maxLength: 40)
        guard let rowid = IntakeRecords.rowid(id, prefix: "rq") else {
            throw RPCError.invalidArgument(field: field, "\(id) is not a request id")
        }
        return rowid
    }

    func amendRequest(_ request: AmendRequestRequest, _ context: ServerContext) async throws -> ParticipationRequest {
        let rowid = try Self.requestRowid(request.requestId, field: "request_id")
        guard let revision = request.revision else { throw RPCError.invalidArgument(field: "revision", "is required") }
        let consent = try request.consent.map { try Self.validateConsent($0, today: self.today, prefix: "consent") }
        let needs = try request.needs.map { try Self.validateNeeds($0, prefix: "needs") }
        guard consent != nil || needs != nil else {
            throw RPCError.invalidArgument(field: "consent", "an amendment changes the consent, the needs, or both")
        }
        let change = self.stamp(context, why: try Self.reason(request.reason))
        let principal = try self.principal(context)
        return try await self.store.changeRequest(rowid: rowid, change) { current in
            try self.requireAgencyAccess(principal, agencyRowid: RecordID.rowid(of: current.agencyId), write: true)
            guard RequestStateMachine.canAmend(from: current.status!) else {
                throw RequestStateMachine.refuse("amended", current.id!, current.status!)
            }
            guard current.revision == revision else {
                throw RPCError(
                    .aborted,
                    "request \(current.id!) is at revision \(current.revision!), not \(revision); read it again"
                )
            }
            return RequestChange(status: .received, action: "amend", consent: consent, needs: needs, newRevision: true)
        }
    }

    func withdrawRequest(
        _ request: WithdrawRequestRequest,
        _ context: ServerContext
    ) async throws -> ParticipationRequest {
        let rowid = try Self.requestRowid(request.requestId, field: "request_id")
        let change = self.stamp(context, why: try Self.reason(request.reason))
        let principal = try self.principal(context)
        return try await self.store.changeRequest(rowid: rowid, change) { current in
            try self.requireAgencyAccess(principal, agencyRowid: RecordID.rowid(of: current.agencyId), write: true)
            guard RequestStateMachine.canWithdraw(from: current.status!) else {
                throw RequestStateMachine.refuse("withdrawn", current.id!, current.status!)
            }
            return RequestChange(status: .withdrawn, action: "withdraw")
        }
    }

    func getRequest(_ request: GetRequestRequest, _ context: ServerContext) async throws -> ParticipationRequest {
        let rowid = try Self.requestRowid(request.requestId, field: "request_id")
        let principal = try self.principal(context)
        guard let found = try await self.store.request(rowid: rowid) else {
            throw IntakeStoreError.requestNotFound(IntakeRecords.requestID(rowid))
        }
        try self.requireAgencyAccess(principal, agencyRowid: RecordID.rowid(of: found.agencyId), write: false)
        return found
    }

    func listRequests(_ request: ListRequestsRequest, _ context: ServerContext) async throws -> ListRequestsResponse {
        let (filter, fingerprint) = try self.requestFilter(request, principal: try self.principal(context))
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: fingerprint)
        let requests = try await self.store.requests(filter, after: after.afterRowid, limit: size + 1)
        let (page, next) = PageToken.split(requests, size: size, filters: fingerprint) {
            RecordID.rowid(of: $0.id)
        }
        return ListRequestsResponse(requests: Array(page), page: next)
    }

    /// A request list's filters, checked, and the fingerprint that ties a page token to them.
    func requestFilter(
        _ request: ListRequestsRequest,
        principal: Principal
    ) throws -> (filter: RequestFilter, fingerprint: [String]) {
        var filter = RequestFilter()
        var fingerprint: [String] = []
        if let only = try self.agencyLimit(principal) {
            if let asked = request.agencyId, IntakeRecords.rowid(asked, prefix: "ag") != only {
                throw RPCError(.permissionDenied, "an agency sees only its own requests")
            }
            filter.agencyRowids.append(only)
            fingerprint.append("only=\(only)")
        }
        filter.state = try request.state.map { try IntakeValidation.state($0, field: "state") }
        filter.status = try request.status.map { try IntakeValidation.known($0, field: "status") }
        filter.model = try request.model.map { try IntakeValidation.known($0, field: "model") }
        filter.partner = try request.partner.map { try IntakeValidation.known($0, field: "partner") }
        fingerprint += [
            filter.state.map { "state=\($0)" }, filter.status.map { "status=\($0.rawValue)" },
            filter.model.map { "model=\($0.rawValue)" }, filter.partner.map { "partner=\($0.rawValue)" },
        ].compactMap { $0 }
        if let agencyID = request.agencyId {
            guard let rowid = IntakeRecords.rowid(agencyID, prefix: "ag") else {
                throw RPCError.invalidArgument(field: "agency_id", "\(agencyID) is not an agency id")
            }
            filter.agencyRowids.append(rowid)
            fingerprint.append("agency=\(rowid)")
        }
        if let days = request.minAgeDays {
            guard days <= 36_500 else {
                throw RPCError.invalidArgument(field: "min_age_days", "is more than 100 years")
            }
            filter.createdAtOrBefore = self.clock.now() - Int64(days) * 86_400_000
            fingerprint.append("age=\(days)")
        }
        return (filter, fingerprint)
    }

    /// Qualification's decision on one revision. Recording the same decision again changes
    /// nothing (the evaluation hand-off may deliver twice); a decision on an old revision is refused.
    func recordDecision(_ request: RecordDecisionRequest, _ context: ServerContext) async throws -> ParticipationRequest
    {
        let rowid = try Self.requestRowid(request.requestId, field: "request_id")
        guard let revision = request.revision else { throw RPCError.invalidArgument(field: "revision", "is required") }
        let status = try Self.validateDecision(request)
        let rulesVersion = try IntakeValidation.text(request.rulesVersion, field: "rules_version", maxLength: 64)
        let change = self.stamp(context, why: "decision of rules \(rulesVersion)")
        return try await self.store.changeRequest(rowid: rowid, change) { current in
            if current.revision == revision, current.status == status, current.rulesVersion == rulesVersion {
                return nil  // the same decision delivered again
            }
            guard current.revision == revision else {
                throw RPCError(
                    .failedPrecondition,
                    "the decision is on revision \(revision) but request \(current.id!) is at revision \(current.revision!)"
                )
            }
            guard RequestStateMachine.canDecide(from: current.status!) else {
                throw RequestStateMachine.refuse("decided", current.id!, current.status!)
            }
            return RequestChange(
                status: status,
                action: "decide:\(status.protoName)",
                logWhy: rulesVersion,
                deficiencies: request.deficiencies,
                rulesVersion: rulesVersion
            )
        }
    }

    /// The decision's status, QUALIFIED or DEFICIENT with at least one deficiency, each checked.
    static func validateDecision(_ request: RecordDecisionRequest) throws -> RequestStatus {
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
        return status
    }

    func recordAgreementProgress(
        _ request: RecordAgreementProgressRequest,
        _ context: ServerContext
    ) async throws -> ParticipationRequest {
        let rowid = try Self.requestRowid(request.requestId, field: "request_id")
        let status = try IntakeValidation.known(request.status, field: "status")
        guard let from = RequestStateMachine.progressFrom(status) else {
            throw RPCError.invalidArgument(
                field: "status",
                "agreement progress is REQUEST_STATUS_AGREEMENT_OFFERED or REQUEST_STATUS_SIGNED"
            )
        }
        let agreement = try IntakeValidation.text(request.agreementId, field: "agreement_id", maxLength: 40)
        let change = self.stamp(context, why: "agreement \(agreement)")
        return try await self.store.changeRequest(rowid: rowid, change) { current in
            if current.status == status { return nil }  // the same progress delivered again
            guard current.status == from else {
                throw RequestStateMachine.refuse("moved to \(status.protoName)", current.id!, current.status!)
            }
            return RequestChange(status: status, action: "agreement:\(status.protoName)", logWhy: agreement)
        }
    }

    /// Requests by state, model, partner and status; days from submission to first decision.
    func requestReport(_ request: RequestReportRequest, _ context: ServerContext) async throws -> RequestReport {
        _ = try self.principal(context)
        let now = self.clock.now()
        if let moment = request.asOfMs, moment <= 0 {
            throw RPCError.invalidArgument(field: "as_of_ms", "\(moment) is not a moment")
        }
        let asOf = request.asOfMs.flatMap { $0 < now ? $0 : nil }
        let counts = try await self.store.requestCounts(asOf: asOf)
        let days = try await self.store.daysToFirstDecision(asOf: asOf)
        func percentile(_ q: Double) -> UInt32? {
            days.isEmpty ? nil : UInt32(clamping: days[min(days.count - 1, Int(Double(days.count) * q))])
        }
        return RequestReport(
            counts: counts,
            decided: UInt32(days.count),
            medianDaysToDecision: percentile(0.5),
            p90DaysToDecision: percentile(0.9),
            simulatedClock: self.clock.simulation != nil ? true : nil,
            asOfMs: asOf ?? now
        )
    }
}
