import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import Synchronization
import Testing

/// A staging deployment on a simulated clock: one agency's two years, in minutes, through the
/// gateway and the CLI of a real set of processes. Each step moves the clock with
/// `accord clock advance` and waits for what the services' sweeps and checks then decide.
@Suite("simulated clock: two years of one agency", .timeLimit(.minutes(4)))
struct SimulatedClockJourneyTests {
    static let day: Int64 = 86_400_000

    struct Journey {
        let set: CLITests.Set
        let gateway: RPCClient

        func options(_ role: String) -> CallOptions {
            CallOptions(metadata: [MetadataKey.authorization: "Bearer \(self.set.tokens[role] ?? "")"])
        }

        func call<Request, Response>(
            _ method: RPCMethod<Request, Response>,
            _ request: Request,
            as role: String = "program-office"
        ) async throws -> Response {
            try await self.gateway.unary(method, request, options: self.options(role))
        }

        /// What the services' clocks read now (they agree).
        func now() async throws -> Int64 {
            let clocks = try await self.call(GatewayMethods.getClocks, GetClockRequest()).clocks
            #expect(clocks.count == 3 && clocks.allSatisfy { $0.simulated == true })
            return try #require(clocks.compactMap(\.nowMs).max())
        }

        /// `accord clock advance --to DAY`, as an operator.
        func advance(to day: Day) throws {
            let moved = try self.set.accord(
                ["clock", "advance", "--to", day.description, "--reason", "staging walk-through"],
                as: "operator"
            )
            #expect(moved.status == 0 && moved.output.contains("moved every service's clock to \(day)"), "\(moved)")
        }

        func act(_ officerID: String, at performed: Int64) async throws -> DelegatedAction {
            try await self.call(
                SupervisionMethods.recordAction,
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officerID,
                        function: .warrantlessArrest,
                        performedAtMs: performed,
                        place: .field,
                        subjectRef: "CASE-\(performed)"
                    )
                ),
                as: "agency"
            )
        }

        func authorization(_ id: String?) async throws -> Authorization {
            try await self.call(SupervisionMethods.getAuthorization, GetAuthorizationRequest(authorizationId: id))
        }
    }

    @Test("TFM authority lapses, overdue training suspends it, a termination notice runs out, a complaint goes overdue")
    func twoYears() async throws {
        let start = try #require(Day("2027-01-04"))
        let set = try CLITests.start(
            services: ["--simulated-clock", start.description, "--non-production"],
            supervision: ["--clock-seconds", "1", "--compliance-seconds", "1"],
            seedICE: false
        )
        defer { set.stop() }
        let gateway = RPCClient(endpoints: [try #require(Endpoint(set.gateway))])
        defer { Task { await gateway.close() } }
        let journey = Journey(set: set, gateway: gateway)
        let begun = try await journey.now()
        #expect(begun >= start.startMilliseconds && begun < start.startMilliseconds + 600_000)
        let health = try await SupervisionProcessTests.eventually {
            let shown = try set.accord(["health"], as: "operator")
            return shown.output.contains("SIMULATED CLOCK: this deployment's time is 2027-01-04") ? shown : nil
        }
        #expect(health != nil, "accord health shows the simulated clock")

        // A TFM officer, certified today (on the simulated calendar), authorized under the agency's agreement.
        let agency = try await journey.call(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Coastal Bend Task Force", type: .county))
        )
        #expect(agency.id == "ag_1", "the set's agency token is scoped to the first agency")
        let officer = try await journey.call(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agency.id,
                    model: .tfm,
                    name: "Lee Ortiz",
                    usCitizen: true,
                    swornSince: "2012-05-01",
                    securityClearance: true
                )
            ),
            as: "agency"
        )
        let officerID = try #require(officer.id)
        let today = start.description
        _ = try await journey.call(
            QualificationMethods.recordBackground,
            RecordBackgroundRequest(officerId: officerID, result: .favorable, completedOn: today)
        )
        _ = try await journey.call(QualificationMethods.enrollOfficer, EnrollOfficerRequest(officerId: officerID))
        for exam in ["module-1", "final"] {
            _ = try await journey.call(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: officerID, exam: exam, score: 90, takenOn: today)
            )
        }
        _ = try await journey.call(
            QualificationMethods.completeCourse,
            CompleteCourseRequest(officerId: officerID, completedOn: today, hours: 40)
        )
        let certified = try await journey.call(
            QualificationMethods.certifyOfficer,
            CertifyOfficerRequest(officerId: officerID)
        )
        #expect(certified.certifiedOn == today, "certified on the simulated day, not the machine's")
        let agreement = try await journey.call(
            SupervisionMethods.importAgreement,
            ImportAgreementRequest(
                agencyId: agency.id,
                agencyName: agency.name,
                state: "TX",
                model: .tfm,
                signedOn: "2026-06-01",
                sheet: "staging"
            )
        )
        let supervisor = try await journey.call(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Dana Kim", component: .ice, office: "ERO Houston"))
        )
        // The agreement's supervisor, so that every officer under it is supervised however their
        // authority came about.
        _ = try await journey.call(
            SupervisionMethods.assignSupervisor,
            AssignSupervisorRequest(supervisorId: supervisor.id, agreementId: agreement.id, reason: "staging")
        )
        // Supervision hears of the certification through qualification's outbox. When the notice
        // finds the agreement active, supervision authorizes the officer itself, and the call
        // below answers ALREADY_EXISTS (AUTHORIZED); the authority is then read back. Until the
        // notice arrives the call is refused (the refusals are kept, in order, for the failure's
        // message).
        let refusals = Mutex<[String]>([])
        let granted = try await SupervisionProcessTests.eventually {
            do {
                return try await journey.call(
                    SupervisionMethods.authorizeOfficer,
                    AuthorizeOfficerRequest(
                        officerId: officerID,
                        agreementId: agreement.id,
                        detainerCategories: ["public safety"],
                        supervisorId: supervisor.id
                    )
                )
            } catch let error as RPCError where error.code == .alreadyExists {
                #expect(error.errorDetails?.reason == "AUTHORIZED", "\(error)")
                return try await journey.call(
                    SupervisionMethods.getAuthorization,
                    GetAuthorizationRequest(officerId: officerID)
                )
            } catch {
                refusals.withLock { if $0.last != "\(error)" { $0.append("\(error)") } }
                throw error
            }
        }
        let authority = try #require(granted, "not authorized within 30 s: \(refusals.withLock { $0 })")
        let grantedAt = try #require(authority.authorizedAtMs)
        #expect(grantedAt >= start.startMilliseconds && authority.expiresAtMs == grantedAt + 730 * Self.day)
        // Not before the grant: the clocks the gateway reports may trail supervision's by a moment.
        let firstAct = max(try await journey.now(), grantedAt)
        #expect(try await journey.act(officerID, at: firstAct).decision == .accepted, "\(authority)")
        // The CLI's "now" (the default of --at) is the deployment's time, not the machine's: not late.
        let recorded = try set.accord(
            [
                "action", "record", "--officer", officerID, "--function", "warrantless-arrest", "--place", "field",
                "--subject", "CASE-CLI-1", "--json",
            ],
            as: "agency"
        )
        #expect(recorded.status == 0 && recorded.output.contains("ACTION_DECISION_ACCEPTED"), "\(recorded)")
        #expect(!recorded.output.contains("\"late\": true"), "\(recorded.output)")
        let complaint = try await journey.call(
            SupervisionMethods.fileComplaint,
            FileComplaintRequest(
                complaint: Complaint(
                    agreementId: agreement.id,
                    officerId: officerID,
                    source: "public",
                    summary: "rude at a traffic stop"
                )
            )
        )
        #expect(complaint.overdue.isEmpty)

        // A year and five days on: the TFM courses (every 365 days) are overdue, and the
        // complaint has passed its notice and resolution deadlines.
        let yearOn = start.adding(370)
        try journey.advance(to: yearOn)
        let overdue = try await journey.call(
            SupervisionMethods.listComplaints,
            ListComplaintsRequest(overdueOnly: true)
        ).complaints
        #expect(overdue.first { $0.id == complaint.id }?.overdue == ["notice", "resolution"], "\(overdue)")
        let suspended = try await SupervisionProcessTests.eventually {
            let shown = try await journey.authorization(authority.id)
            return shown.status == .suspended ? shown : nil
        }
        #expect(suspended != nil, "the compliance sweep suspended the overdue officer")
        do {
            _ = try await journey.act(officerID, at: try await journey.now())
            Issue.record("an action under suspended authority was accepted")
        } catch let error as RPCError {
            #expect(error.errorDetails?.reason == "AUTHORITY_SUSPENDED", "\(error)")
        }
        for course in ["TFM update", "Systems access"] {
            _ = try await journey.call(
                QualificationMethods.recordRecurringTraining,
                RecordRecurringTrainingRequest(officerId: officerID, course: course, completedOn: yearOn.description)
            )
        }
        let lifted = try await SupervisionProcessTests.eventually {
            let shown = try await journey.authorization(authority.id)
            return shown.status == .active ? shown : nil
        }
        #expect(lifted != nil, "the sweep lifted the suspension once the training was recorded")

        // Two years and a day after the grant, the TFM authority has lapsed: foreseen by a
        // report as of then, and so when the clock gets there.
        let lapsed = Day(unixMilliseconds: grantedAt).adding(731)
        let foreseen = try set.accord(["report", "--as-of", lapsed.description], as: "program-office")
        #expect(foreseen.status == 0 && foreseen.output.contains("PROJECTION"), "\(foreseen)")
        #expect(foreseen.output.contains("TFM authority lapsing: \(authority.id ?? "?")"), "\(foreseen.output)")
        let tooFar = try set.accord(["report", "--as-of", lapsed.adding(3 * 366).description], as: "program-office")
        #expect(tooFar.status == 1 && tooFar.errors.contains("1098 days ahead"), "\(tooFar)")
        try journey.advance(to: lapsed)
        do {
            _ = try await journey.act(officerID, at: try await journey.now())
            Issue.record("an action after the TFM authority lapsed was accepted")
        } catch let error as RPCError {
            #expect(error.errorDetails?.reason == "AUTHORIZATION_EXPIRED", "\(error)")
        }
        // The dossier as of a past day shows the authority as it stood then; now, lapsed.
        func dossier(_ moment: Int64?) async throws -> Dossier {
            try await journey.call(GatewayMethods.getDossier, GetDossierRequest(agency: agency.id, asOfMs: moment))
        }
        let then = try await dossier(start.adding(10).startMilliseconds)
        #expect(then.partial != true && then.asOfMs == start.adding(10).startMilliseconds, "\(then.missing)")
        #expect(then.authorizations.map(\.status) == [.active] && then.training.map(\.status) == [.current])
        #expect(try await dossier(nil).authorizations.map(\.status) == [.expired])
        do {
            _ = try await dossier(lapsed.adding(30).startMilliseconds)
            Issue.record("a dossier as of a later moment than the simulated now was made")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("not a moment up to now"), "\(error)")
        }

        // A termination notice given now takes effect 90 days later.
        let noticed = try await journey.call(
            SupervisionMethods.noticeTermination,
            NoticeTerminationRequest(agreementId: agreement.id, reason: "the agency leaves the program")
        )
        #expect(noticed.status == .terminationNoticed)
        #expect(noticed.terminationEffectiveOn == lapsed.adding(90).description, "\(noticed)")
        let ending = try set.accord(["report", "--as-of", lapsed.adding(91).description], as: "program-office")
        #expect(ending.output.contains("terminations taking effect: \(agreement.id ?? "?")"), "\(ending.output)")
        try journey.advance(to: lapsed.adding(91))
        let ended = try await SupervisionProcessTests.eventually {
            let shown = try await journey.call(
                SupervisionMethods.getAgreement,
                GetAgreementRequest(agreementId: agreement.id)
            )
            return shown.status == .terminated ? shown : nil
        }
        #expect(ended != nil, "the termination clock ended the agreement at the end of its notice")

        // Every report says the time is simulated; the clock never goes back.
        let report = try set.accord(["report"], as: "program-office")
        #expect(report.status == 0 && report.output.hasPrefix("SIMULATED CLOCK"), "\(report)")
        let back = try set.accord(
            ["clock", "advance", "--to", start.description, "--reason", "undo"],
            as: "operator"
        )
        #expect(back.status != 0 && back.errors.contains("never goes back"), "\(back)")
        let refused = try set.accord(["clock", "advance", "--days", "1", "--reason", "x"], as: "program-office")
        #expect(refused.status != 0 && refused.errors.contains("PERMISSION_DENIED"), "\(refused)")
    }
}
