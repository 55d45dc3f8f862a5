import AccordMessages
import AccordRPC
import AccordWire
import Foundation
import Testing

/// accord-intake and accord-qualification as real processes (with accord-supervision, which
/// qualification asks for the agency's standing): a submitted request is evaluated and intake
/// shows the decision; with qualification stopped, intake's outbox delivers once it starts again.
@Suite("intake and qualification together", .timeLimit(.minutes(2)))
struct IntakeQualificationTests {
    static var rulesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../seeds/rules")
            .standardized.path
    }

    static func waitFor(
        _ client: RPCClient,
        _ id: String,
        status: RequestStatus,
        seconds: Int = 20
    ) async throws -> ParticipationRequest? {
        for _ in 0..<(seconds * 20) {
            let request = try await client.unary(IntakeMethods.getRequest, GetRequestRequest(requestId: id))
            if request.status == status { return request }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("evaluation through both services, and delivery after a qualification outage")
    func evaluationAcrossProcesses() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-\(UUID().uuidString)").path
        // Qualification first on a free port, to learn it; intake is told where it is.
        let (firstQualification, qualificationPort) = try EchoProcessTests.startServer(
            "accord-qualification",
            arguments: ["--data-dir", data, "--rules-dir", Self.rulesDirectory, "--intake", "127.0.0.1:1"]
        )
        firstQualification.terminate()
        firstQualification.waitUntilExit()

        let (intake, intakePort) = try EchoProcessTests.startServer(
            "accord-intake",
            arguments: ["--data-dir", data, "--qualification", "127.0.0.1:\(qualificationPort)"]
        )
        defer { intake.terminate() }
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: intakePort)])

        let texas = try await client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(
                agency: Agency(
                    state: "TX",
                    name: "Lone Star County Sheriff's Office",
                    type: .county,
                    hasJail: true,
                    jailCapacity: 400
                )
            )
        )
        let california = try await client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(
                agency: Agency(
                    state: "CA",
                    name: "Golden County Sheriff's Office",
                    type: .county,
                    hasJail: true,
                    jailCapacity: 400
                )
            )
        )
        func submit(_ agency: Agency) async throws -> ParticipationRequest {
            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            return try await client.unary(
                IntakeMethods.submitRequest,
                SubmitRequestRequest(
                    request: ParticipationRequest(
                        agencyId: agency.id,
                        model: .jem,
                        partner: .ice,
                        consent: Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: String(today)),
                        needs: NeedsAssessment(
                            expectedAnnualEncounters: 900,
                            detentionCapacity: 300,
                            officersProposed: 5
                        )
                    )
                )
            )
        }
        let good = try await submit(texas)
        let barred = try await submit(california)

        // Qualification is down: both stay received.
        try await Task.sleep(for: .milliseconds(800))
        #expect(
            try await client.unary(IntakeMethods.getRequest, GetRequestRequest(requestId: good.id)).status == .received
        )

        let (supervision, supervisionPort) = try EchoProcessTests.startServer(
            "accord-supervision",
            arguments: [
                "--data-dir", data, "--rules-dir", Self.rulesDirectory, "--intake", "127.0.0.1:\(intakePort)",
                "--qualification", "127.0.0.1:\(qualificationPort)",
            ]
        )
        defer { supervision.terminate() }
        let (qualification, _) = try EchoProcessTests.startServer(
            "accord-qualification",
            arguments: [
                "--data-dir", data, "--rules-dir", Self.rulesDirectory, "--intake", "127.0.0.1:\(intakePort)",
                "--supervision", "127.0.0.1:\(supervisionPort)", "--port", "\(qualificationPort)",
            ]
        )
        defer { qualification.terminate() }

        let qualified = try await Self.waitFor(client, good.id!, status: .qualified)
        #expect(qualified?.rulesVersion == "2026-11-30.1")
        let deficient = try await Self.waitFor(client, barred.id!, status: .deficient)
        #expect(deficient?.deficiencies.map(\.code) == ["STATE_LAW_PROHIBITS"])

        let qualificationClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: qualificationPort)])
        let evaluation = try await qualificationClient.unary(
            QualificationMethods.getEvaluation,
            GetEvaluationRequest(requestId: barred.id)
        )
        #expect(evaluation.failed.first?.source?.contains("7284.6") == true)
        #expect(evaluation.reported == true)

        // Previews: the rules in force on a date, changing nothing.
        func preview(_ id: String?, _ asOf: String?) async throws -> EvaluationPreview {
            try await qualificationClient.unary(
                QualificationMethods.previewEvaluation,
                PreviewEvaluationRequest(requestId: id, asOf: asOf)
            )
        }
        let now = try await preview(barred.id, nil)
        #expect(now.status == .deficient && now.failed.map(\.code) == ["STATE_LAW_PROHIBITS"], "\(now.failed)")
        #expect(now.rulesVersion == "2026-11-30.1" && now.projection == false)
        #expect(now.stateLaws.map(\.effectiveOn) == ["2018-01-01"] && now.stateLaws.first?.inForce == true)
        // Before California's law took effect (and before the consent was given).
        let before = try await preview(barred.id, "2017-12-31")
        #expect(before.failed.map(\.code) == ["CONSENT_IN_FUTURE"], "\(before.failed)")
        #expect(before.stateLaws.first?.inForce == false)
        #expect(before.notes.contains { $0.contains("the first one recorded") }, "\(before.notes)")
        // Far ahead: the consent has gone stale by then.
        let ahead = try await preview(good.id, "2030-01-01")
        #expect(ahead.projection == true && ahead.failed.map(\.code) == ["CONSENT_STALE"], "\(ahead.failed)")
        for (id, asOf, code) in [
            (barred.id, "2026-02-30", StatusCode.invalidArgument), ("rq_999999", nil, .notFound),
            ("request 5", nil, .invalidArgument),
        ] {
            do {
                _ = try await preview(id, asOf)
                Issue.record("previewed \(id ?? "-") as of \(asOf ?? "-")")
            } catch let error as RPCError {
                #expect(error.code == code, "\(error)")
            }
        }
        // Nothing changed: the decision and the request are as they were.
        let again = try await qualificationClient.unary(
            QualificationMethods.getEvaluation,
            GetEvaluationRequest(requestId: barred.id)
        )
        #expect(again == evaluation)
        #expect(
            try await client.unary(IntakeMethods.getRequest, GetRequestRequest(requestId: good.id)).status == .qualified
        )

        // Nominations are checked with intake: the agency must exist, and a jail model needs a jail.
        let noJail = try await client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Prairie Town Police", type: .municipality))
        )
        func nominate(_ agencyID: String, _ model: Model) async throws -> Officer {
            try await qualificationClient.unary(
                QualificationMethods.nominateOfficer,
                NominateOfficerRequest(
                    officer: Officer(
                        agencyId: agencyID,
                        model: model,
                        name: "Sam Ortiz",
                        usCitizen: true,
                        swornSince: "2015-06-01"
                    )
                )
            )
        }
        for (agencyID, model, code, reason) in [
            ("ag_999999", Model.tfm, StatusCode.notFound, "AGENCY_NOT_FOUND"),
            (noJail.id!, .jem, .failedPrecondition, "JAIL_REQUIRED"),
            (noJail.id!, .wso, .failedPrecondition, "JAIL_REQUIRED"),
        ] {
            do {
                _ = try await nominate(agencyID, model)
                Issue.record("\(model.protoName) nominee at \(agencyID) taken")
            } catch let error as RPCError {
                #expect(error.code == code && error.errorDetails?.reason == reason, "\(error)")
                #expect(error.message.contains(agencyID))
            }
        }
        #expect(try await nominate(noJail.id!, .tfm).status == .nominated)
        #expect(try await nominate(texas.id!, .jem).status == .nominated)
        let officers = try await qualificationClient.unary(QualificationMethods.listOfficers, ListOfficersRequest())
        #expect(officers.officers.count == 2, "a refused nomination was stored")
        await qualificationClient.close()
        await client.close()
    }
}
