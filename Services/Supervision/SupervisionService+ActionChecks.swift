import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordWire

/// The checks a delegated action meets when it is recorded: the agreement, the officer's
/// authority, the model's delegation and the supervisor, all as they stood when it was performed.
extension SupervisionService {
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

    /// What an action is accepted under.
    struct Accepted: Sendable {
        var authorization: Int64
        var agreement: Int64
        var supervisor: Int64
        var model: Model
    }

    /// Checks an action against the records as they stood when it was performed. Returns the
    /// authorization, agreement and supervisor it is accepted under, or the refusal.
    func check(
        _ tx: any SupervisionRecords,
        _ report: Report,
        authority: AuthorityRecord,
        agreement: Int64,
        status: AgreementStatus?
    ) throws -> Result<Accepted, Refusal> {
        let t = report.performedAt
        let held = authority.authorization
        let model = held.model ?? .unspecified
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
        if let refusal = try self.authorityRefusal(tx, report, authority) { return .failure(refusal) }
        // 3. The model delegates this function at this place.
        if let refusal = self.rules.refusal(
            model: model,
            function: report.function,
            place: report.place,
            category: report.category,
            allowedCategories: held.detainerCategories
        ) {
            return .failure(Refusal(code: .permissionDenied, reason: "FUNCTION_NOT_DELEGATED", message: refusal))
        }
        // 4. A federal supervisor was assigned to the officer or the agreement.
        guard let supervisor = try Self.supervisor(tx, authorization: authority.rowid, agreement: agreement, at: t)
        else {
            return .failure(
                Refusal(
                    code: .failedPrecondition,
                    reason: "NO_SUPERVISOR",
                    message:
                        "no federal supervisor was assigned to officer \(report.officerID) or agreement \(moID) at that time"
                )
            )
        }
        return .success(
            Accepted(authorization: authority.rowid, agreement: agreement, supervisor: supervisor, model: model)
        )
    }

    /// Why the officer's authority was not in force at the moment of the action, if it was not.
    func authorityRefusal(
        _ tx: any SupervisionRecords,
        _ report: Report,
        _ authority: AuthorityRecord
    ) throws
        -> Refusal?
    {
        let t = report.performedAt
        let held = authority.authorization
        let azID = Self.id("az", authority.rowid)
        if (held.authorizedAtMs ?? 0) > t {
            return Refusal(
                code: .permissionDenied,
                reason: "NOT_AUTHORIZED",
                message: "officer \(report.officerID) was not yet authorized at that time (\(azID))"
            )
        }
        if let revokedAt = authority.revokedAtMs, revokedAt <= t {
            return Refusal(
                code: .permissionDenied,
                reason: "AUTHORIZATION_REVOKED",
                message: "authorization \(azID) was revoked: \(held.revokedBecause ?? "")"
            )
        }
        if let expiresAt = held.expiresAtMs, expiresAt <= t {
            return Refusal(
                code: .permissionDenied,
                reason: "AUTHORIZATION_EXPIRED",
                message:
                    "authorization \(azID) (\((held.model ?? .unspecified).shortName)) expired after \(self.rules.tfmAuthorityDays) days"
            )
        }
        if let reason = try tx.suspension(authorization: authority.rowid, at: t) {
            return Refusal(
                code: .failedPrecondition,
                reason: "AUTHORITY_SUSPENDED",
                message: "officer \(report.officerID)'s authority was suspended: \(reason)"
            )
        }
        return nil
    }

    /// The report of an action, checked.
    func validateReport(_ action: DelegatedAction?, now: Int64) throws -> Report {
        guard let action else { throw RPCError.invalidArgument(field: "action", "is required") }
        guard let performedAt = action.performedAtMs, performedAt > 0 else {
            throw RPCError.invalidArgument(field: "action.performed_at_ms", "is required")
        }
        guard performedAt <= now + 60_000 else {
            throw RPCError.invalidArgument(field: "action.performed_at_ms", "is in the future")
        }
        return Report(
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
    }
}
