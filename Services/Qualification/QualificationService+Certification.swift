import AccordMessages
import AccordRPC
import AccordServiceKit

/// Certification: today, or on an earlier date with a reason (a certification made before it
/// was recorded in Accord), judged by the rules in force on that date.
extension QualificationService {
    func certify(_ request: CertifyOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let today = self.today
        let certifiedOn = try request.certifiedOn.map { try self.pastDate($0, field: "certified_on") } ?? today
        let reason = try request.reason.map { try Self.text($0, field: "reason", max: 500) }
        if certifiedOn < today, reason == nil {
            throw RPCError.invalidArgument(field: "reason", "is required for a certification dated before today")
        }
        let (rules, _, _) = try await self.rules(inForceOn: certifiedOn)
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal, why: reason)) { officer in
            try Self.requireNominated(officer)
            try Self.requireCertifiable(officer, rules: rules, on: certifiedOn)
            var change = OfficerChange(action: "certify", logWhy: reason ?? "rules \(rules.version)")
            change.status = .certified
            change.certifiedOn = certifiedOn
            change.rulesVersion = rules.version
            return change
        }
    }

    /// Every requirement held on `date`, and nothing it rests on happened after it.
    static func requireCertifiable(_ officer: Officer, rules: RuleSet, on date: String) throws {
        var missing = OfficerRules.missing(for: officer, rules: rules, today: date)
        let later =
            [
                ("the background investigation", officer.backgroundOn),
                ("the course", officer.courseCompletedOn),
            ] + officer.attempts.map { ("exam \($0.exam ?? "?")", $0.takenOn) }
        for case let (what, on?) in later where on > date {
            missing.append("\(what) came later (\(on)) than \(date)")
        }
        guard missing.isEmpty else {
            throw RPCError(
                .failedPrecondition,
                "officer \(officer.id!) cannot be certified on \(date): missing \(missing.joined(separator: "; "))",
                details: ErrorDetails(
                    reason: "CERTIFICATION_REQUIREMENTS",
                    metadata: missing.map { KeyValue(key: "missing", value: $0) }
                )
            )
        }
    }
}
