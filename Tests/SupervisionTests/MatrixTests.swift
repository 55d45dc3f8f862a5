import AccordMessages
import AccordRPC
import Testing

@testable import Supervision

@Suite("Delegated functions by model, checked when an action is recorded", .timeLimit(.minutes(1)))
struct MatrixTests {
    /// DOMAIN.md's table, written out: where each model may perform each function.
    static let places: [Model: [DelegatedFunction: Set<ActionPlace>]] = {
        let any: Set<ActionPlace> = [.jail, .release, .field]
        return [
            .jem: [
                .interview: [.jail], .arrestWarrant: [.jail], .removalWarrant: [.jail], .warrantlessArrest: [],
                .processing: [.jail], .chargingDocument: any, .detainer: any, .transport: any,
            ],
            .wso: [
                .interview: [], .arrestWarrant: [.jail, .release], .removalWarrant: [.jail, .release],
                .warrantlessArrest: [], .processing: [], .chargingDocument: [], .detainer: [], .transport: any,
            ],
            .tfm: [
                .interview: any, .arrestWarrant: any, .removalWarrant: [], .warrantlessArrest: any, .processing: any,
                .chargingDocument: any, .detainer: any, .transport: any,
            ],
        ]
    }()

    @Test("every model × function × place: accepted exactly where DOMAIN.md's table delegates it")
    func everyCell() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        _ = try await h.call(
            SupervisionMethods.setDetainerCategories,
            SetDetainerCategoriesRequest(authorizationId: world.authorizations[.tfm], categories: ["aggravated felony"])
        )
        var checked = 0
        for (model, table) in Self.places {
            for (function, allowed) in table {
                for place in [ActionPlace.jail, .release, .field] {
                    let error = await h.actionCode(
                        world.officers[model]!,
                        function,
                        place,
                        category: function == .detainer ? "aggravated felony" : nil
                    )
                    let label = "\(model.protoName) \(function.protoName) \(place.protoName)"
                    if allowed.contains(place) {
                        #expect(error == nil, "\(label): \(error.map(String.init(describing:)) ?? "")")
                    } else {
                        #expect(error?.code == .permissionDenied, "\(label) should be refused")
                        #expect(error?.errorDetails?.reason == "FUNCTION_NOT_DELEGATED", "\(label)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked == 72)
        // Every call was recorded, accepted or rejected.
        let all = try await h.call(
            SupervisionMethods.listActions,
            ListActionsRequest(page: PageRequest(pageSize: 1000))
        )
        #expect(all.actions.count == 72)
        let accepted = all.actions.filter { $0.decision == .accepted }.count
        let expected = Self.places.values.flatMap(\.values).map(\.count).reduce(0, +)
        #expect(accepted == expected)
    }

    @Test("the named cases: WSO interview refused, TFM warrantless arrest accepted, TFM detainer needs a category")
    func namedCases() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let interview = await h.actionCode(world.officers[.wso]!, .interview, .jail)
        #expect(interview?.code == .permissionDenied)
        #expect(interview?.message.contains("WSO does not delegate INTERVIEW") == true)
        #expect(await h.actionCode(world.officers[.tfm]!, .warrantlessArrest, .field) == nil)
        let uncategorized = await h.actionCode(world.officers[.tfm]!, .detainer, .field, category: "visa overstay")
        #expect(uncategorized?.code == .permissionDenied)
        #expect(uncategorized?.message.contains("categories the supervisors set") == true)
        // JEM officers may not interview outside the jail.
        let street = await h.actionCode(world.officers[.jem]!, .interview, .field)
        #expect(street?.message.contains("only in jail") == true)
    }

    @Test("the rules file is checked when it loads")
    func badRules() throws {
        #expect(throws: SupervisionRules.LoadError.self) {
            try SupervisionRules(json: #"{"version":"x","functions":{"JEM":{"FLY":{"places":["JAIL"]}}}}"#)
        }
        let text = try String(contentsOfFile: Harness.rulesPath, encoding: .utf8)
        let broken = text.replacingOccurrences(of: #""places": ["JAIL"] }"#, with: #""places": ["MOON"] }"#)
        #expect(broken != text)
        #expect(throws: SupervisionRules.LoadError.self) { try SupervisionRules(json: broken) }
    }
}
