public import AccordMessages

/// Ranks the three models for a jurisdiction from its facts (EO 13768 section 8(c): the most
/// effective model for that jurisdiction), with the reasons, and notes a requested model that
/// is not the best fit. State law and missing prerequisites close a model (score 0).
public enum Recommender {
    public static func rank(agency: Agency, needs: NeedsAssessment?, rules: RuleSet, on date: String) -> [ModelFit] {
        let hasJail = agency.hasJail == true
        let capacity = needs?.detentionCapacity ?? agency.jailCapacity ?? 0
        let encounters = needs?.expectedAnnualEncounters ?? 0
        let officers = needs?.officersProposed ?? 0
        var fits: [ModelFit] = []
        for model in [Model.jem, .wso, .tfm] {
            var score: Int = 50
            var reasons: [String] = []
            let prerequisite = rules.modelRules[model]
            if prerequisite?.needsJail == true && !hasJail {
                score = 0
                reasons.append("needs a jail or correctional facility, and the agency has none on record")
            }
            for rule in rules.stateRules[agency.state ?? "", default: []] where rule.applies(to: model, on: date) {
                switch rule.stance {
                case .prohibited:
                    score = 0
                    reasons.append("\(agency.state!) law prohibits it (\(rule.citation ?? "State-law table"))")
                case .restricted:
                    score = min(score, 10)
                    reasons.append("\(agency.state!) law restricts it (\(rule.citation ?? "State-law table"))")
                case .required:
                    if score > 0 {
                        score += 20
                        reasons.append(
                            "\(agency.state!) law requires an agreement (\(rule.citation ?? "State-law table"))"
                        )
                    }
                case .permitted:
                    break
                }
            }
            if score > 0 {
                switch model {
                case .jem:
                    if capacity >= 100 {
                        score += 30
                        reasons.append("a detention capacity of \(capacity) makes screening in jail effective")
                    } else if capacity > 0 {
                        score += 10
                        reasons.append("a small jail (\(capacity) beds)")
                    }
                    if encounters >= 500 {
                        score += 20
                        reasons.append("\(encounters) expected encounters a year reach the jail")
                    }
                case .wso:
                    score += 15
                    reasons.append("warrants are served in the agency's own jail, with the least training (8 hours)")
                    if encounters < 500 {
                        score += 10
                        reasons.append("few expected encounters (\(encounters)) suit warrant service")
                    }
                case .tfm:
                    if officers >= 4 {
                        score += 20
                        reasons.append("\(officers) officers can staff field operations")
                    } else {
                        reasons.append("only \(officers) officers for field operations")
                    }
                    if !hasJail {
                        score += 15
                        reasons.append("without a jail, field work is the model open to the agency")
                    }
                default:
                    break
                }
            }
            fits.append(ModelFit(model: model, score: UInt32(max(score, 0)), reasons: reasons))
        }
        return fits.sorted { ($0.score ?? 0, -($0.model?.rawValue ?? 0)) > ($1.score ?? 0, -($1.model?.rawValue ?? 0)) }
    }
}
