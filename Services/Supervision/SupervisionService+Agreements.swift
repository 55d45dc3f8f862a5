import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordStorage
import GRDB

/// Agreements (MOAs): offer from a qualified request, signatures, suspension, reinstatement,
/// termination with notice, renewal that supersedes, addenda, reviews, import from ICE sheets.
extension SupervisionService {
    func registerAgreements(into router: inout RPCRouter) {
        router.register(SupervisionMethods.offerAgreement) { try await self.offerAgreement($0, $1) }
        router.register(SupervisionMethods.signAgreement) { try await self.signAgreement($0, $1) }
        router.register(SupervisionMethods.suspendAgreement) { try await self.suspendAgreement($0, $1) }
        router.register(SupervisionMethods.reinstateAgreement) { try await self.reinstateAgreement($0, $1) }
        router.register(SupervisionMethods.noticeTermination) { try await self.noticeTermination($0, $1) }
        router.register(SupervisionMethods.renewAgreement) { try await self.renewAgreement($0, $1) }
        router.register(SupervisionMethods.addAddendum) { try await self.addAddendum($0, $1) }
        router.register(SupervisionMethods.recordReview) { try await self.recordReview($0, $1) }
        router.register(SupervisionMethods.getAgreement) { try await self.getAgreement($0, $1) }
        router.register(SupervisionMethods.listAgreements) { try await self.listAgreements($0, $1) }
        router.register(SupervisionMethods.importAgreement) { try await self.importAgreement($0, $1) }
    }

    /// The statuses under which an agreement is still open (not terminated or superseded).
    static let openStatuses: [AgreementStatus] = [.offered, .active, .suspended, .terminationNoticed]

    // MARK: Records

    static func loadAgreement(_ db: Database, _ rowid: Int64) throws -> Agreement {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agreement WHERE rowid = ?", arguments: [rowid]) else {
            throw RPCError(.notFound, "agreement \(Self.id("mo", rowid)) not found")
        }
        let addenda = try Row.fetchAll(
            db,
            sql: "SELECT title, link, signed_on FROM addendum WHERE agreement_rowid = ? ORDER BY rowid",
            arguments: [rowid]
        ).map { Addendum(title: $0["title"], link: $0["link"], signedOn: $0["signed_on"]) }
        return Self.agreement(row, addenda: addenda)
    }

    static func agreement(_ row: Row, addenda: [Addendum] = []) -> Agreement {
        Agreement(
            id: Self.id("mo", row["rowid"]),
            agencyId: row["agency_id"],
            agencyName: row["agency_name"],
            state: row["state"],
            model: Model(rawValue: row["model"]),
            partner: FederalPartner(rawValue: row["partner"]),
            office: row["office"],
            status: AgreementStatus(rawValue: row["status"]),
            requestId: row["request_id"],
            agencySignedBy: row["agency_signed_by"],
            agencySignedOn: row["agency_signed_on"],
            federalSignedBy: row["federal_signed_by"],
            federalSignedOn: row["federal_signed_on"],
            effectiveOn: row["effective_on"],
            reviewDueOn: row["review_due_on"],
            moaLink: row["moa_link"],
            addenda: addenda,
            suspensionReason: row["suspension_reason"],
            suspensionDays: (row["suspension_days"] as Int64?).map { UInt32(clamping: $0) },
            suspensionResponse: row["suspension_response"],
            terminationReason: row["termination_reason"],
            terminationNoticedOn: row["termination_noticed_on"],
            terminationEffectiveOn: row["termination_effective_on"],
            supersedes: (row["supersedes"] as Int64?).map { Self.id("mo", $0) },
            supersededBy: (row["superseded_by"] as Int64?).map { Self.id("mo", $0) },
            supervisorId: (row["supervisor_rowid"] as Int64?).map { Self.id("sv", $0) },
            created: ChangeInfo(who: row["created_by"], atMs: row["created_at_ms"]),
            updated: (row["updated_at_ms"] as Int64?).map {
                ChangeInfo(who: row["updated_by"], atMs: $0, why: row["updated_why"])
            },
            source: row["source"]
        )
    }

    /// Moves an agreement to `status` as of `at`, with its history row and audit entries.
    static func setStatus(
        _ db: Database,
        _ rowid: Int64,
        _ status: AgreementStatus,
        at: Int64,
        who: String,
        why: String?,
        recordedAt: Int64
    ) throws {
        try db.execute(
            sql: "UPDATE agreement SET status = ?, updated_by = ?, updated_at_ms = ?, updated_why = ? WHERE rowid = ?",
            arguments: [status.rawValue, who, recordedAt, why, rowid]
        )
        try Self.audit(db, "agreement", rowid, "status:\(status.protoName)", who: who, why: why, at: recordedAt)
        try db.execute(
            sql: "INSERT INTO agreement_status (agreement_rowid, status, at_ms) VALUES (?, ?, ?)",
            arguments: [rowid, status.rawValue, at]
        )
        try Self.audit(
            db,
            "agreement_status",
            db.lastInsertedRowID,
            "status:\(status.protoName)",
            who: who,
            why: why,
            at: recordedAt
        )
    }

    /// Revokes every authorization in force under an agreement, in the caller's transaction.
    static func revokeAll(_ db: Database, agreement: Int64, at: Int64, because: String, who: String) throws -> Int {
        let rowids = try Int64.fetchAll(
            db,
            sql: "SELECT rowid FROM authorization WHERE agreement_rowid = ? AND status IN (1, 2)",
            arguments: [agreement]
        )
        for rowid in rowids {
            try db.execute(
                sql: """
                    UPDATE authorization SET status = ?, revoked_at_ms = ?, revoked_because = ? WHERE rowid = ?
                    """,
                arguments: [AuthorizationStatus.revoked.rawValue, at, because, rowid]
            )
            try Self.audit(db, "authorization", rowid, "revoke", who: who, why: because, at: at)
        }
        return rowids.count
    }

    /// The agreement's status at a moment, nil before it existed. A noticed termination counts
    /// from its effective date even before the clock has applied it.
    /// The agreement an authorization was held under at `moment`, and its status then: its
    /// current agreement, or, when that is a renewal not yet in force then, the agreement the
    /// renewal superseded (and so on back). A nil status: the agreement did not exist yet.
    static func agreementInForce(
        _ db: Database,
        current agreement: Int64,
        at moment: Int64
    ) throws -> (agreement: Int64, status: AgreementStatus?) {
        var candidate = agreement
        var status = try Self.status(db, agreement: candidate, at: moment)
        while [nil, .offered].contains(status),
            let previous = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT rowid FROM agreement WHERE superseded_by = ?"),
                arguments: [candidate]
            )
        {
            candidate = previous
            status = try Self.status(db, agreement: candidate, at: moment)
        }
        return (candidate, status)
    }

    static func status(_ db: Database, agreement: Int64, at moment: Int64) throws -> AgreementStatus? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT s.status, a.termination_effective_on FROM agreement_status s JOIN agreement a ON a.rowid = s.agreement_rowid
                        WHERE s.agreement_rowid = ? AND s.at_ms <= ? ORDER BY s.at_ms DESC, s.rowid DESC LIMIT 1
                        """
                ),
                arguments: [agreement, moment]
            )
        else { return nil }
        let status = AgreementStatus(rawValue: row["status"])
        if status == .terminationNoticed,
            let effective = (row["termination_effective_on"] as String?).flatMap(Day.init),
            effective.startMilliseconds <= moment
        {
            return .terminated
        }
        return status
    }

    /// Loads an agreement for a change: NOT_FOUND, or FAILED_PRECONDITION naming its status when
    /// it is not in one of `allowed`.
    static func agreementFor(
        _ db: Database,
        _ rowid: Int64,
        allowed: [AgreementStatus],
        action: String
    ) throws -> Agreement {
        let agreement = try Self.loadAgreement(db, rowid)
        guard let status = agreement.status, allowed.contains(status) else {
            throw RPCError(
                .failedPrecondition,
                "agreement \(agreement.id!) is \(agreement.status?.protoName ?? "?"): cannot \(action)",
                details: ErrorDetails(
                    reason: "AGREEMENT_STATUS",
                    metadata: [KeyValue(key: "status", value: agreement.status?.protoName)]
                )
            )
        }
        return agreement
    }

    static func openAgreement(_ db: Database, agencyID: String, model: Model) throws -> Int64? {
        try Int64.fetchOne(
            db,
            sql:
                "SELECT rowid FROM agreement WHERE agency_id = ? AND model = ? AND status IN (1, 2, 3, 4) AND supersedes IS NULL LIMIT 1",
            arguments: [agencyID, model.rawValue]
        )
    }

    // MARK: Offer and signatures

    func offerAgreement(_ request: OfferAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "offer agreements")
        let requestID = try Self.text(request.requestId, field: "request_id", max: 40)!
        let office = try Self.text(request.office, field: "office")!
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        guard let intake = self.backends.intake else {
            throw RPCError(.unavailable, "supervision has no intake endpoint to check the request with")
        }
        let options = self.backends.callOptions
        let participation = try await intake.unary(
            IntakeMethods.getRequest,
            GetRequestRequest(requestId: requestID),
            options: options
        )
        guard participation.status == .qualified else {
            throw RPCError(
                .failedPrecondition,
                "request \(requestID) is \(participation.status?.protoName ?? "?"): only a qualified request is offered an agreement"
            )
        }
        let agency = try await intake.unary(
            IntakeMethods.getAgency,
            GetAgencyRequest(agency: participation.agencyId),
            options: options
        )
        guard let agencyID = agency.id, let model = participation.model, let partner = participation.partner else {
            throw RPCError(.internal, "intake returned request \(requestID) without agency, model or partner")
        }
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            if let existing = try Self.openAgreement(db, agencyID: agencyID, model: model) {
                throw RPCError(
                    .alreadyExists,
                    "agency \(agencyID) already has \(model.shortName) agreement \(Self.id("mo", existing))",
                    details: ErrorDetails(
                        reason: "OPEN_AGREEMENT",
                        metadata: [KeyValue(key: "agreement_id", value: Self.id("mo", existing))]
                    )
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO agreement (agency_id, agency_name, state, model, partner, office, status, request_id,
                        created_by, created_at_ms, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'api')
                    """,
                arguments: [
                    agencyID, agency.name ?? "", agency.state ?? "", model.rawValue, partner.rawValue, office,
                    AgreementStatus.offered.rawValue, requestID, who, now,
                ]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(db, "agreement", rowid, "offer", who: who, why: reason, at: now)
            try Self.setStatus(db, rowid, .offered, at: now, who: who, why: reason, recordedAt: now)
            try Self.queueProgress(db, requestID: requestID, .agreementOffered, agreement: rowid, at: now)
            return try Self.loadAgreement(db, rowid)
        }
    }

    func signAgreement(_ request: SignAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let party = try Self.known(request.party, field: "party")!
        let signer = try Self.text(request.signedBy, field: "signed_by")!
        let today = self.today
        let signedOn = try Self.day(request.signedOn, field: "signed_on", default: today)
        guard signedOn <= today else {
            throw RPCError.invalidArgument(field: "signed_on", "\(signedOn) is in the future")
        }
        let who = principal.description
        let now = self.now()
        let reviewYears = self.rules.reviewEveryYears
        return try await self.store.write { db in
            let agreement = try Self.agreementFor(db, rowid, allowed: [.offered], action: "sign")
            switch (party, principal.role) {
            case (.agency, .agency) where principal.scope == agreement.agencyId, (_, .programOffice), (_, .operator):
                break
            default:
                throw RPCError(.permissionDenied, "\(principal.header) may not sign for \(party.protoName)")
            }
            let column = party == .agency ? "agency" : "federal"
            if (party == .agency ? agreement.agencySignedOn : agreement.federalSignedOn) != nil {
                throw RPCError(
                    .failedPrecondition,
                    "agreement \(agreement.id!) is already signed by \(party.protoName)"
                )
            }
            try db.execute(
                sql: "UPDATE agreement SET \(column)_signed_by = ?, \(column)_signed_on = ? WHERE rowid = ?",
                arguments: [signer, signedOn.description, rowid]
            )
            try Self.audit(db, "agreement", rowid, "sign:\(column)", who: who, why: signer, at: now)
            let other = party == .agency ? agreement.federalSignedOn : agreement.agencySignedOn
            if let other, let otherDay = Day(other) {
                let effective = max(otherDay, signedOn)
                try db.execute(
                    sql: "UPDATE agreement SET effective_on = ?, review_due_on = ? WHERE rowid = ?",
                    arguments: [effective.description, effective.adding(years: reviewYears).description, rowid]
                )
                try Self.setStatus(
                    db,
                    rowid,
                    .active,
                    at: now,
                    who: who,
                    why: "signed by both parties",
                    recordedAt: now
                )
                if let requestID = agreement.requestId, agreement.supersedes == nil {
                    try Self.queueProgress(db, requestID: requestID, .signed, agreement: rowid, at: now)
                }
                if let old = try Int64.fetchOne(
                    db,
                    sql: "SELECT supersedes FROM agreement WHERE rowid = ?",
                    arguments: [rowid]
                ) {
                    try Self.supersede(db, old: old, new: rowid, at: now, who: who)
                }
            }
            return try Self.loadAgreement(db, rowid)
        }
    }

    /// Queues the request's progress for intake, in the caller's transaction.
    static func queueProgress(
        _ db: Database,
        requestID: String,
        _ status: RequestStatus,
        agreement: Int64,
        at: Int64
    )
        throws
    {
        try db.execute(
            sql: "INSERT INTO outbox (request_id, status, agreement_rowid, created_at_ms) VALUES (?, ?, ?, ?)",
            arguments: [requestID, status.rawValue, agreement, at]
        )
    }

    /// A signed renewal replaces the agreement it renews; the officers authorized under the old
    /// one keep their authority under the new one.
    static func supersede(_ db: Database, old: Int64, new: Int64, at: Int64, who: String) throws {
        try db.execute(sql: "UPDATE agreement SET superseded_by = ? WHERE rowid = ?", arguments: [new, old])
        try Self.setStatus(
            db,
            old,
            .superseded,
            at: at,
            who: who,
            why: "renewed by \(Self.id("mo", new))",
            recordedAt: at
        )
        let moved = try Int64.fetchAll(
            db,
            sql: "SELECT rowid FROM authorization WHERE agreement_rowid = ? AND status IN (1, 2)",
            arguments: [old]
        )
        for authorization in moved {
            try db.execute(
                sql: "UPDATE authorization SET agreement_rowid = ? WHERE rowid = ?",
                arguments: [new, authorization]
            )
            try Self.audit(db, "authorization", authorization, "renewal", who: who, why: Self.id("mo", new), at: at)
        }
        // The renewal is no longer a pending one; it is now the agreement of its agency and model.
        try db.execute(sql: "UPDATE agreement SET supersedes = NULL WHERE rowid = ?", arguments: [new])
        try db.execute(
            sql: "UPDATE agreement SET source = source || ' renewal of ' || ? WHERE rowid = ?",
            arguments: [Self.id("mo", old), new]
        )
        try Self.audit(db, "agreement", new, "supersede", who: who, why: Self.id("mo", old), at: at)
    }

    // MARK: Suspension, reinstatement, termination

    func suspendAgreement(_ request: SuspendAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "suspend agreements")
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        guard let days = request.days, days > 0, days <= 3650 else {
            throw RPCError.invalidArgument(field: "days", "is required: 1 to 3650")
        }
        let response = try Self.text(request.response, field: "response", max: 1000)!
        let who = principal.description
        let now = self.now()
        let (agreement, revoked) = try await self.store.write { db in
            _ = try Self.agreementFor(db, rowid, allowed: [.active, .terminationNoticed], action: "suspend")
            try db.execute(
                sql:
                    "UPDATE agreement SET suspension_reason = ?, suspension_days = ?, suspension_response = ? WHERE rowid = ?",
                arguments: [reason, Int64(days), response, rowid]
            )
            try Self.setStatus(db, rowid, .suspended, at: now, who: who, why: reason, recordedAt: now)
            let revoked = try Self.revokeAll(
                db,
                agreement: rowid,
                at: now,
                because: "agreement \(Self.id("mo", rowid)) suspended: \(reason)",
                who: who
            )
            return (try Self.loadAgreement(db, rowid), revoked)
        }
        context.logger.notice(
            "Agreement suspended",
            metadata: ["agreement": "\(agreement.id!)", "authorizations_revoked": "\(revoked)"]
        )
        return agreement
    }

    func reinstateAgreement(_ request: ReinstateAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "reinstate agreements")
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let agreement = try Self.agreementFor(db, rowid, allowed: [.suspended], action: "reinstate")
            let status: AgreementStatus = agreement.terminationNoticedOn != nil ? .terminationNoticed : .active
            try Self.setStatus(db, rowid, status, at: now, who: who, why: reason, recordedAt: now)
            return try Self.loadAgreement(db, rowid)
        }
    }

    func noticeTermination(_ request: NoticeTerminationRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "give notice of termination")
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        let today = self.today
        let noticed = try Self.day(request.noticedOn, field: "noticed_on", default: today)
        guard noticed <= today else {
            throw RPCError.invalidArgument(field: "noticed_on", "\(noticed) is in the future")
        }
        let effective = noticed.adding(self.rules.terminationNoticeDays)
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let agreement = try Self.agreementFor(db, rowid, allowed: [.active, .suspended], action: "give notice")
            try db.execute(
                sql: """
                    UPDATE agreement SET termination_reason = ?, termination_noticed_on = ?, termination_effective_on = ?
                    WHERE rowid = ?
                    """,
                arguments: [reason, noticed.description, effective.description, rowid]
            )
            if agreement.status == .active {
                try Self.setStatus(db, rowid, .terminationNoticed, at: now, who: who, why: reason, recordedAt: now)
            } else {
                try Self.audit(db, "agreement", rowid, "termination-notice", who: who, why: reason, at: now)
            }
            return try Self.loadAgreement(db, rowid)
        }
    }

    /// Terminates every agreement whose notice period has ended, as of its effective date, and
    /// revokes the authorizations under it. Run by ``AgreementClock``; returns how many it ended.
    public func applyDueTerminations() async throws -> Int {
        let now = self.now()
        let today = self.today.description
        return try await self.store.write { db in
            let due = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, termination_effective_on FROM agreement
                    WHERE status IN (3, 4) AND termination_effective_on IS NOT NULL AND termination_effective_on <= ?
                    """,
                arguments: [today]
            )
            for row in due {
                let rowid: Int64 = row["rowid"]
                let effective = Day(row["termination_effective_on"] as String)?.startMilliseconds ?? now
                let why = "notice period ended"
                try Self.setStatus(db, rowid, .terminated, at: effective, who: "supervision", why: why, recordedAt: now)
                _ = try Self.revokeAll(
                    db,
                    agreement: rowid,
                    at: effective,
                    because: "agreement \(Self.id("mo", rowid)) terminated",
                    who: "supervision"
                )
            }
            return due.count
        }
    }

    // MARK: Renewal, addenda, reviews

    func renewAgreement(_ request: RenewAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "renew agreements")
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let office = try Self.text(request.office, field: "office", optional: true)
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let old = try Self.agreementFor(db, rowid, allowed: [.active, .terminationNoticed], action: "renew")
            if let pending = try Int64.fetchOne(
                db,
                sql: "SELECT rowid FROM agreement WHERE supersedes = ? AND status = 1",
                arguments: [rowid]
            ) {
                throw RPCError(
                    .alreadyExists,
                    "agreement \(old.id!) already has renewal \(Self.id("mo", pending)) offered"
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO agreement (agency_id, agency_name, state, model, partner, office, status, request_id,
                        supersedes, moa_link, created_by, created_at_ms, source, supervisor_rowid)
                    SELECT agency_id, agency_name, state, model, partner, ?, ?, request_id, rowid, NULL, ?, ?, 'api',
                        supervisor_rowid
                    FROM agreement WHERE rowid = ?
                    """,
                arguments: [office ?? old.office, AgreementStatus.offered.rawValue, who, now, rowid]
            )
            let new = db.lastInsertedRowID
            try Self.audit(db, "agreement", new, "renewal-offer", who: who, why: reason ?? old.id, at: now)
            if let supervisor = try Int64.fetchOne(
                db,
                sql: "SELECT supervisor_rowid FROM agreement WHERE rowid = ?",
                arguments: [new]
            ) {
                try Self.recordAssignment(db, agreement: new, supervisor: supervisor, who: who, at: now)
            }
            try Self.setStatus(db, new, .offered, at: now, who: who, why: reason, recordedAt: now)
            return try Self.loadAgreement(db, new)
        }
    }

    func addAddendum(_ request: AddAddendumRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "add addenda")
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        guard let addendum = request.addendum else { throw RPCError.invalidArgument(field: "addendum", "is required") }
        let title = try Self.text(addendum.title, field: "addendum.title")!
        let link = try Self.text(addendum.link, field: "addendum.link", max: 500, optional: true)
        let signedOn = try Self.day(addendum.signedOn, field: "addendum.signed_on")
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            _ = try Self.agreementFor(db, rowid, allowed: Self.openStatuses, action: "add an addendum")
            try db.execute(
                sql: "INSERT INTO addendum (agreement_rowid, title, link, signed_on) VALUES (?, ?, ?, ?)",
                arguments: [rowid, title, link, signedOn.description]
            )
            try Self.audit(db, "addendum", db.lastInsertedRowID, "add", who: who, why: title, at: now)
            return try Self.loadAgreement(db, rowid)
        }
    }

    func recordReview(_ request: RecordReviewRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "record reviews")
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let today = self.today
        let reviewed = try Self.day(request.reviewedOn, field: "reviewed_on", default: today)
        guard reviewed <= today else {
            throw RPCError.invalidArgument(field: "reviewed_on", "\(reviewed) is in the future")
        }
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let who = principal.description
        let now = self.now()
        let years = self.rules.reviewEveryYears
        return try await self.store.write { db in
            _ = try Self.agreementFor(db, rowid, allowed: [.active, .suspended, .terminationNoticed], action: "review")
            try db.execute(
                sql: "UPDATE agreement SET review_due_on = ? WHERE rowid = ?",
                arguments: [reviewed.adding(years: years).description, rowid]
            )
            try Self.audit(db, "agreement", rowid, "review", who: who, why: reason, at: now)
            return try Self.loadAgreement(db, rowid)
        }
    }

    // MARK: Reads

    func getAgreement(_ request: GetAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let agreement = try await self.store.read { db in try Self.loadAgreement(db, rowid) }
        try self.requireSees(principal, agencyID: agreement.agencyId ?? "", what: "agreements")
        return agreement
    }

    func listAgreements(
        _ request: ListAgreementsRequest,
        _ context: ServerContext
    ) async throws -> ListAgreementsResponse {
        let principal = try self.caller(context)
        var agencyID = request.agencyId
        if principal.role == .agency {
            guard agencyID == nil || agencyID == principal.scope else {
                throw RPCError(.permissionDenied, "an agency sees only its own agreements")
            }
            agencyID = principal.scope
        }
        let model = try Self.known(request.model, field: "model", required: false)?.rawValue
        let partner = try Self.known(request.partner, field: "partner", required: false)?.rawValue
        let status = try Self.known(request.status, field: "status", required: false)?.rawValue
        let state = request.state?.uppercased()
        let filters = [
            "agency=\(agencyID ?? "")", "state=\(state ?? "")", "model=\(model.map(String.init) ?? "")",
            "partner=\(partner.map(String.init) ?? "")", "status=\(status.map(String.init) ?? "")",
        ]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let agency = agencyID
        return try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("agency_id", agency)
            filter.equal("state", state)
            filter.equal("model", model)
            filter.equal("partner", partner)
            filter.equal("status", status)
            filter.add("rowid > ?", [start])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM agreement WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                arguments: filter.arguments + [size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: filters)
            return ListAgreementsResponse(
                agreements: try page.map { try Self.loadAgreement(db, $0["rowid"]) },
                page: next
            )
        }
    }

    // MARK: Import from ICE sheets

    func importAgreement(_ request: ImportAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        try self.require(principal, Self.programOffice, "import agreements")
        let agencyID = try Self.text(request.agencyId, field: "agency_id", max: 40)!
        let name = try Self.text(request.agencyName, field: "agency_name")!
        guard let state = request.state?.uppercased(), state.count == 2, state.allSatisfy(\.isLetter) else {
            throw RPCError.invalidArgument(field: "state", "is a two-letter USPS code")
        }
        let model = try Self.known(request.model, field: "model")!
        let signed = try Self.day(request.signedOn, field: "signed_on")
        guard signed <= self.today else {
            throw RPCError.invalidArgument(field: "signed_on", "\(signed) is in the future")
        }
        let link = try Self.text(request.moaLink, field: "moa_link", max: 500, optional: true)
        let sheet = try Self.text(request.sheet, field: "sheet", max: 100, optional: true) ?? "unknown"
        let key = "\(agencyID)|\(model.rawValue)|\(signed)"
        let who = principal.description
        let now = self.now()
        let years = self.rules.reviewEveryYears
        return try await self.store.write { db in
            if let existing = try Int64.fetchOne(
                db,
                sql: "SELECT rowid FROM agreement WHERE import_key = ?",
                arguments: [key]
            ) {
                return try Self.loadAgreement(db, existing)
            }
            try db.execute(
                sql: """
                    INSERT INTO agreement (agency_id, agency_name, state, model, partner, office, status, federal_signed_on,
                        agency_signed_on, effective_on, review_due_on, moa_link, created_by, created_at_ms, source, import_key)
                    VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    agencyID, name, state, model.rawValue, FederalPartner.ice.rawValue, AgreementStatus.active.rawValue,
                    signed.description, signed.description, signed.description,
                    signed.adding(years: years).description, link, who, now, "ice-sheet:\(sheet)", key,
                ]
            )
            let rowid = db.lastInsertedRowID
            try Self.audit(db, "agreement", rowid, "import", who: who, why: "ice-sheet:\(sheet)", at: now)
            try Self.setStatus(
                db,
                rowid,
                .active,
                at: signed.startMilliseconds,
                who: who,
                why: "signed \(signed)",
                recordedAt: now
            )
            return try Self.loadAgreement(db, rowid)
        }
    }
}
