import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordStorage
import AccordTestSupport
import Foundation
import Logging
import Testing

@testable import Supervision

@Suite("The hash-chained audit trail and its verification", .timeLimit(.minutes(1)))
struct AuditTests {
    /// A small history: a world, some actions, a review, a complaint, an inspection.
    static func history() async throws -> Harness {
        let h = try await Harness.start()
        let world = try await h.world()
        for _ in 0..<5 { _ = try await h.act(world.officers[.jem]!, .detainer, .jail) }
        _ = await h.actionCode(world.officers[.wso]!, .interview, .jail)
        let inspection = try await h.call(
            SupervisionMethods.scheduleInspection,
            ScheduleInspectionRequest(agreementId: world.agreements[.wso], scheduledOn: "2026-07-01")
        )
        _ = try await h.call(
            SupervisionMethods.recordInspection,
            RecordInspectionRequest(
                inspectionId: inspection.id,
                findings: ["no 287(g) log kept"],
                correctiveActions: ["keep a log"]
            )
        )
        return h
    }

    static func verify(_ h: Harness) async throws -> VerifyAuditResponse {
        try await h.call(SupervisionMethods.verifyAudit, VerifyAuditRequest(), as: "auditor")
    }

    /// Changes the stored database behind the service's back, as an intruder with file access would.
    static func tamper(_ h: Harness, _ sql: String) async throws {
        let database = try await TestStorage.location(file: h.path).open(
            SupervisionSchema.migrations,
            logger: Logger(label: "test.tamper")
        )
        let changed = try await database.write { session in try session.execute(sql) }
        #expect(changed == 1, "the tampering statement changed nothing: \(sql)")
        if let postgres = database as? PostgresDatabase { await postgres.close() }
    }

    @Test("an untouched history verifies; every change is in the trail with who and why")
    func intact() async throws {
        let h = try await Self.history()
        defer { Task { await h.stop() } }
        let verdict = try await Self.verify(h)
        #expect(verdict.intact == true, "\(verdict.firstBad ?? "") \(verdict.problem ?? "")")
        #expect(verdict.entriesChecked! > 20 && verdict.recordsChecked! > 15)
        #expect(verdict.headHash?.count == 64)
        let trail = try await h.call(
            SupervisionMethods.listAudit,
            ListAuditRequest(entity: "action", page: PageRequest(pageSize: 100)),
            as: "auditor"
        )
        #expect(trail.entries.count == 6)
        #expect(trail.entries.last?.action == "reject:FUNCTION_NOT_DELEGATED")
        #expect(trail.entries.allSatisfy { $0.who == "agency:ag_1" })
        // Each entry links to the one before it.
        let all = try await h.call(
            SupervisionMethods.listAudit,
            ListAuditRequest(page: PageRequest(pageSize: 1000)),
            as: "auditor"
        )
        for (previous, entry) in zip(all.entries, all.entries.dropFirst()) {
            #expect(entry.previousHash == previous.hash)
        }
        // Auditors read; they do not change anything.
        let write = await h.code(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "X", component: .ice, office: "Y")),
            as: "auditor"
        )
        #expect(write?.code == .permissionDenied)
        let agency = await h.code(SupervisionMethods.verifyAudit, VerifyAuditRequest(), as: "agency:ag_1")
        #expect(agency?.code == .permissionDenied)
    }

    @Test("one changed byte in a stored action is found and named")
    func tamperedRecord() async throws {
        let h = try await Self.history()
        defer { Task { await h.stop() } }
        // "done" becomes "dome": one byte.
        try await Self.tamper(h, "UPDATE action SET outcome = 'dome' WHERE rowid = 3")
        let verdict = try await Self.verify(h)
        #expect(verdict.intact == false)
        #expect(verdict.firstBad == "action ac_3")
        #expect(verdict.problem?.contains("differs") == true)
    }

    @Test("a changed, removed or inserted entry or record is found")
    func tamperedChain() async throws {
        let h = try await Self.history()
        defer { Task { await h.stop() } }
        try await Self.tamper(h, "UPDATE audit SET who = 'someone else' WHERE sequence = 4")
        var verdict = try await Self.verify(h)
        #expect(verdict.firstBad == "audit entry 4" && verdict.problem?.contains("hash") == true)

        let second = try await Self.history()
        defer { Task { await second.stop() } }
        try await Self.tamper(second, "DELETE FROM audit WHERE sequence = 7")
        verdict = try await Self.verify(second)
        #expect(verdict.firstBad == "audit entry 7" && verdict.problem?.contains("missing") == true)

        let third = try await Self.history()
        defer { Task { await third.stop() } }
        try await Self.tamper(third, "DELETE FROM action WHERE rowid = 2")
        verdict = try await Self.verify(third)
        #expect(verdict.firstBad == "action ac_2" && verdict.problem?.contains("not stored") == true)

        let fourth = try await Self.history()
        defer { Task { await fourth.stop() } }
        try await Self.tamper(
            fourth,
            "INSERT INTO supervisor (name, component, office, created_by, created_at_ms) VALUES ('ghost', 1, 'x', 'x', 0)"
        )
        verdict = try await Self.verify(fourth)
        #expect(verdict.firstBad == "supervisor sv_2" && verdict.problem?.contains("no audit entry") == true)
    }

    @Test("a fact recorded after it happened keeps both times in its entry, and a changed time is found")
    func happenedAndRecorded() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        h.clock.advance(days: 1)
        let performed = h.clock.now - 3 * 3_600_000
        let late = try await h.act(world.officers[.jem]!, .detainer, .jail, at: performed)
        let entries = try await h.call(
            SupervisionMethods.listAudit,
            ListAuditRequest(entity: "action", entityId: late.id),
            as: "auditor"
        ).entries
        let entry = try #require(entries.first)
        #expect(entry.happenedAtMs == performed && entry.atMs == h.clock.now, "\(entry)")
        #expect(try await Self.verify(h).intact == true)
        try await Self.tamper(
            h,
            "UPDATE audit SET happened_at_ms = happened_at_ms + 3600000 WHERE sequence = \(entry.sequence ?? 0)"
        )
        let verdict = try await Self.verify(h)
        #expect(verdict.firstBad == "audit entry \(entry.sequence ?? 0)", "\(verdict)")
    }
}

@Suite("Bad input and who may do what", .timeLimit(.minutes(1)))
struct AccessAndInputTests {
    static func auditCount(_ h: Harness) async throws -> Int {
        let all = try await h.call(
            SupervisionMethods.listAudit,
            ListAuditRequest(page: PageRequest(pageSize: 1000)),
            as: "auditor"
        )
        return all.entries.count
    }

    @Test("an action for an officer supervision has never heard of is NOT_FOUND and stores nothing")
    func unknownOfficer() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let before = try await Self.auditCount(h)
        for principal in ["agency:ag_2", "agency:ag_1"] {
            do {
                _ = try await h.act("of_424242", .interview, .jail, as: principal)
                Issue.record("an action for an unknown officer was taken")
            } catch let error as RPCError {
                #expect(error.code == .notFound, "\(error)")
                #expect(error.errorDetails?.reason == "OFFICER_NOT_FOUND")
                #expect(error.message.contains("of_424242"))
            }
        }
        #expect(try await Self.auditCount(h) == before, "a refused call changed the trail")
        let actions = try await h.call(SupervisionMethods.listActions, ListActionsRequest(), as: "auditor")
        #expect(actions.actions.isEmpty)
        // A known officer's action is still judged and recorded.
        _ = try await h.act(world.officers[.jem]!, .interview, .jail)
    }

    @Test("invalid fields are INVALID_ARGUMENT naming the field, and change nothing")
    func invalidFields() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let before = try await Self.auditCount(h)
        let officer = world.officers[.jem]!
        let cases: [(RecordActionRequest, String)] = [
            (RecordActionRequest(), "action"),
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        function: .detainer,
                        performedAtMs: h.clock.now,
                        place: .jail,
                        subjectRef: "x"
                    )
                ), "action.officer_id"
            ),
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officer,
                        performedAtMs: h.clock.now,
                        place: .jail,
                        subjectRef: "x"
                    )
                ), "action.function"
            ),
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officer,
                        function: .unrecognized(99),
                        performedAtMs: h.clock.now,
                        place: .jail,
                        subjectRef: "x"
                    )
                ), "action.function"
            ),
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officer,
                        function: .detainer,
                        performedAtMs: h.clock.now,
                        subjectRef: "x"
                    )
                ), "action.place"
            ),
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officer,
                        function: .detainer,
                        performedAtMs: h.clock.now,
                        place: .jail
                    )
                ), "action.subject_ref"
            ),
            (
                RecordActionRequest(
                    action: DelegatedAction(officerId: officer, function: .detainer, place: .jail, subjectRef: "x")
                ), "action.performed_at_ms"
            ),
            // In the future.
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officer,
                        function: .detainer,
                        performedAtMs: h.clock.now + 3_600_000,
                        place: .jail,
                        subjectRef: "x"
                    )
                ), "action.performed_at_ms"
            ),
            // Before the agreement existed (signed a year ago).
            (
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officer,
                        function: .detainer,
                        performedAtMs: h.clock.now - 400 * 86_400_000,
                        place: .jail,
                        subjectRef: "x"
                    )
                ), "action.performed_at_ms"
            ),
        ]
        for (request, field) in cases {
            let error = await h.code(SupervisionMethods.recordAction, request, as: "agency:ag_1")
            #expect(error?.code == .invalidArgument, "\(field): \(String(describing: error))")
            #expect(error?.errorDetails?.fieldViolations.first?.field == field, "\(String(describing: error))")
        }
        let suspend = await h.code(
            SupervisionMethods.suspendAgreement,
            SuspendAgreementRequest(agreementId: world.agreements[.jem], reason: "r", days: 0, response: "x")
        )
        #expect(suspend?.code == .invalidArgument && suspend?.message.hasPrefix("days") == true)
        let badID = await h.code(SupervisionMethods.getAgreement, GetAgreementRequest(agreementId: "ag_1"))
        #expect(badID?.code == .invalidArgument && badID?.message.contains("not an agreement id") == true)
        let missing = await h.code(SupervisionMethods.getAgreement, GetAgreementRequest(agreementId: "mo_999"))
        #expect(missing?.code == .notFound)
        let date = await h.code(
            SupervisionMethods.noticeTermination,
            NoticeTerminationRequest(agreementId: world.agreements[.jem], reason: "r", noticedOn: "2026-02-30")
        )
        #expect(date?.code == .invalidArgument && date?.message.contains("2026-02-30") == true)
        #expect(try await Self.auditCount(h) == before)
        // A principal that is not role or role:scope is turned away before the service sees it.
        let noPrincipal = await h.code(SupervisionMethods.getProgramReport, ProgramReportRequest(), as: "supervisor")
        #expect(noPrincipal?.code == .unauthenticated)
    }

    @Test("an agency sees only its own agreements and actions")
    func agencyScope() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        _ = try await h.world(agency: "ag_2")
        let mine = try await h.call(SupervisionMethods.listAgreements, ListAgreementsRequest(), as: "agency:ag_1")
        #expect(mine.agreements.count == 3 && mine.agreements.allSatisfy { $0.agencyId == "ag_1" })
        let theirs = await h.code(
            SupervisionMethods.listAgreements,
            ListAgreementsRequest(agencyId: "ag_2"),
            as: "agency:ag_1"
        )
        #expect(theirs?.code == .permissionDenied)
        let other = try await h.call(SupervisionMethods.listAgreements, ListAgreementsRequest(agencyId: "ag_2"))
        let peek = await h.code(
            SupervisionMethods.getAgreement,
            GetAgreementRequest(agreementId: other.agreements[0].id),
            as: "agency:ag_1"
        )
        #expect(peek?.code == .permissionDenied)
        _ = try await h.act(world.officers[.jem]!, .detainer, .jail)
        _ = try await h.act("of_ag_2_0", .detainer, .jail, as: "agency:ag_2")
        let actions = try await h.call(SupervisionMethods.listActions, ListActionsRequest(), as: "agency:ag_1")
        #expect(actions.actions.count == 1 && actions.actions[0].agencyId == "ag_1")
        let all = try await h.call(SupervisionMethods.listActions, ListActionsRequest(), as: "auditor")
        #expect(all.actions.count == 2)
    }
}
