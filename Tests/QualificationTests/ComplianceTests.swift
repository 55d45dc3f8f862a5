import AccordCalendar
import AccordMessages
import AccordRPC
import Testing

@testable import Qualification

@Suite("Recurring training compliance as of a date")
struct ComplianceTests {
    static let rules = EvaluatorTests.rules

    @Test("days: 1970-01-01 is day 0, leap days, round trips")
    func days() {
        #expect(Day("1970-01-01")?.number == 0)
        #expect(Day("2024-02-28")!.adding(1).description == "2024-02-29")
        #expect(Day("2025-02-28")!.adding(1).description == "2025-03-01")
        #expect(Day("2026-06-01")!.adding(365).description == "2027-06-01")
        #expect(Day("2026-13-01") == nil)
    }

    @Test("a JEM officer certified 2026-01-01: current, due soon, overdue, current again after training")
    func statuses() {
        func status(_ asOf: String, _ completions: [String: String] = [:]) -> OfficerCompliance {
            Compliance.officer(
                id: "of_1",
                agencyID: "ag_1",
                model: .jem,
                certifiedOn: "2026-01-01",
                completions: completions,
                rules: Self.rules,
                asOf: asOf
            )
        }
        #expect(status("2026-06-01").status == .current)
        #expect(status("2026-12-05").status == .dueSoon)  // systems access due 2027-01-01
        #expect(status("2027-01-02").status == .overdue)
        #expect(status("2027-01-02").courses.map(\.course) == ["JEM refresher", "Systems access"])
        #expect(status("2027-01-02", ["Systems access": "2026-12-20"]).status == .current)
        #expect(status("2028-01-02", ["Systems access": "2027-12-20"]).status == .overdue)  // the refresher
    }

    @Test("over the service: exceptions by agency, recording training, an agency sees its own")
    func overTheService() async throws {
        let q = try await OfficerServiceTests.Harness.start()  // today is 2026-06-01
        func certifiedWSO(_ agency: String) async throws -> Officer {
            let officer = try await q.client.unary(
                QualificationMethods.nominateOfficer,
                NominateOfficerRequest(
                    officer: Officer(
                        agencyId: agency,
                        model: .wso,
                        name: "Officer \(agency)",
                        usCitizen: true,
                        swornSince: "2015-01-01"
                    )
                )
            )
            _ = try await q.client.unary(
                QualificationMethods.recordBackground,
                RecordBackgroundRequest(officerId: officer.id, result: .favorable, completedOn: "2026-05-01")
            )
            _ = try await q.client.unary(
                QualificationMethods.enrollOfficer,
                EnrollOfficerRequest(officerId: officer.id)
            )
            _ = try await q.client.unary(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: officer.id, exam: "final", score: 90, takenOn: "2026-05-20")
            )
            _ = try await q.client.unary(
                QualificationMethods.completeCourse,
                CompleteCourseRequest(officerId: officer.id, completedOn: "2026-05-20", hours: 8)
            )
            return try await q.client.unary(
                QualificationMethods.certifyOfficer,
                CertifyOfficerRequest(officerId: officer.id)
            )
        }
        let first = try await certifiedWSO("ag_1")
        _ = try await certifiedWSO("ag_2")
        let before = try await q.client.unary(
            QualificationMethods.getCompliance,
            GetComplianceRequest(asOf: "2026-12-01")
        )
        #expect(before.certifiedOfficers == 2 && before.current == 2)
        let later = try await q.client.unary(
            QualificationMethods.getCompliance,
            GetComplianceRequest(asOf: "2027-06-02", exceptionsOnly: true)
        )
        #expect(later.overdue == 2 && later.officers.count == 2)
        #expect(later.exceptions.map(\.agencyId) == ["ag_1", "ag_2"])
        // Not yet certified on that date: not counted.
        #expect(
            try await q.client.unary(QualificationMethods.getCompliance, GetComplianceRequest(asOf: "2026-05-31"))
                .certifiedOfficers == 0
        )

        _ = try await q.client.unary(
            QualificationMethods.recordRecurringTraining,
            RecordRecurringTrainingRequest(officerId: first.id, course: "Systems access", completedOn: "2026-06-01")
        )
        let mine = try await q.client.unary(
            QualificationMethods.getCompliance,
            GetComplianceRequest(asOf: "2027-06-02"),
            options: OfficerServiceTests.asAgency("ag_1")
        )
        #expect(mine.certifiedOfficers == 1 && mine.overdue == 1)  // 2026-06-01 + 365 days = 2027-06-01
        await #expect(throws: RPCError.self) {
            try await q.client.unary(
                QualificationMethods.recordRecurringTraining,
                RecordRecurringTrainingRequest(officerId: first.id, course: "JEM refresher", completedOn: "2026-06-01")
            )
        }
        await q.stop()
    }
}
