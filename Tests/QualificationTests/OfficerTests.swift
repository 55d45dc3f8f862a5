import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordTestSupport
import AccordWire
import Foundation
import Logging
import Testing

@testable import Qualification

@Suite("Training attempt rules and certification requirements, without a database")
struct OfficerRuleTests {
    static let rules = EvaluatorTests.rules

    static func attempts(_ list: [(String, UInt32)]) -> [ExamAttempt] {
        list.map { ExamAttempt(exam: $0.0, score: $0.1, takenOn: "2026-05-01") }
    }

    @Test("JEM forgives one failure over the whole course; a second disqualifies")
    func jem() {
        let course = Self.rules.courses[.jem]!
        let one = OfficerRules.training(
            Self.attempts([("module-1", 65), ("module-1", 80), ("module-2", 90), ("module-3", 70), ("final", 88)]),
            course: course
        )
        #expect(one == .init(completed: true, disqualifiedBecause: nil))
        let two = OfficerRules.training(
            Self.attempts([("module-1", 65), ("module-1", 80), ("module-2", 69)]),
            course: course
        )
        #expect(two.disqualifiedBecause != nil && !two.completed)
    }

    @Test("WSO allows one retake of the final; TFM one retake per exam")
    func wsoAndTfm() {
        let wso = Self.rules.courses[.wso]!
        #expect(OfficerRules.training(Self.attempts([("final", 50), ("final", 71)]), course: wso).completed)
        #expect(
            OfficerRules.training(Self.attempts([("final", 50), ("final", 60)]), course: wso).disqualifiedBecause != nil
        )
        let tfm = Self.rules.courses[.tfm]!
        #expect(
            OfficerRules.training(
                Self.attempts([("module-1", 60), ("module-1", 75), ("final", 40), ("final", 90)]),
                course: tfm
            ).completed
        )
        #expect(
            OfficerRules.training(Self.attempts([("final", 40), ("final", 41)]), course: tfm).disqualifiedBecause != nil
        )
    }

    @Test("certification lists everything missing; TFM needs two years sworn and a clearance")
    func missing() {
        var officer = Officer(
            model: .tfm,
            usCitizen: false,
            swornSince: "2024-06-02",
            securityClearance: false,
            pendingComplaint: true
        )
        let all = OfficerRules.missing(for: officer, rules: Self.rules, today: "2026-06-01")
        #expect(all.count == 6)
        #expect(all.contains("U.S. citizenship") && all.contains("a security clearance"))
        officer = Officer(
            model: .tfm,
            usCitizen: true,
            swornSince: "2024-06-01",
            securityClearance: true,
            background: .favorable,
            pendingComplaint: false,
            enrolled: true,
            attempts: Self.attempts([("module-1", 80), ("final", 80)])
        )
        #expect(
            OfficerRules.missing(for: officer, rules: Self.rules, today: "2026-06-01") == [
                "completion of TFM basic (40 hours)"
            ]
        )
        officer.courseCompletedOn = "2026-05-20"
        officer.courseHours = 40
        #expect(OfficerRules.missing(for: officer, rules: Self.rules, today: "2026-06-01").isEmpty)
        officer.swornSince = "2024-06-02"
        #expect(
            OfficerRules.missing(for: officer, rules: Self.rules, today: "2026-06-01") == [
                "2 years of sworn service (since 2024-06-02)"
            ]
        )
    }
}

@Suite("Officers over loopback with a real SQLite file", .timeLimit(.minutes(1)))
struct OfficerServiceTests {
    struct Harness {
        let server: RPCServer
        let task: Task<Void, any Error>
        let client: RPCClient

        static func start(path: String? = nil) async throws -> Harness {
            let path =
                path
                ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                    "accord-qual-\(UUID().uuidString)/q.sqlite"
                ).path
            var logger = Logger(label: "test.qualification")
            logger.logLevel = .critical
            // 2026-06-01T12:00:00Z.
            let service = try await QualificationService(
                storage: try await TestStorage.location(file: path),
                rules: EvaluatorTests.rules,
                logger: logger,
                clock: .fixed(1_780_315_200_000)
            )
            var router = RPCRouter()
            service.register(into: &router)
            let server = RPCServer(
                configuration: ServerConfiguration(),
                router: router,
                interceptors: [PrincipalInterceptor(internalCredential: nil)],
                logger: logger
            )
            let task = Task { try await server.run() }
            let port = try await server.localAddress.port!
            return Harness(
                server: server,
                task: task,
                client: RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
            )
        }

        func stop() async {
            await self.client.close()
            self.server.beginGracefulShutdown()
            _ = await self.task.result
        }
    }

    static func asAgency(_ id: String) -> CallOptions {
        CallOptions(metadata: [TrustMetadata.principal: "agency:\(id)"])
    }

    @Test("a JEM officer's whole path: nominate, vet, train, certify; certification before that lists what is missing")
    func journey() async throws {
        let q = try await Harness.start()
        let nominee = try await q.client.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: "ag_3",
                    model: .jem,
                    name: "Dana Cruz",
                    usCitizen: true,
                    swornSince: "2019-03-01"
                )
            ),
            options: Self.asAgency("ag_3")
        )
        #expect(nominee.id == "of_1" && nominee.status == .nominated)

        do {
            _ = try await q.client.unary(
                QualificationMethods.certifyOfficer,
                CertifyOfficerRequest(officerId: nominee.id)
            )
            Issue.record("certified an officer with nothing done")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("a favorable background investigation"))
            #expect(error.errorDetails?.metadata.count == 2)  // background and enrolment
        }

        _ = try await q.client.unary(
            QualificationMethods.recordBackground,
            RecordBackgroundRequest(officerId: nominee.id, result: .favorable, completedOn: "2026-04-01")
        )
        _ = try await q.client.unary(QualificationMethods.enrollOfficer, EnrollOfficerRequest(officerId: nominee.id))
        for (exam, score) in [("module-1", 64), ("module-1", 75), ("module-2", 80), ("module-3", 91)]
            as [(String, UInt32)]
        {
            _ = try await q.client.unary(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: nominee.id, exam: exam, score: score, takenOn: "2026-05-10")
            )
        }
        // The course is completed by its own step: every exam passed and the hours attended.
        func complete(hours: UInt32, on day: String) async -> RPCError? {
            do {
                _ = try await q.client.unary(
                    QualificationMethods.completeCourse,
                    CompleteCourseRequest(officerId: nominee.id, completedOn: day, hours: hours)
                )
                return nil
            } catch {
                return error as? RPCError
            }
        }
        let early = await complete(hours: 120, on: "2026-05-09")
        #expect(early?.code == .failedPrecondition && early?.errorDetails?.reason == "COURSE_INCOMPLETE")
        #expect(
            early?.errorDetails?.metadata.map(\.value) == [
                "passing final", "160 hours attended (120 given)",
                "a completion date on or after the last exam (2026-05-10)",
            ]
        )
        _ = try await q.client.unary(
            QualificationMethods.recordExamAttempt,
            RecordExamAttemptRequest(officerId: nominee.id, exam: "final", score: 70, takenOn: "2026-05-10")
        )
        do {
            _ = try await q.client.unary(
                QualificationMethods.certifyOfficer,
                CertifyOfficerRequest(officerId: nominee.id)
            )
            Issue.record("certified before the course was completed")
        } catch let error as RPCError {
            #expect(error.message.contains("completion of JEM basic"), "\(error)")
        }
        #expect(await complete(hours: 160, on: "2026-05-12") == nil)
        #expect(await complete(hours: 160, on: "2026-05-12")?.code == .failedPrecondition)  // done already
        _ = try await q.client.unary(
            QualificationMethods.setComplaintFlag,
            SetComplaintFlagRequest(officerId: nominee.id, pending: true, reason: "use-of-force complaint")
        )
        await #expect(throws: RPCError.self) {
            try await q.client.unary(QualificationMethods.certifyOfficer, CertifyOfficerRequest(officerId: nominee.id))
        }
        _ = try await q.client.unary(
            QualificationMethods.setComplaintFlag,
            SetComplaintFlagRequest(officerId: nominee.id, pending: false, reason: "adjudicated: unfounded")
        )
        let certified = try await q.client.unary(
            QualificationMethods.certifyOfficer,
            CertifyOfficerRequest(officerId: nominee.id)
        )
        #expect(
            certified.status == .certified && certified.certifiedOn == "2026-06-01"
                && certified.rulesVersion == "2026-11-30.1"
        )
        #expect(certified.attempts.count == 5)
        #expect(certified.courseCompletedOn == "2026-05-12" && certified.courseHours == 160)

        // The agency sees its own officers only.
        #expect(
            try await q.client.unary(
                QualificationMethods.listOfficers,
                ListOfficersRequest(),
                options: Self.asAgency("ag_3")
            ).officers.count == 1
        )
        await #expect(throws: RPCError.self) {
            try await q.client.unary(
                QualificationMethods.getOfficer,
                GetOfficerRequest(officerId: nominee.id),
                options: Self.asAgency("ag_4")
            )
        }
        await #expect(throws: RPCError.self) {  // a made-up page token
            try await q.client.unary(
                QualificationMethods.listOfficers,
                ListOfficersRequest(page: PageRequest(pageToken: "1.zz"))
            )
        }
        await #expect(throws: RPCError.self) {  // an agency does not record its own exams
            try await q.client.unary(
                QualificationMethods.enrollOfficer,
                EnrollOfficerRequest(officerId: nominee.id),
                options: Self.asAgency("ag_3")
            )
        }
        await q.stop()
    }

    @Test("an unfavorable background disqualifies, and the nominee can be substituted")
    func substitution() async throws {
        let q = try await Harness.start()
        let first = try await q.client.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: "ag_5",
                    model: .wso,
                    name: "Lee Park",
                    usCitizen: true,
                    swornSince: "2020-01-01"
                )
            )
        )
        let rejected = try await q.client.unary(
            QualificationMethods.recordBackground,
            RecordBackgroundRequest(
                officerId: first.id,
                result: .unfavorable,
                completedOn: "2026-05-01",
                disqualifyingFindings: ["discipline for force, 2023"]
            )
        )
        #expect(rejected.status == .disqualified && rejected.disqualifyingFindings == ["discipline for force, 2023"])
        // Certifying the rejected nominee is refused with the cause, not only the status.
        do {
            _ = try await q.client.unary(
                QualificationMethods.certifyOfficer,
                CertifyOfficerRequest(officerId: first.id)
            )
            Issue.record("a disqualified officer was certified")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(
                error.message
                    == "officer \(first.id!) is disqualified: unfavorable background investigation (discipline for force, 2023)"
            )
            #expect(error.errorDetails?.reason == "OFFICER_DISQUALIFIED")
            #expect(error.errorDetails?.metadata.contains { $0.value == "discipline for force, 2023" } == true)
        }
        let second = try await q.client.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: "ag_5",
                    model: .wso,
                    name: "Sam Ortiz",
                    usCitizen: true,
                    swornSince: "2021-01-01"
                ),
                substitutes: first.id
            )
        )
        #expect(second.status == .nominated)
        #expect(
            try await q.client.unary(QualificationMethods.getOfficer, GetOfficerRequest(officerId: first.id)).status
                == .substituted
        )
        await q.stop()
    }

    @Test("a second WSO final failure disqualifies; bad fields are INVALID_ARGUMENT naming them")
    func failuresAndBadInput() async throws {
        let q = try await Harness.start()
        let officer = try await q.client.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: "ag_6",
                    model: .wso,
                    name: "Ari Fox",
                    usCitizen: true,
                    swornSince: "2018-01-01"
                )
            )
        )
        _ = try await q.client.unary(QualificationMethods.enrollOfficer, EnrollOfficerRequest(officerId: officer.id))
        _ = try await q.client.unary(
            QualificationMethods.recordExamAttempt,
            RecordExamAttemptRequest(officerId: officer.id, exam: "final", score: 55, takenOn: "2026-05-01")
        )
        let out = try await q.client.unary(
            QualificationMethods.recordExamAttempt,
            RecordExamAttemptRequest(officerId: officer.id, exam: "final", score: 65, takenOn: "2026-05-02")
        )
        #expect(out.status == .disqualified && out.disqualifiedBecause?.contains("final") == true)

        for (field, body) in [
            (
                "officer.sworn_since",
                Officer(agencyId: "ag_6", model: .wso, name: "A", usCitizen: true, swornSince: "2027-01-01")
            ),
            (
                "officer.sworn_since",
                Officer(agencyId: "ag_6", model: .wso, name: "A", usCitizen: true, swornSince: "2020-02-30")
            ),
            (
                "officer.model",
                Officer(agencyId: "ag_6", model: .unspecified, name: "A", usCitizen: true, swornSince: "2020-01-01")
            ),
            ("officer.us_citizen", Officer(agencyId: "ag_6", model: .wso, name: "A", swornSince: "2020-01-01")),
            (
                "officer.agency_id",
                Officer(agencyId: "agency 6", model: .wso, name: "A", usCitizen: true, swornSince: "2020-01-01")
            ),
        ] {
            do {
                _ = try await q.client.unary(
                    QualificationMethods.nominateOfficer,
                    NominateOfficerRequest(officer: body)
                )
                Issue.record("accepted a bad \(field)")
            } catch let error as RPCError {
                #expect(error.errorDetails?.fieldViolations.first?.field == field, "\(error)")
            }
        }
        await #expect(throws: RPCError.self) {  // score over 100
            try await q.client.unary(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: officer.id, exam: "final", score: 101, takenOn: "2026-05-01")
            )
        }
        await q.stop()
    }
}
