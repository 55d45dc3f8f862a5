import AccordMessages
import Foundation
import Testing

@testable import Qualification

@Suite("Rules as data and request evaluation")
struct EvaluatorTests {
    static let rules: RuleSet = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../seeds/rules").standardized.path
        return try! RuleSet.load(directory: directory)
    }()

    static func request(
        _ model: Model,
        signedOn: String? = "2026-05-01",
        capacity: UInt32 = 100,
        officers: UInt32 = 4
    ) -> ParticipationRequest {
        ParticipationRequest(
            id: "rq_1",
            model: model,
            partner: .ice,
            consent: signedOn.map { Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: $0) },
            needs: NeedsAssessment(
                expectedAnnualEncounters: 800,
                detentionCapacity: capacity,
                officersProposed: officers
            ),
            revision: 1
        )
    }

    static func agency(_ state: String, jail: Bool = true) -> Agency {
        Agency(
            id: "ag_1",
            state: state,
            name: "X Sheriff's Office",
            type: .county,
            hasJail: jail,
            jailCapacity: jail ? 300 : nil
        )
    }

    static func codes(_ request: ParticipationRequest, _ agency: Agency, on date: String = "2026-06-01") -> [String] {
        Evaluator.evaluate(request: request, agency: agency, rules: Self.rules, on: date).compactMap(\.code)
    }

    @Test("the seeded rule set loads: 51 State rows, three models, a version")
    func loads() {
        #expect(Self.rules.stateRules.values.reduce(0) { $0 + $1.count } == 51)
        #expect(Self.rules.modelRules.count == 3)
        #expect(Self.rules.version == "2026-11-30.1")
    }

    @Test("a Texas sheriff with a jail asking for JEM meets every requirement")
    func qualified() {
        #expect(Self.codes(Self.request(.jem), Self.agency("TX")).isEmpty)
    }

    @Test(
        "standing: a suspended or terminating agreement of the model bars a request; one in force makes it a duplicate",
        arguments: [
            ([], [String]()),
            ([(Model.jem, AgreementStatus.suspended)], ["AGREEMENT_SUSPENDED"]),
            ([(.jem, .terminationNoticed)], ["AGREEMENT_TERMINATING"]),
            ([(.jem, .active)], ["AGREEMENT_EXISTS"]),
            ([(.jem, .offered)], ["AGREEMENT_EXISTS"]),
            // Ended agreements, and other models' agreements, do not count.
            ([(.jem, .terminated), (.jem, .superseded), (.tfm, .suspended), (.wso, .active)], []),
        ] as [([(Model, AgreementStatus)], [String])]
    )
    func standing(agreements: [(Model, AgreementStatus)], expected: [String]) {
        let held = agreements.enumerated().map { index, agreement in
            Agreement(id: "mo_\(index + 1)", agencyId: "ag_1", model: agreement.0, partner: .cbp, status: agreement.1)
        }
        let failed = Evaluator.standing(request: Self.request(.jem), agreements: held)
        #expect(failed.compactMap(\.code) == expected)
        #expect(failed.allSatisfy { $0.source == "supervision" && $0.message?.contains("mo_") == true })
    }

    @Test("State law: prohibitions by State and model, judged by the date in force")
    func stateLaw() {
        #expect(Self.codes(Self.request(.tfm), Self.agency("CA")) == ["STATE_LAW_PROHIBITS"])
        // Delaware's ban took effect on 2025-07-14.
        #expect(Self.codes(Self.request(.wso, signedOn: "2025-07-01"), Self.agency("DE"), on: "2025-07-13").isEmpty)
        #expect(
            Self.codes(Self.request(.wso, signedOn: "2025-07-01"), Self.agency("DE"), on: "2025-07-14") == [
                "STATE_LAW_PROHIBITS"
            ]
        )
        // Colorado restricts JEM only.
        #expect(Self.codes(Self.request(.jem), Self.agency("CO")) == ["STATE_LAW_RESTRICTS"])
        #expect(Self.codes(Self.request(.wso), Self.agency("CO")).isEmpty)
    }

    @Test("model prerequisites and consent: every failed requirement is listed")
    func prerequisites() {
        #expect(Self.codes(Self.request(.wso), Self.agency("FL", jail: false)) == ["JAIL_REQUIRED"])
        #expect(Self.codes(Self.request(.tfm), Self.agency("FL", jail: false)).isEmpty)
        #expect(
            Self.codes(Self.request(.jem, signedOn: nil, capacity: 0, officers: 0), Self.agency("FL", jail: false))
                == ["CONSENT_MISSING", "JAIL_REQUIRED", "DETENTION_CAPACITY", "OFFICERS_PROPOSED"]
        )
        #expect(Self.codes(Self.request(.tfm, signedOn: "2025-01-01"), Self.agency("FL")) == ["CONSENT_STALE"])
        let failed = Evaluator.evaluate(
            request: Self.request(.tfm),
            agency: Self.agency("CA"),
            rules: Self.rules,
            on: "2026-06-01"
        )
        #expect(failed.first?.source?.contains("7284.6") == true)
    }

    @Test("recommendation: without a jail, TFM ranks first and a requested JEM is flagged")
    func recommendation() {
        let ranking = Recommender.rank(
            agency: Self.agency("FL", jail: false),
            needs: NeedsAssessment(expectedAnnualEncounters: 100, detentionCapacity: 0, officersProposed: 6),
            rules: Self.rules,
            on: "2026-06-01"
        )
        #expect(ranking.first?.model == .tfm)
        #expect(
            ranking.filter { $0.score == 0 }.compactMap(\.model).sorted { $0.rawValue < $1.rawValue } == [.jem, .wso]
        )
        let jail = Recommender.rank(
            agency: Self.agency("TX"),
            needs: NeedsAssessment(expectedAnnualEncounters: 2000, detentionCapacity: 800, officersProposed: 2),
            rules: Self.rules,
            on: "2026-06-01"
        )
        #expect(jail.first?.model == .jem)
        #expect(
            Recommender.rank(agency: Self.agency("CA"), needs: nil, rules: Self.rules, on: "2026-06-01").allSatisfy {
                $0.score == 0
            }
        )
    }

    @Test("a malformed rule table is refused with the line")
    func badTable() {
        #expect(throws: RuleSet.Failure.self) {
            try RuleSet.stateRules(
                csv:
                    "state_usps,state_name,stance,models,effective_date,citation,source_url,evidence,note\nTX,Texas,MAYBE,,,,,,\n"
            )
        }
    }
}
