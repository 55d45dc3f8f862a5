import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// An agreement's life after signing: suspension, reinstatement, termination with notice,
/// renewal that supersedes, addenda, reviews.
extension SupervisionService {
    // MARK: Suspension, reinstatement, termination

    func suspendAgreement(_ request: SuspendAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        guard let days = request.days, days > 0, days <= 3650 else {
            throw RPCError.invalidArgument(field: "days", "is required: 1 to 3650")
        }
        let response = try Self.text(request.response, field: "response", max: 1000)!
        let change = self.stamp(principal, why: reason)
        let (agreement, revoked) = try await self.store.write { tx in
            _ = try tx.agreement(rowid, allowed: [.active, .terminationNoticed], action: "suspend")
            try tx.updateAgreement(rowid, AgreementUpdate(suspension: (reason, days, response)))
            try tx.setAgreementStatus(rowid, .suspended, at: change.at, change)
            let revoked = try Self.revokeAll(
                tx,
                agreement: rowid,
                at: change.at,
                because: "agreement \(Self.id("mo", rowid)) suspended: \(reason)",
                change
            )
            return (try tx.requireAgreement(rowid), revoked)
        }
        context.logger.notice(
            "Agreement suspended",
            metadata: ["agreement": "\(agreement.id!)", "authorizations_revoked": "\(revoked)"]
        )
        return agreement
    }

    func reinstateAgreement(_ request: ReinstateAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let agreement = try tx.agreement(rowid, allowed: [.suspended], action: "reinstate")
            let status: AgreementStatus = agreement.terminationNoticedOn != nil ? .terminationNoticed : .active
            try tx.setAgreementStatus(rowid, status, at: change.at, change)
            return try tx.requireAgreement(rowid)
        }
    }

    func noticeTermination(_ request: NoticeTerminationRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let reason = try Self.text(request.reason, field: "reason", max: 1000)!
        let today = self.today
        let noticed = try Self.day(request.noticedOn, field: "noticed_on", default: today)
        guard noticed <= today else {
            throw RPCError.invalidArgument(field: "noticed_on", "\(noticed) is in the future")
        }
        let effective = noticed.adding(self.rules.terminationNoticeDays)
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let agreement = try tx.agreement(rowid, allowed: [.active, .suspended], action: "give notice")
            try tx.updateAgreement(
                rowid,
                AgreementUpdate(termination: (reason, noticed.description, effective.description))
            )
            if agreement.status == .active {
                try tx.setAgreementStatus(rowid, .terminationNoticed, at: change.at, change)
            } else {
                try tx.audit("agreement", rowid, "termination-notice", change)
            }
            return try tx.requireAgreement(rowid)
        }
    }

    /// Terminates every agreement whose notice period has ended, as of its effective date, and
    /// revokes the authorizations under it. Run by ``AgreementClock``; returns how many it ended.
    public func applyDueTerminations() async throws -> Int {
        let change = ChangeStamp(who: "supervision", at: self.clock.now(), why: "notice period ended")
        let today = self.today.description
        return try await self.store.write { tx in
            let due = try tx.dueTerminations(onOrBefore: today)
            for (rowid, effectiveOn) in due {
                let effective = Day(effectiveOn)?.startMilliseconds ?? change.at
                try tx.setAgreementStatus(rowid, .terminated, at: effective, change)
                _ = try Self.revokeAll(
                    tx,
                    agreement: rowid,
                    at: effective,
                    because: "agreement \(Self.id("mo", rowid)) terminated",
                    change
                )
            }
            return due.count
        }
    }

    // MARK: Renewal, addenda, reviews

    func renewAgreement(_ request: RenewAgreementRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let office = try Self.text(request.office, field: "office", optional: true)
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let old = try tx.agreement(rowid, allowed: [.active, .terminationNoticed], action: "renew")
            if let pending = try tx.pendingRenewal(of: rowid) {
                throw RPCError(
                    .alreadyExists,
                    "agreement \(old.id!) already has renewal \(Self.id("mo", pending)) offered"
                )
            }
            let new = try tx.insertRenewal(of: rowid, office: office, change)
            try tx.audit("agreement", new, "renewal-offer", change.because(reason ?? old.id))
            if let supervisor = old.supervisorId {
                try tx.recordAssignment(
                    agreement: new,
                    authorization: nil,
                    supervisor: RecordID.rowid(of: supervisor),
                    from: nil,
                    change
                )
            }
            try tx.setAgreementStatus(new, .offered, at: change.at, change)
            return try tx.requireAgreement(new)
        }
    }

    func addAddendum(_ request: AddAddendumRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        guard let addendum = request.addendum else { throw RPCError.invalidArgument(field: "addendum", "is required") }
        let title = try Self.text(addendum.title, field: "addendum.title")!
        let link = try Self.text(addendum.link, field: "addendum.link", max: 500, optional: true)
        let signedOn = try Self.day(addendum.signedOn, field: "addendum.signed_on")
        let change = self.stamp(principal, why: title)
        return try await self.store.write { tx in
            _ = try tx.agreement(rowid, allowed: Self.openStatuses, action: "add an addendum")
            try tx.insertAddendum(agreement: rowid, title: title, link: link, signedOn: signedOn.description, change)
            return try tx.requireAgreement(rowid)
        }
    }

    func recordReview(_ request: RecordReviewRequest, _ context: ServerContext) async throws -> Agreement {
        let principal = try self.caller(context)
        let rowid = try Self.rowid(request.agreementId, prefix: "mo", field: "agreement_id", what: "an agreement")
        let today = self.today
        let reviewed = try Self.day(request.reviewedOn, field: "reviewed_on", default: today)
        guard reviewed <= today else {
            throw RPCError.invalidArgument(field: "reviewed_on", "\(reviewed) is in the future")
        }
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let change = self.stamp(principal, why: reason)
        let due = reviewed.adding(years: self.rules.reviewEveryYears).description
        return try await self.store.write { tx in
            _ = try tx.agreement(rowid, allowed: [.active, .suspended, .terminationNoticed], action: "review")
            try tx.updateAgreement(rowid, AgreementUpdate(reviewDueOn: due))
            try tx.audit("agreement", rowid, "review", change)
            return try tx.requireAgreement(rowid)
        }
    }
}
