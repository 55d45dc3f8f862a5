import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

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

    /// Revokes every authorization in force under an agreement.
    static func revokeAll(
        _ tx: any SupervisionRecords,
        agreement: Int64,
        at moment: Int64,
        because: String,
        _ change: Change
    ) throws -> Int {
        let live = try tx.liveAuthorizations(agreement: agreement)
        for rowid in live {
            try tx.updateAuthorization(
                rowid,
                AuthorizationUpdate(status: .revoked, revoked: (moment, because))
            )
            try tx.audit("authorization", rowid, "revoke", ChangeStamp(who: change.who, at: moment, why: because))
        }
        return live.count
    }

    // MARK: Offer and signatures

    func offerAgreement(_ request: OfferAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let requestID = try Self.text(request.requestId, field: "request_id", max: 40)!
        let office = try Self.text(request.office, field: "office")!
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        var qualified = try await self.qualifiedRequest(requestID)
        qualified.office = office
        let offer = qualified
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            if let existing = try tx.openAgreement(agencyID: offer.agencyID, model: offer.model) {
                throw RPCError(
                    .alreadyExists,
                    "agency \(offer.agencyID) already has \(offer.model.shortName) agreement \(Self.id("mo", existing))",
                    details: ErrorDetails(
                        reason: "OPEN_AGREEMENT",
                        metadata: [KeyValue(key: "agreement_id", value: Self.id("mo", existing))]
                    )
                )
            }
            let rowid = try tx.insertAgreement(offer, change)
            try tx.audit("agreement", rowid, "offer", change)
            try tx.setAgreementStatus(rowid, .offered, at: change.at, change)
            try tx.queueProgress(requestID: requestID, .agreementOffered, agreement: rowid, at: change.at)
            return try tx.requireAgreement(rowid)
        }
    }

    /// The agreement to offer for a request, once intake says, now, that the request is qualified.
    func qualifiedRequest(_ requestID: String) async throws -> NewAgreement {
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
        return NewAgreement(
            agencyID: agencyID,
            agencyName: agency.name ?? "",
            state: agency.state ?? "",
            model: model,
            partner: partner,
            status: .offered,
            requestID: requestID,
            source: "api"
        )
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
        let change = self.stamp(principal)
        let reviewYears = self.rules.reviewEveryYears
        return try await self.store.write { tx in
            let agreement = try tx.agreement(rowid, allowed: [.offered], action: "sign")
            try Self.requireSigner(principal, party, agreement)
            if let offered = agreement.created?.atMs.map(Day.init(unixMilliseconds:)), signedOn < offered {
                throw RPCError.invalidArgument(
                    field: "signed_on",
                    "\(signedOn) is before agreement \(agreement.id!) was offered, on \(offered)"
                )
            }
            let column = party == .agency ? "agency" : "federal"
            if (party == .agency ? agreement.agencySignedOn : agreement.federalSignedOn) != nil {
                throw RPCError(
                    .failedPrecondition,
                    "agreement \(agreement.id!) is already signed by \(party.protoName)"
                )
            }
            try tx.updateAgreement(rowid, AgreementUpdate(signature: (column, signer, signedOn.description)))
            try tx.audit("agreement", rowid, "sign:\(column)", change.because(signer))
            let other = party == .agency ? agreement.federalSignedOn : agreement.agencySignedOn
            if let other, let otherDay = Day(other) {
                let effective = max(otherDay, signedOn)
                try tx.updateAgreement(
                    rowid,
                    AgreementUpdate(
                        effectiveOn: effective.description,
                        reviewDueOn: effective.adding(years: reviewYears).description
                    )
                )
                try Self.bringIntoForce(tx, agreement, change)
            }
            return try tx.requireAgreement(rowid)
        }
    }

    /// Who may sign for a party: the agency for itself; the program office for either (it records
    /// a signature made on paper).
    static func requireSigner(_ principal: Principal, _ party: Signatory, _ agreement: Agreement) throws {
        switch (party, principal.role) {
        case (.agency, .agency) where principal.scope == agreement.agencyId, (_, .programOffice):
            return
        default:
            throw RPCError(.permissionDenied, "\(principal.header) may not sign for \(party.protoName)")
        }
    }

    /// Signed by both parties: the agreement is in force; the request is told; a renewal
    /// supersedes what it renews.
    static func bringIntoForce(_ tx: any SupervisionRecords, _ agreement: Agreement, _ change: Change) throws {
        let rowid = RecordID.rowid(of: agreement.id)
        try tx.setAgreementStatus(rowid, .active, at: change.at, change.because("signed by both parties"))
        if let requestID = agreement.requestId, agreement.supersedes == nil {
            try tx.queueProgress(requestID: requestID, .signed, agreement: rowid, at: change.at)
        }
        if let old = agreement.supersedes {
            try Self.supersede(tx, old: RecordID.rowid(of: old), new: rowid, change)
        }
    }

    /// A signed renewal replaces the agreement it renews; the officers authorized under the old
    /// one keep their authority under the new one.
    static func supersede(_ tx: any SupervisionRecords, old: Int64, new: Int64, _ change: Change) throws {
        try tx.updateAgreement(old, AgreementUpdate(supersededBy: new))
        try tx.setAgreementStatus(old, .superseded, at: change.at, change.because("renewed by \(Self.id("mo", new))"))
        for authorization in try tx.liveAuthorizations(agreement: old) {
            try tx.updateAuthorization(authorization, AuthorizationUpdate(agreement: new))
            try tx.audit("authorization", authorization, "renewal", change.because(Self.id("mo", new)))
        }
        // The renewal is no longer a pending one (it is in force): it is now the agreement of its
        // agency and model, and keeps naming the one it replaced.
        try tx.updateAgreement(new, AgreementUpdate(sourceSuffix: " renewal of \(Self.id("mo", old))"))
        try tx.audit("agreement", new, "supersede", change.because(Self.id("mo", old)))
    }

    // MARK: Reads

    func getAgreement(_ request: GetAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let agreement = try await self.store.read { tx in try tx.requireAgreement(rowid) }
        try self.requireSees(principal, agencyID: agreement.agencyId ?? "", what: "agreements")
        return agreement
    }

    /// The agency a list is for: the caller's own for an agency, else the one asked for (if any).
    func listedAgency(_ asked: String?, _ principal: Principal, _ what: String) throws -> String? {
        guard principal.role == .agency else { return asked }
        guard asked == nil || asked == principal.scope else {
            throw RPCError(.permissionDenied, "an agency sees only its own \(what)")
        }
        return principal.scope
    }

    func listAgreements(
        _ request: ListAgreementsRequest,
        _ context: ServerContext
    ) async throws -> ListAgreementsResponse {
        let filter = AgreementFilter(
            agencyID: try self.listedAgency(request.agencyId, try self.caller(context), "agreements"),
            state: request.state?.uppercased(),
            model: try Self.known(request.model, field: "model", required: false),
            partner: try Self.known(request.partner, field: "partner", required: false),
            status: try Self.known(request.status, field: "status", required: false),
            asOf: try Self.pastMoment(request.asOfMs, now: self.clock.now())
        )
        let filters = [
            "as_of=\(filter.asOf.map(String.init) ?? "")",
            "agency=\(filter.agencyID ?? "")", "state=\(filter.state ?? "")",
            "model=\(filter.model.map { String($0.rawValue) } ?? "")",
            "partner=\(filter.partner.map { String($0.rawValue) } ?? "")",
            "status=\(filter.status.map { String($0.rawValue) } ?? "")",
        ]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let agreements = try await self.store.read { tx in try tx.agreements(filter, after: start, limit: size + 1) }
        let (page, next) = PageToken.split(agreements, size: size, filters: filters) { RecordID.rowid(of: $0.id) }
        return ListAgreementsResponse(agreements: Array(page), page: next)
    }

    // MARK: Import from ICE sheets

    func importAgreement(_ request: ImportAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let agreement = try self.importedAgreement(request)
        let signed = Day(agreement.signedOn!)!
        let change = self.stamp(principal, why: agreement.source)
        return try await self.store.write { tx in
            if let existing = try tx.importedAgreement(key: agreement.importKey!) {
                return try tx.requireAgreement(existing)
            }
            let rowid = try tx.insertAgreement(agreement, change)
            try tx.audit("agreement", rowid, "import", change)
            try tx.setAgreementStatus(rowid, .active, at: signed.startMilliseconds, change.because("signed \(signed)"))
            return try tx.requireAgreement(rowid)
        }
    }

    /// An agreement of a participating ICE sheet, checked: in force since its signing date.
    func importedAgreement(_ request: ImportAgreementRequest) throws -> NewAgreement {
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
        let sheet = try Self.text(request.sheet, field: "sheet", max: 100, optional: true) ?? "unknown"
        return NewAgreement(
            agencyID: agencyID,
            agencyName: name,
            state: state,
            model: model,
            partner: .ice,
            status: .active,
            source: "ice-sheet:\(sheet)",
            signedOn: signed.description,
            reviewDueOn: signed.adding(years: self.rules.reviewEveryYears).description,
            moaLink: try Self.text(request.moaLink, field: "moa_link", max: 500, optional: true),
            importKey: "\(agencyID)|\(model.rawValue)|\(signed)"
        )
    }
}
