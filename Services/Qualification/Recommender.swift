public import AccordMessages

/// Ranks the three models for a jurisdiction from its facts (EO 13768 section 8(c): the most
/// effective model for that jurisdiction), with the reasons, and notes a requested model that
/// is not the best fit. State law and missing prerequisites close a model (score 0).
public enum Recommender {
    public static func rank(agency: Agency, needs: NeedsAssessment?, rules: RuleSet, on date: String) -> [ModelFit] {
        let facts = Facts(
            hasJail: agency.hasJail == true,
            capacity: needs?.detentionCapacity ?? agency.jailCapacity ?? 0,
            encounters: needs?.expectedAnnualEncounters ?? 0,
            officers: needs?.officersProposed ?? 0
        )
        let fits = [Model.jem, .wso, .tfm].map { model in
            var (score, reasons) = Self.openness(model, agency, facts, rules: rules, on: date)
            if score > 0 {
                let fit = Self.fit(model, facts)
                score += fit.score
                reasons += fit.reasons
            }
            return ModelFit(model: model, score: UInt32(max(score, 0)), reasons: reasons)
        }
        return fits.sorted { ($0.score ?? 0, -($0.model?.rawValue ?? 0)) > ($1.score ?? 0, -($1.model?.rawValue ?? 0)) }
    }

    /// What the ranking weighs of a jurisdiction.
    struct Facts {
        var hasJail: Bool
        var capacity: UInt32
        var encounters: UInt32
        var officers: UInt32
    }

    /// A model's starting score (50) after its prerequisites and the State's law: 0 when closed.
    static func openness(
        _ model: Model,
        _ agency: Agency,
        _ facts: Facts,
        rules: RuleSet,
        on date: String
    ) -> (score: Int, reasons: [String]) {
        var score = 50
        var reasons: [String] = []
        if rules.modelRules[model]?.needsJail == true && !facts.hasJail {
            score = 0
            reasons.append("needs a jail or correctional facility, and the agency has none on record")
        }
        for rule in rules.stateRules[agency.state ?? "", default: []] where rule.applies(to: model, on: date) {
            let cited = rule.citation ?? "State-law table"
            switch rule.stance {
            case .prohibited:
                score = 0
                reasons.append("\(agency.state!) law prohibits it (\(cited))")
            case .restricted:
                score = min(score, 10)
                reasons.append("\(agency.state!) law restricts it (\(cited))")
            case .required:
                if score > 0 {
                    score += 20
                    reasons.append("\(agency.state!) law requires an agreement (\(cited))")
                }
            case .permitted:
                break
            }
        }
        return (score, reasons)
    }

    /// How well an open model fits the jurisdiction's facts: points to add, and why.
    static func fit(_ model: Model, _ facts: Facts) -> (score: Int, reasons: [String]) {
        var score = 0
        var reasons: [String] = []
        switch model {
        case .jem:
            if facts.capacity >= 100 {
                score += 30
                reasons.append("a detention capacity of \(facts.capacity) makes screening in jail effective")
            } else if facts.capacity > 0 {
                score += 10
                reasons.append("a small jail (\(facts.capacity) beds)")
            }
            if facts.encounters >= 500 {
                score += 20
                reasons.append("\(facts.encounters) expected encounters a year reach the jail")
            }
        case .wso:
            score += 15
            reasons.append("warrants are served in the agency's own jail, with the least training (8 hours)")
            if facts.encounters < 500 {
                score += 10
                reasons.append("few expected encounters (\(facts.encounters)) suit warrant service")
            }
        case .tfm:
            if facts.officers >= 4 {
                score += 20
                reasons.append("\(facts.officers) officers can staff field operations")
            } else {
                reasons.append("only \(facts.officers) officers for field operations")
            }
            if !facts.hasJail {
                score += 15
                reasons.append("without a jail, field work is the model open to the agency")
            }
        default:
            break
        }
        return (score, reasons)
    }
}
