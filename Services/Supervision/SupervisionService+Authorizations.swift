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
        router.register(SupervisionMethods.getSupervisor) { try await self.getSupervisor($0, $1) }
        router.register(SupervisionMethods.listSupervisors) { try await self.listSupervisors($0, $1) }
        router.register(SupervisionMethods.authorizeOfficer) { try await self.authorizeOfficer($0, $1) }
        router.register(SupervisionMethods.notifyCertified) { try await self.notifyCertified($0, $1) }
        router.register(SupervisionMethods.revokeAuthorization) { try await self.revokeAuthorization($0, $1) }
        router.register(SupervisionMethods.suspendAuthorization) { try await self.suspendAuthorization($0, $1) }
        router.register(SupervisionMethods.setDetainerCategories) { try await self.setDetainerCategories($0, $1) }
        router.register(SupervisionMethods.getAuthorization) { try await self.getAuthorization($0, $1) }
        router.register(SupervisionMethods.listAuthorizations) { try await self.listAuthorizations($0, $1) }
    }

    // MARK: Authorization records

    /// The authorization as callers see it: its functions from the rules, and EXPIRED once a
    /// TFM authority's two years have passed.
    func present(_ authorization: Authorization, at moment: Int64? = nil) -> Authorization {
        var result = authorization
        if let model = result.model { result.functions = self.rules.functions(of: model) }
        if result.status == .active || result.status == .suspended, let expires = result.expiresAtMs,
            expires <= moment ?? self.clock.now()
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
        /// "YYYY-MM-DD", when known.
        var certifiedOn: String?
    }

    struct AuthorizationTerms: Sendable {
        var agreement: Int64?
        var credential: String?
        var categories: [String]
        var supervisor: Int64?
        /// Authority granted before it was recorded: from the start of this day.
        var authorizedOn: Day?
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
        let authorizedAt = terms.authorizedOn?.startMilliseconds ?? change.at
        if let day = terms.authorizedOn {
            try Self.requireAuthorizable(tx, officer, agreement: agreementRowid, on: day)
        }
        let expires = officer.model == .tfm ? authorizedAt + Int64(self.rules.tfmAuthorityDays) * 86_400_000 : nil
        let rowid = try tx.insertAuthorization(
            NewAuthorization(
                officerID: officer.officerID,
                officerName: officer.name,
                agencyID: officer.agencyID,
                agreement: agreementRowid,
                model: officer.model,
                authorizedAtMs: authorizedAt,
                expiresAtMs: expires,
                credentialSerial: terms.credential,
                categories: terms.categories,
                supervisor: terms.supervisor,
                certifiedRulesVersion: officer.rulesVersion
            )
        )
        try tx.audit("authorization", rowid, "authorize", change.happened(at: authorizedAt))
        if let supervisor = terms.supervisor {
            try tx.recordAssignment(
                agreement: nil,
                authorization: rowid,
                supervisor: supervisor,
                from: authorizedAt,
                change
            )
        }
        return rowid
    }

    /// A backdated authorization starts no earlier than the officer's certification and the
    /// agreement's taking effect.
    static func requireAuthorizable(
        _ tx: any SupervisionRecords,
        _ officer: Certified,
        agreement rowid: Int64,
        on day: Day
    ) throws {
        if let certified = officer.certifiedOn.flatMap(Day.init), day < certified {
            throw RPCError.invalidArgument(
                field: "authorized_on",
                "\(day) is before officer \(officer.officerID) was certified, on \(certified)"
            )
        }
        let agreement = try tx.requireAgreement(rowid)
        if let effective = agreement.effectiveOn.flatMap(Day.init), day < effective {
            throw RPCError.invalidArgument(
                field: "authorized_on",
                "\(day) is before agreement \(agreement.id!) took effect, on \(effective)"
            )
        }
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
            },
            authorizedOn: try request.authorizedOn.map { try Self.day($0, field: "authorized_on") }
        )
    }

    /// Authorizes an officer after asking qualification, at this moment, whether they are certified.
    func authorizeOfficer(_ request: AuthorizeOfficerRequest, _ context: ServerContext) async throws -> Authorization {
        let principal = try self.caller(context)
        let officerID = try Self.text(request.officerId, field: "officer_id", max: 40)!
        let terms = try Self.terms(request)
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        if let day = terms.authorizedOn {
            guard day <= self.today else {
                throw RPCError.invalidArgument(field: "authorized_on", "\(day) is in the future: at most \(self.today)")
            }
            guard day == self.today || reason != nil else {
                throw RPCError.invalidArgument(field: "reason", "is required for an authorization dated before today")
            }
        }
        let certified = try await self.certifiedOfficer(officerID)
        let change = self.stamp(principal, why: reason)
        let authorization = try await self.store.write { tx in
            try tx.requireAuthorization(try self.authorize(tx, certified, terms: terms, change))
        }
        return self.present(authorization)
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
            try authorization.supervisorId ?? tx.agreement(RecordID.rowid(of: authorization.agreementId))?.supervisorId
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
        let now = self.clock.now()
        let asOf = try Self.pastMoment(request.asOfMs, now: now)
        let filter = AuthorizationFilter(
            agencyID: try self.listedAgency(request.agencyId, principal, "officers' authorizations"),
            agreement: try request.agreementId.map {
                try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
            },
            status: try Self.known(request.status, field: "status", required: false),
            now: asOf ?? now,
            asOf: asOf != nil
        )
        let filters = [
            "agency=\(filter.agencyID ?? "")", "agreement=\(filter.agreement.map(String.init) ?? "")",
            "status=\(filter.status.map { String($0.rawValue) } ?? "")", "as_of=\(asOf.map(String.init) ?? "")",
        ]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let found = try await self.store.read { tx in try tx.authorizations(filter, after: start, limit: size + 1) }
        let (page, next) = PageToken.split(found, size: size, filters: filters) { RecordID.rowid(of: $0.id) }
        return ListAuthorizationsResponse(
            authorizations: page.map { self.present($0, at: filter.now) },
            page: next
        )
    }
}
