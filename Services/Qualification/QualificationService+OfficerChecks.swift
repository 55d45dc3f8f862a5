import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// The checks a step on an officer makes before it is taken: the agency (with intake), the
/// officer's status.
extension QualificationService {
    /// The nominee's agency exists in intake and can hold the model (a jail model needs a jail on
    /// record). Unchecked when this service runs without intake.
    func requireAgencyHolds(_ nominee: NewOfficer) async throws {
        guard let agencyOf = self.agencyOf else { return }
        let agency: Agency?
        do {
            agency = try await agencyOf(nominee.agencyID)
        } catch {
            throw RPCError(.unavailable, "intake cannot be asked for agency \(nominee.agencyID) now: \(error)")
        }
        guard let agency else {
            throw RPCError(
                .notFound,
                "intake has no agency \(nominee.agencyID)",
                details: ErrorDetails(reason: "AGENCY_NOT_FOUND")
            )
        }
        if self.currentRules.modelRules[nominee.model]?.needsJail == true, agency.hasJail != true {
            throw RPCError(
                .failedPrecondition,
                "\(nominee.model.shortName) officers serve in a jail or correctional facility, and agency \(nominee.agencyID) has none on record (intake records it: UpdateAgency has_jail)",
                details: ErrorDetails(reason: "JAIL_REQUIRED")
            )
        }
    }

    /// Only a nominee is vetted, trained or certified; anyone else is refused with the cause.
    static func requireNominated(_ officer: Officer) throws {
        guard officer.status == .nominated else {
            let (cause, reason) = Self.notNominated(officer)
            var metadata = [KeyValue(key: "status", value: officer.status?.protoName ?? "")]
            metadata += officer.disqualifyingFindings.map { KeyValue(key: "finding", value: $0) }
            throw RPCError(
                .failedPrecondition,
                "officer \(officer.id ?? "?") \(cause)",
                details: ErrorDetails(reason: reason, metadata: metadata)
            )
        }
    }

    /// Why an officer is no longer a nominee, in words, and the reason code.
    static func notNominated(_ officer: Officer) -> (String, String) {
        switch officer.status {
        case .disqualified?:
            let because = officer.disqualifiedBecause ?? "for a reason not recorded"
            let findings =
                officer.disqualifyingFindings.isEmpty
                ? "" : " (\(officer.disqualifyingFindings.joined(separator: "; ")))"
            return ("is disqualified: \(because)\(findings)", "OFFICER_DISQUALIFIED")
        case .certified?:
            return ("is already certified (on \(officer.certifiedOn ?? "?"))", "OFFICER_CERTIFIED")
        case .substituted?:
            return ("was replaced by another nominee", "OFFICER_SUBSTITUTED")
        default:
            return ("is \(officer.status?.protoName ?? "in no status")", "OFFICER_NOT_NOMINATED")
        }
    }
}
