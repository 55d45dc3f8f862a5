import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// Certified officers: checked with qualification when authorized, and notified by it.
extension SupervisionService {
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
            rulesVersion: officer.rulesVersion,
            certifiedOn: officer.certifiedOn
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
        var noticed = Certified(
            officerID: try Self.text(request.officerId, field: "officer_id", max: 40)!,
            agencyID: try Self.text(request.agencyId, field: "agency_id", max: 40)!,
            model: try Self.known(request.model, field: "model")!,
            name: try Self.text(request.name, field: "name")!,
            rulesVersion: try Self.text(request.rulesVersion, field: "rules_version", max: 60, optional: true)
        )
        let certifiedOn = try Self.day(request.certifiedOn, field: "certified_on")
        noticed.certifiedOn = certifiedOn.description
        let certified = noticed
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
            try tx.audit("certification", recorded, "notice", change.happened(at: certifiedOn.startMilliseconds))
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
}
