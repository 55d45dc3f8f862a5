import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import Logging
import Testing

@testable import Qualification

@Suite("Publishing a rule set at run time", .timeLimit(.minutes(1)))
struct PublishRulesTests {
    static func evaluate(_ client: RPCClient, id: String) async throws -> Evaluation {
        let request = ParticipationRequest(
            id: id,
            model: .jem,
            partner: .ice,
            consent: Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: "2026-05-01"),
            needs: NeedsAssessment(expectedAnnualEncounters: 900, detentionCapacity: 300, officersProposed: 5),
            revision: 1
        )
        let agency = Agency(id: "ag_1", state: "TX", name: "X", type: .county, hasJail: true, jailCapacity: 300)
        _ = try await client.unary(
            QualificationMethods.evaluateRequest,
            EvaluateRequestRequest(request: request, agency: agency)
        )
        return try await client.unary(QualificationMethods.getEvaluation, GetEvaluationRequest(requestId: id))
    }

    @Test(
        "a new version, proposed by one and approved by another, applies from then on, old decisions keep theirs, and it survives a restart"
    )
    func publish() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-rules-\(UUID().uuidString)/q.sqlite"
        ).path
        let q = try await OfficerServiceTests.Harness.start(path: path)
        let before = try await Self.evaluate(q.client, id: "rq_1")
        #expect(before.status == .qualified && before.rulesVersion == "2026-11-30.1")

        let rules = EvaluatorTests.rules
        let program = rules.programText.replacingOccurrences(of: "\"2026-11-30.1\"", with: "\"2026-12-01.1\"")
        let table = rules.stateLawText.replacingOccurrences(
            of: "TX,Texas,REQUIRED,ALL,2026-01-01",
            with: "TX,Texas,PROHIBITED,JEM,2026-01-01"
        )
        #expect(table != rules.stateLawText)
        func office(_ name: String) -> CallOptions {
            CallOptions(metadata: [TrustMetadata.principal: "program-office", TrustMetadata.principalName: name])
        }
        let proposed = try await q.client.unary(
            QualificationMethods.publishRules,
            PublishRulesRequest(programJson: program, stateLawCsv: table, reason: "test"),
            options: office("Ana Proposer")
        )
        #expect(proposed.version == "2026-12-01.1" && proposed.pending == true)
        #expect(proposed.proposedBy == "Ana Proposer (program-office)")
        // Proposed is not in force.
        #expect(try await Self.evaluate(q.client, id: "rq_2").rulesVersion == "2026-11-30.1")

        // Not by the proposer, nor by an operator, nor by a principal without a name.
        let refusals: [(CallOptions, StatusCode, String)] = [
            (office("Ana Proposer"), .permissionDenied, "another program-office principal approves it"),
            (
                CallOptions(metadata: [TrustMetadata.principal: "operator", TrustMetadata.principalName: "ops"]),
                .permissionDenied, "the operator role may not call Qualification/ApproveRules"
            ),
            (
                CallOptions(metadata: [TrustMetadata.principal: "program-office"]),
                .permissionDenied, "without a name"
            ),
        ]
        for (options, code, text) in refusals {
            do {
                _ = try await q.client.unary(
                    QualificationMethods.approveRules,
                    ApproveRulesRequest(version: "2026-12-01.1", reason: "looks right"),
                    options: options
                )
                Issue.record("approved by \(options.metadata)")
            } catch let error as RPCError {
                #expect(error.code == code && error.message.contains(text), "\(error)")
            }
        }
        #expect(try await Self.evaluate(q.client, id: "rq_3").rulesVersion == "2026-11-30.1")

        let info = try await q.client.unary(
            QualificationMethods.approveRules,
            ApproveRulesRequest(version: "2026-12-01.1", reason: "checked against the statutes"),
            options: office("Ben Approver")
        )
        #expect(info.version == "2026-12-01.1" && info.pending != true)
        #expect(
            info.proposedBy == "Ana Proposer (program-office)" && info.approvedBy == "Ben Approver (program-office)"
        )
        let after = try await Self.evaluate(q.client, id: "rq_4")
        #expect(after.status == .deficient && after.rulesVersion == "2026-12-01.1")
        #expect(after.failed.map(\.code) == ["STATE_LAW_PROHIBITS"])
        #expect(
            try await q.client.unary(QualificationMethods.getEvaluation, GetEvaluationRequest(requestId: "rq_1"))
                .rulesVersion == "2026-11-30.1"
        )
        let shown = try await q.client.unary(QualificationMethods.getRules, GetRulesRequest())
        #expect(shown.proposedBy == info.proposedBy && shown.approvedBy == info.approvedBy)

        do {
            _ = try await q.client.unary(
                QualificationMethods.publishRules,
                PublishRulesRequest(programJson: program, stateLawCsv: table),
                options: office("Ana Proposer")
            )
            Issue.record("proposed a published version again")
        } catch let error as RPCError {
            #expect(error.code == .alreadyExists)
        }
        do {
            _ = try await q.client.unary(
                QualificationMethods.approveRules,
                ApproveRulesRequest(version: "2026-12-01.1"),
                options: office("Cy Third")
            )
            Issue.record("approved a published version again")
        } catch let error as RPCError {
            #expect(error.code == .alreadyExists)
        }
        do {
            _ = try await q.client.unary(
                QualificationMethods.publishRules,
                PublishRulesRequest(programJson: "{\"version\": 1}", stateLawCsv: table),
                options: office("Ana Proposer")
            )
            Issue.record("proposed a broken program.json")
        } catch let error as RPCError {
            #expect(error.errorDetails?.fieldViolations.first?.field == "program_json")
        }
        do {
            _ = try await q.client.unary(
                QualificationMethods.approveRules,
                ApproveRulesRequest(version: "2099-01-01.1"),
                options: office("Ben Approver")
            )
            Issue.record("approved a version never proposed")
        } catch let error as RPCError {
            #expect(error.code == .notFound)
        }
        await q.stop()

        // Restarted on the same data with the old files: the published set stays in force.
        let restarted = try await OfficerServiceTests.Harness.start(path: path)
        #expect(
            try await restarted.client.unary(QualificationMethods.getRules, GetRulesRequest()).version == "2026-12-01.1"
        )
        await restarted.stop()
    }
}
