import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// Federal supervisors and the authorization of certified officers under active agreements.
extension SupervisionService {
    func registerAuthorizations(into router: inout RPCRouter) {
        router.register(SupervisionMethods.createSupervisor) { try await self.createSupervisor($0, $1) }
        router.register(SupervisionMethods.assignSupervisor) { try await self.assignSupervisor($0, $1) }
        router.register(SupervisionMethods.listSupervisors) { try await self.listSupervisors($0, $1) }
        router.register(SupervisionMethods.authorizeOfficer) { try await self.authorizeOfficer($0, $1) }
        router.register(SupervisionMethods.notifyCertified) { try await self.notifyCertified($0, $1) }
        router.register(SupervisionMethods.revokeAuthorization) { try await self.revokeAuthorization($0, $1) }
        router.register(SupervisionMethods.suspendAuthorization) { try await self.suspendAuthorization($0, $1) }
        router.register(SupervisionMethods.setDetainerCategories) { try await self.setDetainerCategories($0, $1) }
        router.register(SupervisionMethods.getAuthorization) { try await self.getAuthorization($0, $1) }
        router.register(SupervisionMethods.listAuthorizations) { try await self.listAuthorizations($0, $1) }
    }

    // MARK: Supervisors

    func createSupervisor(_ request: CreateSupervisorRequest, _ context: ServerContext) async throws -> Supervisor {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "create supervisors")
        guard let supervisor = request.supervisor else {
            throw RPCError.invalidArgument(field: "supervisor", "is required")
        }
        let name = try Self.text(supervisor.name, field: "supervisor.name")!
        let component = try Self.known(supervisor.component, field: "supervisor.component")!
        let office = try Self.text(supervisor.office, field: "supervisor.office")!
        let change = self.stamp(principal)
        return try await self.store.write { tx in
            try tx.requireSupervisor(try tx.insertSupervisor(name: name, component: component, office: office, change))
        }
    }

    /// What a supervisor is assigned to: an agreement, or one officer's authorization.
    enum AssignmentTarget: Sendable {
        case agreement(Int64)
        case officer(String)
    }

    func assignSupervisor(_ request: AssignSupervisorRequest, _ context: ServerContext) async throws -> Supervisor {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "assign supervisors")
        let supervisor = try Self.rowid(
            request.supervisorId,
            prefix: "sv",
            field: "supervisor_id",
            what: "a supervisor"
        )
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let target: AssignmentTarget
        switch (request.agreementId, request.officerId) {
        case (let agreement?, nil):
            target = .agreement(try Self.rowid(agreement, prefix: "mo", field: "agreement_id", what: "an agreement"))
        case (nil, let officer?):
            guard !officer.isEmpty, officer.count <= 40 else {
                throw RPCError.invalidArgument(field: "officer_id", "is not an officer id")
            }
            target = .officer(officer)
        default:
            throw RPCError.invalidArgument(field: "agreement_id", "give exactly one of agreement_id and officer_id")
        }
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let assigned = try tx.requireSupervisor(supervisor)
            switch target {
            case .agreement(let rowid): try Self.assign(tx, assigned, agreement: rowid, change)
            case .officer(let officer): try Self.assign(tx, assigned, officer: officer, change)
            }
            return assigned
        }
    }

    /// Assigns a supervisor of the agreement's federal partner to an open agreement.
    static func assign(
        _ tx: any SupervisionRecords,
        _ assigned: Supervisor,
        agreement rowid: Int64,
        _ change: Change
    )
        throws
    {
        let agreement = try tx.agreement(rowid, allowed: Self.openStatuses, action: "assign a supervisor")
        guard agreement.partner == assigned.component else {
            throw RPCError(
                .failedPrecondition,
                "supervisor \(assigned.id!) is \(assigned.component!.protoName); agreement \(agreement.id!) is with \(agreement.partner!.protoName)"
            )
        }
        let supervisor = IDs.rowid(assigned.id)
        try tx.updateAgreement(rowid, AgreementUpdate(supervisor: supervisor))
        try tx.audit("agreement", rowid, "assign:\(assigned.id!)", change)
        try tx.recordAssignment(agreement: rowid, authorization: nil, supervisor: supervisor, change)
    }

    /// Assigns a supervisor to the officer's authorization in force.
    static func assign(_ tx: any SupervisionRecords, _ assigned: Supervisor, officer: String, _ change: Change) throws {
        guard let authorization = try tx.liveAuthorization(officerID: officer) else {
            throw RPCError(.failedPrecondition, "officer \(officer) holds no authorization to supervise")
        }
        let supervisor = IDs.rowid(assigned.id)
        try tx.updateAuthorization(authorization, AuthorizationUpdate(supervisor: supervisor))
        try tx.audit("authorization", authorization, "assign:\(assigned.id!)", change)
        try tx.recordAssignment(agreement: nil, authorization: authorization, supervisor: supervisor, change)
    }

    func listSupervisors(
        _ request: ListSupervisorsRequest,
        _ context: ServerContext
    ) async throws -> ListSupervisorsResponse {
        _ = try self.caller(context)
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: []).afterRowid
        let supervisors = try await self.store.read { tx in try tx.supervisors(after: start, limit: size + 1) }
        let (page, next) = PageToken.split(supervisors, size: size, filters: []) { IDs.rowid($0.id) }
        return ListSupervisorsResponse(supervisors: Array(page), page: next)
    }

    // MARK: Authorization records

    /// The authorization as callers see it: its functions from the rules, and EXPIRED once a
    /// TFM authority's two years have passed.
    func present(_ authorization: Authorization) -> Authorization {
        var result = authorization
        if let model = result.model { result.functions = self.rules.functions(of: model) }
        if result.status == .active || result.status == .suspended, let expires = result.expiresAtMs,
            expires <= self.clock.now()
        {
            result.status = .expired
        }
        return result
    }

    struct Certified: Sendable {
        var officerID: String
        var agencyID: String
        var model: Model
        var name: String
        var rulesVersion: String?
    }

    struct AuthorizationTerms: Sendable {
        var agreement: Int64?
        var credential: String?
        var categories: [String]
        var supervisor: Int64?
    }

    /// Authorizes a certified officer under the agency's active agreement of the officer's model.
    func authorize(
        _ tx: any SupervisionRecords,
        _ officer: Certified,
        terms: AuthorizationTerms,
        _ change: Change
    ) throws -> Int64 {
        if let live = try tx.liveAuthorization(officerID: officer.officerID) {
            throw RPCError(
                .alreadyExists,
                "officer \(officer.officerID) is already authorized (\(Self.id("az", live)))",
                details: ErrorDetails(
                    reason: "AUTHORIZED",
                    metadata: [KeyValue(key: "authorization_id", value: Self.id("az", live))]
                )
            )
        }
        let agreementRowid = try Self.agreementToAuthorizeUnder(tx, officer, terms)
        if let supervisor = terms.supervisor { _ = try tx.requireSupervisor(supervisor) }
        let expires = officer.model == .tfm ? change.at + Int64(self.rules.tfmAuthorityDays) * 86_400_000 : nil
        let rowid = try tx.insertAuthorization(
            NewAuthorization(
                officerID: officer.officerID,
                officerName: officer.name,
                agencyID: officer.agencyID,
                agreement: agreementRowid,
                model: officer.model,
                authorizedAtMs: change.at,
                expiresAtMs: expires,
                credentialSerial: terms.credential,
                categories: terms.categories,
                supervisor: terms.supervisor,
                certifiedRulesVersion: officer.rulesVersion
            )
        )
        try tx.audit("authorization", rowid, "authorize", change)
        if let supervisor = terms.supervisor {
            try tx.recordAssignment(agreement: nil, authorization: rowid, supervisor: supervisor, change)
        }
        return rowid
    }

    /// The active agreement, of the officer's agency and model, to authorize the officer under.
    static func agreementToAuthorizeUnder(
        _ tx: any SupervisionRecords,
        _ officer: Certified,
        _ terms: AuthorizationTerms
    ) throws -> Int64 {
        guard let rowid = try terms.agreement ?? tx.activeAgreement(agencyID: officer.agencyID, model: officer.model)
        else {
            throw RPCError(
                .failedPrecondition,
                "agency \(officer.agencyID) has no active \(officer.model.shortName) agreement to authorize \(officer.officerID) under"
            )
        }
        let agreement = try tx.agreement(rowid, allowed: [.active], action: "authorize officers")
        guard agreement.agencyId == officer.agencyID else {
            throw RPCError(
                .failedPrecondition,
                "officer \(officer.officerID) belongs to \(officer.agencyID), agreement \(agreement.id!) to \(agreement.agencyId!)"
            )
        }
        guard agreement.model == officer.model else {
            throw RPCError(
                .failedPrecondition,
                "officer \(officer.officerID) is certified for \(officer.model.shortName), agreement \(agreement.id!) is \(agreement.model!.shortName)"
            )
        }
        return rowid
    }

    /// The supervisor of an authorization at `moment`: the officer's own, else the agreement's.
    static func supervisor(
        _ tx: any SupervisionRecords,
        authorization: Int64,
        agreement: Int64,
        at moment: Int64
    )
        throws -> Int64?
    {
        try tx.assignedSupervisor(authorization: authorization, at: moment)
            ?? tx.assignedSupervisor(agreement: agreement, at: moment)
    }

    static func terms(_ request: AuthorizeOfficerRequest) throws -> AuthorizationTerms {
        let categories = try request.detainerCategories.enumerated().map { index, category in
            try Self.text(category, field: "detainer_categories[\(index)]", max: 100)!
        }
        return AuthorizationTerms(
            agreement: try request.agreementId.map {
                try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
            },
            credential: try Self.text(request.credentialSerial, field: "credential_serial", max: 60, optional: true),
            categories: categories,
            supervisor: try request.supervisorId.map {
                try Self.rowid($0, prefix: "sv", field: "supervisor_id", what: "a supervisor")
            }
        )
    }

    /// Authorizes an officer after asking qualification, at this moment, whether they are certified.
    func authorizeOfficer(_ request: AuthorizeOfficerRequest, _ context: ServerContext) async throws -> Authorization {
        let principal = try self.caller(context)
        try self.require(principal, [.programOffice, .operator, .supervisor], "authorize officers")
        let officerID = try Self.text(request.officerId, field: "officer_id", max: 40)!
        let terms = try Self.terms(request)
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let certified = try await self.certifiedOfficer(officerID)
        let change = self.stamp(principal, why: reason)
        let authorization = try await self.store.write { tx in
            try tx.requireAuthorization(try self.authorize(tx, certified, terms: terms, change))
        }
        return self.present(authorization)
    }

    /// The officer as qualification has them now: certified, with no pending complaint.
    func certifiedOfficer(_ officerID: String) async throws -> Certified {
        guard let qualification = self.backends.qualification else {
            throw RPCError(.unavailable, "supervision has no qualification endpoint to check the officer with")
        }
        let officer = try await qualification.unary(
            QualificationMethods.getOfficer,
            GetOfficerRequest(officerId: officerID),
            options: self.backends.callOptions
        )
        guard officer.status == .certified else {
            throw RPCError(
                .failedPrecondition,
                "officer \(officerID) is \(officer.status?.protoName ?? "?") in qualification, not certified",
                details: ErrorDetails(reason: "NOT_CERTIFIED")
            )
        }
        guard officer.pendingComplaint != true else {
            throw RPCError(
                .failedPrecondition,
                "officer \(officerID) has a pending complaint that may lead to discipline",
                details: ErrorDetails(reason: "COMPLAINT_PENDING")
            )
        }
        guard let agencyID = officer.agencyId, let model = officer.model else {
            throw RPCError(.internal, "qualification returned officer \(officerID) without agency or model")
        }
        return Certified(
            officerID: officerID,
            agencyID: agencyID,
            model: model,
            name: officer.name ?? "",
            rulesVersion: officer.rulesVersion
        )
    }

    /// Records qualification's notice; authorizes the officer when the agency holds an active
    /// agreement of the officer's model. The same notice twice is acknowledged once.
    func notifyCertified(
        _ request: NotifyCertifiedRequest,
        _ context: ServerContext
    ) async throws
        -> NotifyCertifiedResponse
    {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "notify certifications")
        let certified = Certified(
            officerID: try Self.text(request.officerId, field: "officer_id", max: 40)!,
            agencyID: try Self.text(request.agencyId, field: "agency_id", max: 40)!,
            model: try Self.known(request.model, field: "model")!,
            name: try Self.text(request.name, field: "name")!,
            rulesVersion: try Self.text(request.rulesVersion, field: "rules_version", max: 60, optional: true)
        )
        let certifiedOn = try Self.day(request.certifiedOn, field: "certified_on")
        let change = self.stamp(principal)
        return try await self.store.write { tx in
            let notice = NotifyCertifiedRequest(
                officerId: certified.officerID,
                agencyId: certified.agencyID,
                model: certified.model,
                name: certified.name,
                certifiedOn: certifiedOn.description,
                rulesVersion: certified.rulesVersion
            )
            guard let recorded = try tx.insertCertification(notice, receivedAt: change.at) else {
                return NotifyCertifiedResponse(recorded: false)
            }
            try tx.audit("certification", recorded, "notice", change)
            guard try tx.activeAgreement(agencyID: certified.agencyID, model: certified.model) != nil else {
                return NotifyCertifiedResponse(recorded: true)
            }
            do {
                let rowid = try self.authorize(
                    tx,
                    certified,
                    terms: AuthorizationTerms(categories: []),
                    change.because("certified on \(certifiedOn)")
                )
                return NotifyCertifiedResponse(authorizationId: Self.id("az", rowid), recorded: true)
            } catch let error as RPCError {
                // Checked before anything is written: the notice stays recorded, authorization waits.
                self.logger.notice(
                    "Certified officer not authorized",
                    metadata: ["officer": "\(certified.officerID)", "error": "\(error)"]
                )
                return NotifyCertifiedResponse(recorded: true)
            }
        }
    }

    /// The authorization id of a change request, checked.
    static func authorizationRowid(_ id: String?) throws -> Int64 {
        try Self.rowid(id, prefix: "az", field: "authorization_id", what: "an authorization")
    }

    func revokeAuthorization(
        _ request: RevokeAuthorizationRequest,
        _ context: ServerContext
    ) async throws
        -> Authorization
    {
        let principal = try self.caller(context)
        try self.require(principal, [.programOffice, .operator, .supervisor], "revoke authority")
        let rowid = try Self.authorizationRowid(request.authorizationId)
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        let change = self.stamp(principal, why: reason)
        let authorization = try await self.store.write { tx in
            let current = try tx.requireAuthorization(rowid)
            try Self.requireSupervises(tx, principal, current)
            try Self.requireInForce(current)
            try tx.updateAuthorization(rowid, AuthorizationUpdate(status: .revoked, revoked: (change.at, reason)))
            try tx.audit("authorization", rowid, "revoke", change)
            return try tx.requireAuthorization(rowid)
        }
        return self.present(authorization)
    }

    /// Only an authority in force (active or suspended) changes.
    static func requireInForce(_ authorization: Authorization) throws {
        guard authorization.status == .active || authorization.status == .suspended else {
            throw RPCError(
                .failedPrecondition,
                "authorization \(authorization.id!) is \(authorization.status!.protoName)"
            )
        }
    }

    /// A supervisor acts only on the officers assigned to them, or, for an officer without a
    /// supervisor of their own, on those under an agreement assigned to them.
    static func requireSupervises(
        _ tx: any SupervisionRecords,
        _ principal: Principal,
        _ authorization: Authorization
    ) throws {
        guard principal.role == .supervisor else { return }
        let supervisor =
            try authorization.supervisorId ?? tx.agreement(IDs.rowid(authorization.agreementId))?.supervisorId
        guard let scope = principal.scope, supervisor == scope else {
            throw RPCError(
                .permissionDenied,
                "\(principal.header) does not supervise officer \(authorization.officerId ?? "?")"
            )
        }
    }

    func suspendAuthorization(
        _ request: SuspendAuthorizationRequest,
        _ context: ServerContext
    ) async throws
        -> Authorization
    {
        let principal = try self.caller(context)
        try self.require(principal, [.programOffice, .operator, .supervisor], "suspend authority")
        let rowid = try Self.authorizationRowid(request.authorizationId)
        guard let suspend = request.suspend else { throw RPCError.invalidArgument(field: "suspend", "is required") }
        let reason = try Self.text(request.reason, field: "reason", max: 500)!
        let change = self.stamp(principal, why: reason)
        let authorization = try await self.store.write { tx in
            let current = try tx.requireAuthorization(rowid)
            try Self.requireSupervises(tx, principal, current)
            if suspend {
                try Self.suspend(tx, rowid, cause: .manual, change)
            } else {
                guard current.status == .suspended else {
                    throw RPCError(
                        .failedPrecondition,
                        "authorization \(current.id!) is \(current.status!.protoName), not suspended"
                    )
                }
                try Self.lift(tx, rowid, cause: .manual, change)
            }
            return try tx.requireAuthorization(rowid)
        }
        return self.present(authorization)
    }

    func setDetainerCategories(
        _ request: SetDetainerCategoriesRequest,
        _ context: ServerContext
    ) async throws
        -> Authorization
    {
        let principal = try self.caller(context)
        try self.require(principal, [.programOffice, .operator, .supervisor], "set detainer categories")
        let rowid = try Self.authorizationRowid(request.authorizationId)
        let categories = try request.categories.enumerated().map { index, category in
            try Self.text(category, field: "categories[\(index)]", max: 100)!
        }
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let change = self.stamp(principal, why: reason)
        let authorization = try await self.store.write { tx in
            let current = try tx.requireAuthorization(rowid)
            try Self.requireSupervises(tx, principal, current)
            try Self.requireInForce(current)
            guard current.model == .tfm else {
                throw RPCError(.failedPrecondition, "detainer categories are set only on TFM authorizations")
            }
            try tx.updateAuthorization(rowid, AuthorizationUpdate(categories: categories))
            try tx.audit("authorization", rowid, "categories", change)
            return try tx.requireAuthorization(rowid)
        }
        return self.present(authorization)
    }

    /// Why an authority is suspended; each kind of suspension is lifted by its own event.
    enum SuspensionCause: Sendable, Equatable {
        case manual
        case complaint(Int64)
        case training

        var name: String {
            switch self {
            case .manual: "manual"
            case .complaint: "complaint"
            case .training: "training"
            }
        }

        var complaint: Int64? {
            if case .complaint(let rowid) = self { return rowid }
            return nil
        }
    }

    /// Suspends an authority in force (opens a suspension interval); the change's reason is the
    /// suspension's.
    static func suspend(_ tx: any SupervisionRecords, _ rowid: Int64, cause: SuspensionCause, _ change: Change) throws {
        try Self.requireInForce(try tx.requireAuthorization(rowid))
        let reason = change.why ?? cause.name
        let suspension = try tx.openSuspension(
            authorization: rowid,
            from: change.at,
            reason: reason,
            complaint: cause.complaint,
            cause: cause.name
        )
        try tx.audit("authorization_suspension", suspension, "open", change)
        try tx.updateAuthorization(rowid, AuthorizationUpdate(status: .suspended, suspendedBecause: .some(reason)))
        try tx.audit("authorization", rowid, "suspend", change)
    }

    /// Ends the open suspensions of one cause, and makes the authority active again when none is
    /// left open. Returns whether it closed any.
    @discardableResult
    static func lift(
        _ tx: any SupervisionRecords,
        _ rowid: Int64,
        cause: SuspensionCause,
        _ change: Change
    ) throws
        -> Bool
    {
        let open = try tx.openSuspensions(authorization: rowid, cause: cause.name, complaint: cause.complaint)
        for suspension in open {
            try tx.closeSuspension(suspension, at: change.at)
            try tx.audit("authorization_suspension", suspension, "close", change)
        }
        if try tx.openSuspensionCount(authorization: rowid) == 0,
            try tx.requireAuthorization(rowid).status == .suspended
        {
            try tx.updateAuthorization(rowid, AuthorizationUpdate(status: .active, suspendedBecause: .some(nil)))
            try tx.audit("authorization", rowid, "reinstate", change)
        }
        return !open.isEmpty
    }

    /// Suspends the authority of every authorized officer whose recurring training is overdue
    /// (`overdue`, from qualification's compliance as of now) and lifts the training suspension of
    /// those who are current again. Returns how many it suspended and lifted.
    public func applyTrainingCompliance(overdue: Set<String>) async throws -> (suspended: Int, lifted: Int) {
        let sweep = ChangeStamp(who: "supervision (compliance)", at: self.clock.now(), why: nil)
        return try await self.store.write { tx in
            var suspended = 0
            var lifted = 0
            for live in try tx.liveAuthorizationsWithTraining() {
                let isOverdue = overdue.contains(live.officerID)
                if isOverdue && !live.training {
                    try Self.suspend(tx, live.rowid, cause: .training, sweep.because("recurring training overdue"))
                    suspended += 1
                } else if !isOverdue && live.training {
                    try Self.lift(tx, live.rowid, cause: .training, sweep.because("recurring training current"))
                    lifted += 1
                }
            }
            return (suspended, lifted)
        }
    }

    func getAuthorization(_ request: GetAuthorizationRequest, _ context: ServerContext) async throws -> Authorization {
        let principal = try self.caller(context)
        let authorization: Authorization
        switch (request.authorizationId, request.officerId) {
        case (let id?, nil):
            let rowid = try Self.authorizationRowid(id)
            authorization = try await self.store.read { tx in try tx.requireAuthorization(rowid) }
        case (nil, let officer?):
            authorization = try await self.store.read { tx in
                guard let rowid = try tx.latestAuthorization(officerID: officer, agencyID: nil) else {
                    throw RPCError(.notFound, "officer \(officer) has never been authorized")
                }
                return try tx.requireAuthorization(rowid)
            }
        default:
            throw RPCError.invalidArgument(
                field: "authorization_id",
                "give exactly one of authorization_id and officer_id"
            )
        }
        try self.requireSees(principal, agencyID: authorization.agencyId ?? "", what: "authorizations")
        return self.present(authorization)
    }

    func listAuthorizations(
        _ request: ListAuthorizationsRequest,
        _ context: ServerContext
    ) async throws
        -> ListAuthorizationsResponse
    {
        let principal = try self.caller(context)
        let filter = AuthorizationFilter(
            agencyID: try self.listedAgency(request.agencyId, principal, "officers' authorizations"),
            agreement: try request.agreementId.map {
                try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
            },
            status: try Self.known(request.status, field: "status", required: false),
            now: self.clock.now()
        )
        let filters = [
            "agency=\(filter.agencyID ?? "")", "agreement=\(filter.agreement.map(String.init) ?? "")",
            "status=\(filter.status.map { String($0.rawValue) } ?? "")",
        ]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let found = try await self.store.read { tx in try tx.authorizations(filter, after: start, limit: size + 1) }
        let (page, next) = PageToken.split(found, size: size, filters: filters) { IDs.rowid($0.id) }
        return ListAuthorizationsResponse(authorizations: page.map(self.present), page: next)
    }
}
