import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordStorage
import GRDB

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

    static func loadSupervisor(_ db: Database, _ rowid: Int64) throws -> Supervisor {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM supervisor WHERE rowid = ?", arguments: [rowid]) else {
            throw RPCError(.notFound, "supervisor \(Self.id("sv", rowid)) not found")
        }
        return Supervisor(
            id: Self.id("sv", rowid),
            name: row["name"],
            component: FederalPartner(rawValue: row["component"]),
            office: row["office"],
            created: ChangeInfo(who: row["created_by"], atMs: row["created_at_ms"])
        )
    }

    func createSupervisor(_ request: CreateSupervisorRequest, _ context: ServerContext) async throws -> Supervisor {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "create supervisors")
        guard let supervisor = request.supervisor else {
            throw RPCError.invalidArgument(field: "supervisor", "is required")
        }
        let name = try Self.text(supervisor.name, field: "supervisor.name")!
        let component = try Self.known(supervisor.component, field: "supervisor.component")!
        let office = try Self.text(supervisor.office, field: "supervisor.office")!
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            try db.execute(
                sql:
                    "INSERT INTO supervisor (name, component, office, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, component.rawValue, office, who, now]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(db, "supervisor", rowid, "create", who: who, why: nil, at: now)
            return try Self.loadSupervisor(db, rowid)
        }
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
        let target: (table: String, rowid: Int64)
        switch (request.agreementId, request.officerId) {
        case (let agreement?, nil):
            target = ("agreement", try Self.rowid(agreement, prefix: "mo", field: "agreement_id", what: "an agreement"))
        case (nil, let officer?):
            guard !officer.isEmpty, officer.count <= 40 else {
                throw RPCError.invalidArgument(field: "officer_id", "is not an officer id")
            }
            target = ("officer", 0)
        default:
            throw RPCError.invalidArgument(field: "agreement_id", "give exactly one of agreement_id and officer_id")
        }
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let assigned = try Self.loadSupervisor(db, supervisor)
            if target.table == "agreement" {
                let agreement = try Self.agreementFor(
                    db,
                    target.rowid,
                    allowed: Self.openStatuses,
                    action: "assign a supervisor"
                )
                guard agreement.partner == assigned.component else {
                    throw RPCError(
                        .failedPrecondition,
                        "supervisor \(assigned.id!) is \(assigned.component!.protoName); agreement \(agreement.id!) is with \(agreement.partner!.protoName)"
                    )
                }
                try db.execute(
                    sql: "UPDATE agreement SET supervisor_rowid = ? WHERE rowid = ?",
                    arguments: [supervisor, target.rowid]
                )
                try Self.audit(db, "agreement", target.rowid, "assign:\(assigned.id!)", who: who, why: reason, at: now)
                try Self.recordAssignment(db, agreement: target.rowid, supervisor: supervisor, who: who, at: now)
            } else {
                let officer = request.officerId!
                guard
                    let authorization = try Int64.fetchOne(
                        db,
                        sql: "SELECT rowid FROM authorization WHERE officer_id = ? AND status IN (1, 2)",
                        arguments: [officer]
                    )
                else {
                    throw RPCError(.failedPrecondition, "officer \(officer) holds no authorization to supervise")
                }
                try db.execute(
                    sql: "UPDATE authorization SET supervisor_rowid = ? WHERE rowid = ?",
                    arguments: [supervisor, authorization]
                )
                try Self.audit(
                    db,
                    "authorization",
                    authorization,
                    "assign:\(assigned.id!)",
                    who: who,
                    why: reason,
                    at: now
                )
                try Self.recordAssignment(db, authorization: authorization, supervisor: supervisor, who: who, at: now)
            }
            return assigned
        }
    }

    func listSupervisors(
        _ request: ListSupervisorsRequest,
        _ context: ServerContext
    ) async throws -> ListSupervisorsResponse {
        _ = try self.caller(context)
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: []).afterRowid
        return try await self.store.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid FROM supervisor WHERE rowid > ? ORDER BY rowid LIMIT ?",
                arguments: [start, size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: [])
            return ListSupervisorsResponse(
                supervisors: try page.map { try Self.loadSupervisor(db, $0["rowid"]) },
                page: next
            )
        }
    }

    // MARK: Authorization records

    static func loadAuthorization(_ db: Database, _ rowid: Int64) throws -> Authorization {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM authorization WHERE rowid = ?", arguments: [rowid])
        else {
            throw RPCError(.notFound, "authorization \(Self.id("az", rowid)) not found")
        }
        return Self.authorization(row, functions: [])
    }

    static func authorization(_ row: Row, functions: [DelegatedFunction]) -> Authorization {
        Authorization(
            id: Self.id("az", row["rowid"]),
            officerId: row["officer_id"],
            officerName: row["officer_name"],
            agencyId: row["agency_id"],
            agreementId: Self.id("mo", row["agreement_rowid"]),
            model: Model(rawValue: row["model"]),
            status: AuthorizationStatus(rawValue: row["status"]),
            functions: functions,
            authorizedAtMs: row["authorized_at_ms"],
            expiresAtMs: row["expires_at_ms"],
            credentialSerial: row["credential_serial"],
            detainerCategories: (row["categories"] as String).split(separator: "\n").map(String.init),
            supervisorId: (row["supervisor_rowid"] as Int64?).map { Self.id("sv", $0) },
            revokedBecause: row["revoked_because"],
            suspendedBecause: row["suspended_because"],
            certifiedRulesVersion: row["certified_rules_version"]
        )
    }

    /// The authorization as callers see it: its functions from the rules, and EXPIRED once a
    /// TFM authority's two years have passed.
    func present(_ authorization: Authorization) -> Authorization {
        var result = authorization
        if let model = result.model { result.functions = self.rules.functions(of: model) }
        if result.status == .active || result.status == .suspended, let expires = result.expiresAtMs,
            expires <= self.now()
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

    /// Authorizes a certified officer under the agency's active agreement of the officer's model,
    /// in the caller's transaction.
    func authorize(
        _ db: Database,
        _ officer: Certified,
        terms: AuthorizationTerms,
        who: String,
        why: String?,
        at now: Int64
    ) throws -> Int64 {
        if let live = try Int64.fetchOne(
            db,
            sql: "SELECT rowid FROM authorization WHERE officer_id = ? AND status IN (1, 2)",
            arguments: [officer.officerID]
        ) {
            throw RPCError(
                .alreadyExists,
                "officer \(officer.officerID) is already authorized (\(Self.id("az", live)))",
                details: ErrorDetails(
                    reason: "AUTHORIZED",
                    metadata: [KeyValue(key: "authorization_id", value: Self.id("az", live))]
                )
            )
        }
        let agreementRowid: Int64
        if let requested = terms.agreement {
            agreementRowid = requested
        } else {
            guard
                let found = try Int64.fetchOne(
                    db,
                    sql:
                        "SELECT rowid FROM agreement WHERE agency_id = ? AND model = ? AND status = ? ORDER BY rowid DESC LIMIT 1",
                    arguments: [officer.agencyID, officer.model.rawValue, AgreementStatus.active.rawValue]
                )
            else {
                throw RPCError(
                    .failedPrecondition,
                    "agency \(officer.agencyID) has no active \(officer.model.shortName) agreement to authorize \(officer.officerID) under"
                )
            }
            agreementRowid = found
        }
        let agreement = try Self.agreementFor(db, agreementRowid, allowed: [.active], action: "authorize officers")
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
        if let supervisor = terms.supervisor { _ = try Self.loadSupervisor(db, supervisor) }
        let expires = officer.model == .tfm ? now + Int64(self.rules.tfmAuthorityDays) * 86_400_000 : nil
        try db.execute(
            sql: """
                INSERT INTO authorization (officer_id, officer_name, agency_id, agreement_rowid, model, status,
                    authorized_at_ms, expires_at_ms, credential_serial, categories, supervisor_rowid, certified_rules_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                officer.officerID, officer.name, officer.agencyID, agreementRowid, officer.model.rawValue,
                AuthorizationStatus.active.rawValue, now, expires, terms.credential,
                terms.categories.joined(separator: "\n"), terms.supervisor, officer.rulesVersion,
            ]
        )
        let rowid = db.lastInsertedRowID
        try Self.audit(db, "authorization", rowid, "authorize", who: who, why: why, at: now)
        if let supervisor = terms.supervisor {
            try Self.recordAssignment(db, authorization: rowid, supervisor: supervisor, who: who, at: now)
        }
        return rowid
    }

    /// Adds to the history of who supervised an agreement or an officer's authorization.
    static func recordAssignment(
        _ db: Database,
        agreement: Int64? = nil,
        authorization: Int64? = nil,
        supervisor: Int64,
        who: String,
        at now: Int64
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO supervisor_assignment (agreement_rowid, authorization_rowid, supervisor_rowid, from_ms)
                VALUES (?, ?, ?, ?)
                """
        ).execute(arguments: [agreement, authorization, supervisor, now])
        try Self.audit(db, "supervisor_assignment", db.lastInsertedRowID, "assign", who: who, why: nil, at: now)
    }

    /// The supervisor of an authorization at `moment`: the officer's own, else the agreement's.
    static func supervisor(_ db: Database, authorization: Int64, agreement: Int64, at moment: Int64) throws -> Int64? {
        let own = try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT supervisor_rowid FROM supervisor_assignment WHERE authorization_rowid = ? AND from_ms <= ?
                    ORDER BY from_ms DESC, rowid DESC LIMIT 1
                    """
            ),
            arguments: [authorization, moment]
        )
        return try own ?? Self.supervisor(db, agreement: agreement, at: moment)
    }

    /// The supervisor assigned to an agreement at `moment`.
    static func supervisor(_ db: Database, agreement: Int64, at moment: Int64) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT supervisor_rowid FROM supervisor_assignment WHERE agreement_rowid = ? AND from_ms <= ?
                    ORDER BY from_ms DESC, rowid DESC LIMIT 1
                    """
            ),
            arguments: [agreement, moment]
        )
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
        let certified = Certified(
            officerID: officerID,
            agencyID: agencyID,
            model: model,
            name: officer.name ?? "",
            rulesVersion: officer.rulesVersion
        )
        let who = principal.description
        let now = self.now()
        let authorization = try await self.store.write { db in
            let rowid = try self.authorize(db, certified, terms: terms, who: who, why: reason, at: now)
            return try Self.loadAuthorization(db, rowid)
        }
        return self.present(authorization)
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
        let officerID = try Self.text(request.officerId, field: "officer_id", max: 40)!
        let agencyID = try Self.text(request.agencyId, field: "agency_id", max: 40)!
        let model = try Self.known(request.model, field: "model")!
        let name = try Self.text(request.name, field: "name")!
        let certifiedOn = try Self.day(request.certifiedOn, field: "certified_on")
        let rulesVersion = try Self.text(request.rulesVersion, field: "rules_version", max: 60, optional: true)
        let certified = Certified(
            officerID: officerID,
            agencyID: agencyID,
            model: model,
            name: name,
            rulesVersion: rulesVersion
        )
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            try db.execute(
                sql: """
                    INSERT INTO certification (officer_id, agency_id, model, name, certified_on, rules_version, received_at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (officer_id) DO NOTHING
                    """,
                arguments: [officerID, agencyID, model.rawValue, name, certifiedOn.description, rulesVersion, now]
            )
            guard db.changesCount > 0 else { return NotifyCertifiedResponse(recorded: false) }
            try Self.audit(db, "certification", db.lastInsertedRowID, "notice", who: who, why: nil, at: now)
            let hasAgreement =
                try Int64.fetchOne(
                    db,
                    sql: "SELECT rowid FROM agreement WHERE agency_id = ? AND model = ? AND status = ? LIMIT 1",
                    arguments: [agencyID, model.rawValue, AgreementStatus.active.rawValue]
                ) != nil
            guard hasAgreement else { return NotifyCertifiedResponse(recorded: true) }
            do {
                let rowid = try self.authorize(
                    db,
                    certified,
                    terms: AuthorizationTerms(categories: []),
                    who: who,
                    why: "certified on \(certifiedOn)",
                    at: now
                )
                return NotifyCertifiedResponse(authorizationId: Self.id("az", rowid), recorded: true)
            } catch let error as RPCError {
                // Checked before anything is written: the notice stays recorded, authorization waits.
                self.logger.notice(
                    "Certified officer not authorized",
                    metadata: ["officer": "\(officerID)", "error": "\(error)"]
                )
                return NotifyCertifiedResponse(recorded: true)
            }
        }
    }

    func revokeAuthorization(
        _ request: RevokeAuthorizationRequest,
        _ context: ServerContext
    ) async throws
        -> Authorization
    {
        let principal = try self.caller(context)
        try self.require(principal, [.programOffice, .operator, .supervisor], "revoke authority")
        let rowid = try Self.rowid(
            request.authorizationId,
            prefix: "az",
            field: "authorization_id",
            what: "an authorization"
        )
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        let who = principal.description
        let now = self.now()
        let authorization = try await self.store.write { db in
            let current = try Self.loadAuthorization(db, rowid)
            try self.requireSupervises(db, principal, current)
            guard current.status == .active || current.status == .suspended else {
                throw RPCError(.failedPrecondition, "authorization \(current.id!) is \(current.status!.protoName)")
            }
            try db.execute(
                sql: "UPDATE authorization SET status = ?, revoked_at_ms = ?, revoked_because = ? WHERE rowid = ?",
                arguments: [AuthorizationStatus.revoked.rawValue, now, reason, rowid]
            )
            try Self.audit(db, "authorization", rowid, "revoke", who: who, why: reason, at: now)
            return try Self.loadAuthorization(db, rowid)
        }
        return self.present(authorization)
    }

    /// A supervisor acts only on the officers assigned to them, or, for an officer without a
    /// supervisor of their own, on those under an agreement assigned to them.
    func requireSupervises(_ db: Database, _ principal: Principal, _ authorization: Authorization) throws {
        guard principal.role == .supervisor else { return }
        let agreementRowid = try Self.rowid(
            authorization.agreementId,
            prefix: "mo",
            field: "agreement_id",
            what: "an agreement"
        )
        let supervisor =
            try authorization.supervisorId
            ?? Int64.fetchOne(
                db,
                sql: "SELECT supervisor_rowid FROM agreement WHERE rowid = ?",
                arguments: [agreementRowid]
            )
            .map { Self.id("sv", $0) }
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
        let rowid = try Self.rowid(
            request.authorizationId,
            prefix: "az",
            field: "authorization_id",
            what: "an authorization"
        )
        guard let suspend = request.suspend else { throw RPCError.invalidArgument(field: "suspend", "is required") }
        let reason = try Self.text(request.reason, field: "reason", max: 500)!
        let who = principal.description
        let now = self.now()
        let authorization = try await self.store.write { db in
            let current = try Self.loadAuthorization(db, rowid)
            try self.requireSupervises(db, principal, current)
            if suspend {
                try Self.suspend(db, rowid, reason: reason, cause: .manual, who: who, at: now)
            } else {
                guard current.status == .suspended else {
                    throw RPCError(
                        .failedPrecondition,
                        "authorization \(current.id!) is \(current.status!.protoName), not suspended"
                    )
                }
                try Self.lift(db, rowid, cause: .manual, who: who, why: reason, at: now)
            }
            return try Self.loadAuthorization(db, rowid)
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
        let rowid = try Self.rowid(
            request.authorizationId,
            prefix: "az",
            field: "authorization_id",
            what: "an authorization"
        )
        let categories = try request.categories.enumerated().map { index, category in
            try Self.text(category, field: "categories[\(index)]", max: 100)!
        }
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let who = principal.description
        let now = self.now()
        let authorization = try await self.store.write { db in
            let current = try Self.loadAuthorization(db, rowid)
            try self.requireSupervises(db, principal, current)
            guard current.status == .active || current.status == .suspended else {
                throw RPCError(.failedPrecondition, "authorization \(current.id!) is \(current.status!.protoName)")
            }
            guard current.model == .tfm else {
                throw RPCError(.failedPrecondition, "detainer categories are set only on TFM authorizations")
            }
            try db.execute(
                sql: "UPDATE authorization SET categories = ? WHERE rowid = ?",
                arguments: [categories.joined(separator: "\n"), rowid]
            )
            try Self.audit(db, "authorization", rowid, "categories", who: who, why: reason, at: now)
            return try Self.loadAuthorization(db, rowid)
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

    /// Suspends an authority in force (opens a suspension interval), in the caller's transaction.
    static func suspend(
        _ db: Database,
        _ rowid: Int64,
        reason: String,
        cause: SuspensionCause,
        who: String,
        at: Int64
    ) throws {
        let current = try Self.loadAuthorization(db, rowid)
        guard current.status == .active || current.status == .suspended else {
            throw RPCError(.failedPrecondition, "authorization \(current.id!) is \(current.status!.protoName)")
        }
        try db.execute(
            sql: """
                INSERT INTO authorization_suspension (authorization_rowid, from_ms, reason, complaint_rowid, cause)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [rowid, at, reason, cause.complaint, cause.name]
        )
        try Self.audit(db, "authorization_suspension", db.lastInsertedRowID, "open", who: who, why: reason, at: at)
        try db.execute(
            sql: "UPDATE authorization SET status = ?, suspended_because = ? WHERE rowid = ?",
            arguments: [AuthorizationStatus.suspended.rawValue, reason, rowid]
        )
        try Self.audit(db, "authorization", rowid, "suspend", who: who, why: reason, at: at)
    }

    /// Ends the open suspensions of one cause, and makes the authority active again when none is
    /// left open. Returns whether it closed any.
    @discardableResult
    static func lift(
        _ db: Database,
        _ rowid: Int64,
        cause: SuspensionCause,
        who: String,
        why: String?,
        at: Int64
    ) throws -> Bool {
        let open = try Int64.fetchAll(
            db,
            sql: """
                SELECT rowid FROM authorization_suspension WHERE authorization_rowid = ? AND until_ms IS NULL
                AND complaint_rowid IS ? AND coalesce(cause, CASE WHEN complaint_rowid IS NULL THEN 'manual' ELSE 'complaint' END) = ?
                """,
            arguments: [rowid, cause.complaint, cause.name]
        )
        for suspension in open {
            try db.execute(
                sql: "UPDATE authorization_suspension SET until_ms = ? WHERE rowid = ?",
                arguments: [at, suspension]
            )
            try Self.audit(db, "authorization_suspension", suspension, "close", who: who, why: why, at: at)
        }
        let remaining =
            try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM authorization_suspension WHERE authorization_rowid = ? AND until_ms IS NULL",
                arguments: [rowid]
            ) ?? 0
        let status = try Int32.fetchOne(db, sql: "SELECT status FROM authorization WHERE rowid = ?", arguments: [rowid])
        if remaining == 0 && status == AuthorizationStatus.suspended.rawValue {
            try db.execute(
                sql: "UPDATE authorization SET status = ?, suspended_because = NULL WHERE rowid = ?",
                arguments: [AuthorizationStatus.active.rawValue, rowid]
            )
            try Self.audit(db, "authorization", rowid, "reinstate", who: who, why: why, at: at)
        }
        return !open.isEmpty
    }

    /// Suspends the authority of every authorized officer whose recurring training is overdue
    /// (`overdue`, from qualification's compliance as of now) and lifts the training suspension of
    /// those who are current again. Returns how many it suspended and lifted.
    public func applyTrainingCompliance(overdue: Set<String>) async throws -> (suspended: Int, lifted: Int) {
        let now = self.now()
        return try await self.store.write { db in
            var suspended = 0
            var lifted = 0
            let live = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.rowid, a.officer_id, EXISTS (
                        SELECT 1 FROM authorization_suspension s WHERE s.authorization_rowid = a.rowid
                        AND s.until_ms IS NULL AND s.cause = 'training') AS training
                    FROM authorization a WHERE a.status IN (1, 2)
                    """
            )
            for row in live {
                let rowid: Int64 = row["rowid"]
                let isOverdue = overdue.contains(row["officer_id"] as String)
                let suspendedForTraining: Bool = row["training"]
                if isOverdue && !suspendedForTraining {
                    try Self.suspend(
                        db,
                        rowid,
                        reason: "recurring training overdue",
                        cause: .training,
                        who: "supervision (compliance)",
                        at: now
                    )
                    suspended += 1
                } else if !isOverdue && suspendedForTraining {
                    try Self.lift(
                        db,
                        rowid,
                        cause: .training,
                        who: "supervision (compliance)",
                        why: "recurring training current",
                        at: now
                    )
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
            let rowid = try Self.rowid(id, prefix: "az", field: "authorization_id", what: "an authorization")
            authorization = try await self.store.read { db in try Self.loadAuthorization(db, rowid) }
        case (nil, let officer?):
            authorization = try await self.store.read { db in
                guard
                    let rowid = try Int64.fetchOne(
                        db,
                        sql:
                            "SELECT rowid FROM authorization WHERE officer_id = ? ORDER BY authorized_at_ms DESC, rowid DESC LIMIT 1",
                        arguments: [officer]
                    )
                else { throw RPCError(.notFound, "officer \(officer) has never been authorized") }
                return try Self.loadAuthorization(db, rowid)
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
        var agencyID = request.agencyId
        if principal.role == .agency {
            guard agencyID == nil || agencyID == principal.scope else {
                throw RPCError(.permissionDenied, "an agency sees only its own officers' authorizations")
            }
            agencyID = principal.scope
        }
        let agreement = try request.agreementId.map {
            try Self.rowid($0, prefix: "mo", field: "agreement_id", what: "an agreement")
        }
        let status = try Self.known(request.status, field: "status", required: false)?.rawValue
        let filters = [
            "agency=\(agencyID ?? "")", "agreement=\(agreement.map(String.init) ?? "")",
            "status=\(status.map(String.init) ?? "")",
        ]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let agency = agencyID
        let now = self.now()
        let rows = try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("agency_id", agency)
            filter.equal("agreement_rowid", agreement)
            // Lapsed TFM authority is stored active or suspended and shown expired (see `present`):
            // the status filter goes by what is shown.
            let lapsed = "expires_at_ms IS NOT NULL AND expires_at_ms <= ?"
            switch status.map(AuthorizationStatus.init(rawValue:)) {
            case .some(let shown) where shown == .active || shown == .suspended:
                filter.add("status = ? AND NOT (\(lapsed))", [shown.rawValue, now])
            case .some(.expired):
                filter.add(
                    "(status = ? OR (status IN (?, ?) AND \(lapsed)))",
                    [
                        AuthorizationStatus.expired.rawValue, AuthorizationStatus.active.rawValue,
                        AuthorizationStatus.suspended.rawValue, now,
                    ]
                )
            default:
                filter.equal("status", status)
            }
            filter.add("rowid > ?", [start])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM authorization WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                arguments: filter.arguments + [size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: filters)
            return (page.map { Self.authorization($0, functions: []) }, next)
        }
        return ListAuthorizationsResponse(authorizations: rows.0.map(self.present), page: rows.1)
    }
}
