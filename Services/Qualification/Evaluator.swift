public import AccordMessages
import Foundation

/// Checks one revision of a participation request against a rule set, as of a date. Every
/// failed requirement is reported (not only the first), each with a code, a sentence and its
/// source.
public enum Evaluator {
    public static func evaluate(
        request: ParticipationRequest,
        agency: Agency,
        rules: RuleSet,
        on date: String
    ) -> [Requirement] {
        let model = request.model ?? .unspecified
        return Self.consent(request, rules: rules, on: date)
            + Self.stateLaw(agency, model: model, rules: rules, on: date)
            + Self.prerequisites(request, agency, model: model, rules: rules)
            + Self.officers(request, rules: rules)
    }

    /// The consent of a State or local official (EO 13768 section 8(b)): there, not dated ahead, not stale.
    static func consent(_ request: ParticipationRequest, rules: RuleSet, on date: String) -> [Requirement] {
        var failed: [Requirement] = []
        if let consent = request.consent, let name = consent.officialName, !name.isEmpty,
            let office = consent.office, !office.isEmpty, let signed = consent.signedOn
        {
            if signed > date {
                failed.append(
                    .init(
                        code: "CONSENT_IN_FUTURE",
                        message: "the consent is dated \(signed), after \(date)",
                        source: "program"
                    )
                )
            } else if let oldest = Self.day(date, minus: rules.consentMaxAgeDays), signed < oldest {
                failed.append(
                    .init(
                        code: "CONSENT_STALE",
                        message: "the consent of \(signed) is older than \(rules.consentMaxAgeDays) days",
                        source: "program.json consent_max_age_days"
                    )
                )
            }
        } else {
            failed.append(
                .init(
                    code: "CONSENT_MISSING",
                    message: "no State or local official's consent (name, office and date) is on the request",
                    source: "EO 13768 section 8(b)"
                )
            )
        }

        return failed
    }

    /// The State's law in force on the date, for the model.
    static func stateLaw(_ agency: Agency, model: Model, rules: RuleSet, on date: String) -> [Requirement] {
        var failed: [Requirement] = []
        for rule in rules.stateRules[agency.state ?? "", default: []] where rule.applies(to: model, on: date) {
            let cited = rule.citation ?? "the State-law table"
            switch rule.stance {
            case .prohibited:
                failed.append(
                    .init(
                        code: "STATE_LAW_PROHIBITS",
                        message: "\(agency.state!) law prohibits \(model.shortName) agreements",
                        source: cited
                    )
                )
            case .restricted:
                failed.append(
                    .init(
                        code: "STATE_LAW_RESTRICTS",
                        message:
                            "\(agency.state!) law restricts \(model.shortName) agreements: \(rule.note ?? "see the citation")",
                        source: cited
                    )
                )
            case .required, .permitted:
                break
            }
        }

        return failed
    }

    /// The model's prerequisites against the agency's facts (a jail, detention capacity).
    static func prerequisites(
        _ request: ParticipationRequest,
        _ agency: Agency,
        model: Model,
        rules: RuleSet
    ) -> [Requirement] {
        var failed: [Requirement] = []
        if let prerequisite = rules.modelRules[model] {
            if prerequisite.needsJail && agency.hasJail != true {
                failed.append(
                    .init(
                        code: "JAIL_REQUIRED",
                        message:
                            "\(model.shortName) needs a jail or correctional facility, and the agency has none on record",
                        source: "program.json models.\(model.shortName).needs_jail"
                    )
                )
            }
            let capacity = request.needs?.detentionCapacity ?? 0
            if capacity < prerequisite.minDetentionCapacity {
                failed.append(
                    .init(
                        code: "DETENTION_CAPACITY",
                        message:
                            "\(model.shortName) needs a detention capacity of at least \(prerequisite.minDetentionCapacity); the request gives \(capacity)",
                        source: "program.json models.\(model.shortName).min_detention_capacity"
                    )
                )
            }
        } else {
            failed.append(.init(code: "MODEL_UNKNOWN", message: "the request names no known model", source: "program"))
        }
        return failed
    }

    /// Enough officers proposed.
    static func officers(_ request: ParticipationRequest, rules: RuleSet) -> [Requirement] {
        var failed: [Requirement] = []
        let officers = request.needs?.officersProposed ?? 0
        if officers < rules.minOfficersProposed {
            failed.append(
                .init(
                    code: "OFFICERS_PROPOSED",
                    message:
                        "at least \(rules.minOfficersProposed) officer must be proposed; the request gives \(officers)",
                    source: "program.json min_officers_proposed"
                )
            )
        }
        return failed
    }

    /// The agency's standing for the requested model, from its agreements with supervision: an
    /// agreement of that model suspended or under termination notice bars a new one, and one
    /// offered or in force makes the request a duplicate (renewal is the way to extend it).
    public static func standing(request: ParticipationRequest, agreements: [Agreement]) -> [Requirement] {
        guard let model = request.model, model.isKnownAndSpecified else { return [] }
        var failed: [Requirement] = []
        for agreement in agreements where agreement.model == model {
            let id = agreement.id ?? "?"
            let partner = agreement.partner?.shortName ?? "?"
            switch agreement.status {
            case .suspended?:
                failed.append(
                    .init(
                        code: "AGREEMENT_SUSPENDED",
                        message: "the agency's \(model.shortName) agreement \(id) with \(partner) is suspended",
                        source: "supervision"
                    )
                )
            case .terminationNoticed?:
                failed.append(
                    .init(
                        code: "AGREEMENT_TERMINATING",
                        message:
                            "the agency's \(model.shortName) agreement \(id) with \(partner) is under notice of termination",
                        source: "supervision"
                    )
                )
            case .offered?, .active?:
                failed.append(
                    .init(
                        code: "AGREEMENT_EXISTS",
                        message:
                            "the agency already holds \(model.shortName) agreement \(id) with \(partner) (\(agreement.status == .offered ? "offered" : "in force")); a renewal extends it",
                        source: "supervision"
                    )
                )
            default:
                continue
            }
        }
        return failed
    }

    /// "YYYY-MM-DD" minus `days`, or nil when `date` is not such a date.
    static func day(_ date: String, minus days: Int) -> String? {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var (year, month, day) = (parts[0], parts[1], parts[2] - days)
        while day < 1 {
            month -= 1
            if month < 1 {
                month = 12
                year -= 1
            }
            day +=
                [
                    31, (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31,
                    30, 31,
                ][month - 1]
        }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }
}
