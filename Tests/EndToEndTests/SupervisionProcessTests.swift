import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit
import Foundation
import GRDB
import Testing

/// accord-intake, accord-qualification and accord-supervision as real processes.
@Suite("supervision with intake and qualification", .timeLimit(.minutes(3)))
struct SupervisionProcessTests {
    static var seeds: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../seeds")
            .standardized.path
    }

    /// A loopback port nobody listens on right now.
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func eventually<T: Sendable>(
        seconds: Int = 30,
        _ body: @Sendable () async throws -> T?
    ) async throws -> T? {
        for _ in 0..<(seconds * 10) {
            if let value = try? await body() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    static func options(_ principal: String) -> CallOptions {
        CallOptions(metadata: [TrustMetadata.principal: principal])
    }

    /// Qualification, supervision and intake as processes, each told where the others are.
    struct ProcessSet {
        var processes: [Process]
        var intake: Int
        var qualification: Int
        var supervision: Int

        func stop() { for process in self.processes { process.terminate() } }
    }

    static func startSet(seedICE: Bool) throws -> ProcessSet {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-\(UUID().uuidString)").path
        let intakePort = try Self.freePort()
        let supervisionPort = try Self.freePort()
        let (qualification, qualificationPort) = try EchoProcessTests.startServer(
            "accord-qualification",
            arguments: [
                "--data-dir", data, "--rules-dir", "\(Self.seeds)/rules", "--intake", "127.0.0.1:\(intakePort)",
                "--supervision", "127.0.0.1:\(supervisionPort)",
            ]
        )
        var processes = [qualification]
        do {
            processes.append(
                try EchoProcessTests.startServer(
                    "accord-supervision",
                    arguments: [
                        "--data-dir", data, "--rules-dir", "\(Self.seeds)/rules", "--port", "\(supervisionPort)",
                        "--qualification", "127.0.0.1:\(qualificationPort)", "--intake", "127.0.0.1:\(intakePort)",
                    ]
                ).0
            )
            processes.append(
                try EchoProcessTests.startServer(
                    "accord-intake",
                    arguments: [
                        "--data-dir", data, "--port", "\(intakePort)", "--qualification",
                        "127.0.0.1:\(qualificationPort)", "--supervision", "127.0.0.1:\(supervisionPort)",
                    ] + (seedICE ? ["--seed-ice-dir", "\(Self.seeds)/ice"] : [])
                ).0
            )
        } catch {
            for process in processes { process.terminate() }
            throw error
        }
        return ProcessSet(
            processes: processes,
            intake: intakePort,
            qualification: qualificationPort,
            supervision: supervisionPort
        )
    }

    @Test("facts dated when they happened: a TFM officer certified and authorized before Accord was used")
    func backdatedCertificationAndAuthority() async throws {
        let set = try Self.startSet(seedICE: false)
        defer { set.stop() }
        let (intakePort, qualificationPort, supervisionPort) = (set.intake, set.qualification, set.supervision)
        let office = Self.options("program-office")
        let intakeClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: intakePort)])
        let qualificationClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: qualificationPort)])
        let supervisionClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: supervisionPort)])
        defer {
            Task { for client in [intakeClient, qualificationClient, supervisionClient] { await client.close() } }
        }
        let agency = try await intakeClient.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Brazos Valley Task Force", type: .county)),
            options: office
        )
        let own = Self.options("agency:\(agency.id ?? "")")
        // Vetted and trained in 2023, before the program used Accord.
        let nominee = try await qualificationClient.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agency.id,
                    model: .tfm,
                    name: "Rae Dunn",
                    usCitizen: true,
                    swornSince: "2010-01-01",
                    securityClearance: true
                )
            ),
            options: own
        )
        let officerID = try #require(nominee.id)
        _ = try await qualificationClient.unary(
            QualificationMethods.recordBackground,
            RecordBackgroundRequest(officerId: officerID, result: .favorable, completedOn: "2023-01-10"),
            options: office
        )
        _ = try await qualificationClient.unary(
            QualificationMethods.enrollOfficer,
            EnrollOfficerRequest(officerId: officerID),
            options: office
        )
        for exam in ["module-1", "final"] {
            _ = try await qualificationClient.unary(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: officerID, exam: exam, score: 90, takenOn: "2023-02-01"),
                options: office
            )
        }
        _ = try await qualificationClient.unary(
            QualificationMethods.completeCourse,
            CompleteCourseRequest(officerId: officerID, completedOn: "2023-03-01", hours: 40),
            options: office
        )
        func certify(_ on: String, _ reason: String?) async throws -> Officer {
            try await qualificationClient.unary(
                QualificationMethods.certifyOfficer,
                CertifyOfficerRequest(officerId: officerID, certifiedOn: on, reason: reason),
                options: office
            )
        }
        let why = "certified by the ICE Academy before the program used Accord"
        for (on, reason, field) in [("2023-03-15", nil, "reason"), ("2999-01-01", why, "certified_on")] {
            await #expect(throws: RPCError.self) { _ = try await certify(on, reason) }
            do { _ = try await certify(on, reason) } catch let error as RPCError {
                #expect(error.errorDetails?.fieldViolations.first?.field == field, "\(error)")
            }
        }
        do {
            _ = try await certify("2023-02-15", why)
            Issue.record("certified before the course was completed")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("the course came later (2023-03-01)"))
        }
        let certified = try await certify("2023-03-15", why)
        #expect(certified.status == .certified && certified.certifiedOn == "2023-03-15")

        // Supervision hears of the certification; the agency's TFM agreement (signed 2023-01-01)
        // is imported after it.
        let heard = try await Self.eventually {
            let trail = try await supervisionClient.unary(
                SupervisionMethods.listAudit,
                ListAuditRequest(entity: "certification"),
                options: Self.options("auditor")
            )
            return trail.entries.isEmpty ? nil : true
        }
        #expect(heard == true)
        let agreement = try await supervisionClient.unary(
            SupervisionMethods.importAgreement,
            ImportAgreementRequest(
                agencyId: agency.id,
                agencyName: agency.name,
                state: "TX",
                model: .tfm,
                signedOn: "2023-01-01",
                sheet: "test"
            ),
            options: office
        )
        let supervisor = try await supervisionClient.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Ana Ruiz", component: .ice, office: "ERO Houston")),
            options: office
        )
        func authorize(_ on: String, _ reason: String?) async throws -> Authorization {
            try await supervisionClient.unary(
                SupervisionMethods.authorizeOfficer,
                AuthorizeOfficerRequest(
                    officerId: officerID,
                    agreementId: agreement.id,
                    detainerCategories: ["public safety"],
                    supervisorId: supervisor.id,
                    reason: reason,
                    authorizedOn: on
                ),
                options: office
            )
        }
        for (on, reason, message) in [
            ("2023-03-01", why, "before officer \(officerID) was certified, on 2023-03-15"),
            ("2999-01-01", why, "is in the future: at most"),
            ("2023-04-01", nil, "is required for an authorization dated before today"),
        ] {
            do {
                _ = try await authorize(on, reason)
                Issue.record("authorized on \(on)")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains(message), "\(error)")
            }
        }
        let authority = try await authorize("2023-04-01", "authorized by ERO Houston in 2023")
        let granted = try #require(Day("2023-04-01")?.startMilliseconds)
        #expect(authority.authorizedAtMs == granted)
        #expect(authority.expiresAtMs == granted + 730 * 86_400_000)
        #expect(authority.status == .expired, "two years after 2023-04-01 have passed")
        // The audit trail keeps both times: when it happened, and when it was recorded (now).
        let trail = try await supervisionClient.unary(
            SupervisionMethods.listAudit,
            ListAuditRequest(entity: "authorization", entityId: authority.id),
            options: Self.options("auditor")
        )
        let entry = try #require(trail.entries.first { $0.action == "authorize" })
        #expect(entry.happenedAtMs == granted && (entry.atMs ?? 0) > granted + 700 * 86_400_000, "\(entry)")
        let notices = try await supervisionClient.unary(
            SupervisionMethods.listAudit,
            ListAuditRequest(entity: "certification"),
            options: Self.options("auditor")
        )
        #expect(notices.entries.first?.happenedAtMs == Day("2023-03-15")?.startMilliseconds)

        // Actions reported now are judged at the moment they were performed.
        func act(_ performed: Int64) async throws -> DelegatedAction {
            try await supervisionClient.unary(
                SupervisionMethods.recordAction,
                RecordActionRequest(
                    action: DelegatedAction(
                        officerId: officerID,
                        function: .warrantlessArrest,
                        performedAtMs: performed,
                        place: .field,
                        subjectRef: "CASE-\(performed)",
                        citizenshipClaimed: true
                    )
                ),
                options: own
            )
        }
        let inTime = try await act(granted + 400 * 86_400_000)
        #expect(inTime.decision == .accepted && inTime.late == true, "a citizenship claim is reported within an hour")
        do {
            _ = try await act(granted + 731 * 86_400_000)
            Issue.record("an action after the TFM authority lapsed was accepted")
        } catch let error as RPCError {
            #expect(error.errorDetails?.reason == "AUTHORIZATION_EXPIRED", "\(error)")
        }
    }

    @Test(
        "ICE agreements reach supervision; a request is qualified, offered and signed; the officer is certified, authorized, acts and is reviewed"
    )
    func wholePath() async throws {
        let set = try Self.startSet(seedICE: true)
        defer { set.stop() }
        let (intakePort, qualificationPort, supervisionPort) = (set.intake, set.qualification, set.supervision)
        let intakeClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: intakePort)])
        let qualificationClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: qualificationPort)])
        let supervisionClient = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: supervisionPort)])

        // Every agreement intake found on the participating sheet arrives in supervision, active.
        var imported: [ImportedAgreement] = []
        var token: String?
        repeat {
            let page = try await intakeClient.unary(
                IntakeMethods.listImportedAgreements,
                ListImportedAgreementsRequest(page: PageRequest(pageSize: 1000, pageToken: token))
            )
            imported += page.agreements
            token = page.page?.nextPageToken
        } while token != nil
        #expect(imported.count > 500)
        let expected = imported.count
        let arrived = try await Self.eventually {
            var count = 0
            var token: String?
            repeat {
                let page = try await supervisionClient.unary(
                    SupervisionMethods.listAgreements,
                    ListAgreementsRequest(status: .active, page: PageRequest(pageSize: 1000, pageToken: token))
                )
                count += page.agreements.count
                token = page.page?.nextPageToken
            } while token != nil
            return count == expected ? count : nil
        }
        #expect(arrived == expected)
        let sheet = try #require(imported.first { $0.model == .jem })
        let fromSheet = try await supervisionClient.unary(
            SupervisionMethods.listAgreements,
            ListAgreementsRequest(agencyId: sheet.agencyId, model: .jem)
        ).agreements.first
        #expect(fromSheet?.source == "ice-sheet:\(sheet.sheet!)" && fromSheet?.effectiveOn == sheet.signedOn)

        // A new agency's request: evaluated by qualification, offered and signed in supervision,
        // and intake follows each step.
        let agency = try await intakeClient.unary(
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
        let agencyID = try #require(agency.id)
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let submitted = try await intakeClient.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(
                request: ParticipationRequest(
                    agencyId: agencyID,
                    model: .jem,
                    partner: .ice,
                    consent: Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: today),
                    needs: NeedsAssessment(expectedAnnualEncounters: 900, detentionCapacity: 300, officersProposed: 5)
                )
            )
        )
        @Sendable func status(_ wanted: RequestStatus) async throws -> ParticipationRequest? {
            try await Self.eventually {
                let request = try await intakeClient.unary(
                    IntakeMethods.getRequest,
                    GetRequestRequest(requestId: submitted.id)
                )
                return request.status == wanted ? request : nil
            }
        }
        #expect(try await status(.qualified) != nil)
        let offered = try await supervisionClient.unary(
            SupervisionMethods.offerAgreement,
            OfferAgreementRequest(requestId: submitted.id, office: "ERO Houston")
        )
        #expect(offered.status == .offered && offered.agencyName == agency.name && offered.state == "TX")
        #expect(try await status(.agreementOffered) != nil)
        _ = try await supervisionClient.unary(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: offered.id, party: .agency, signedBy: "Sheriff Pat Smith"),
            options: Self.options("agency:\(agencyID)")
        )
        let agreement = try await supervisionClient.unary(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: offered.id, party: .federal, signedBy: "Field Office Director")
        )
        #expect(agreement.status == .active)
        #expect(try await status(.signed) != nil)

        // Standing, asked of supervision at evaluation: a second JEM request (with CBP) is a
        // duplicate of the agreement in force.
        @Sendable func decided(_ partner: FederalPartner) async throws -> ParticipationRequest {
            let request = try await intakeClient.unary(
                IntakeMethods.submitRequest,
                SubmitRequestRequest(
                    request: ParticipationRequest(
                        agencyId: agencyID,
                        model: .jem,
                        partner: partner,
                        consent: Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: today),
                        needs: NeedsAssessment(
                            expectedAnnualEncounters: 900,
                            detentionCapacity: 300,
                            officersProposed: 5
                        )
                    )
                )
            )
            return try #require(
                try await Self.eventually {
                    let seen = try await intakeClient.unary(
                        IntakeMethods.getRequest,
                        GetRequestRequest(requestId: request.id)
                    )
                    return seen.status == .deficient || seen.status == .qualified ? seen : nil
                }
            )
        }
        let duplicate = try await decided(.cbp)
        #expect(duplicate.status == .deficient)
        #expect(duplicate.deficiencies.map(\.code) == ["AGREEMENT_EXISTS"], "\(duplicate.deficiencies)")
        #expect(duplicate.deficiencies.first?.message?.contains(agreement.id!) == true)

        // Qualification: nominate, vet, train, certify.
        let officer = try await qualificationClient.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agencyID,
                    model: .jem,
                    name: "Sam Ortiz",
                    usCitizen: true,
                    swornSince: "2015-01-01"
                )
            )
        )
        _ = try await qualificationClient.unary(
            QualificationMethods.recordBackground,
            RecordBackgroundRequest(officerId: officer.id, result: .favorable, completedOn: "2026-04-01")
        )
        _ = try await qualificationClient.unary(
            QualificationMethods.enrollOfficer,
            EnrollOfficerRequest(officerId: officer.id)
        )
        for exam in ["module-1", "module-2", "module-3", "final"] {
            _ = try await qualificationClient.unary(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: officer.id, exam: exam, score: 85, takenOn: "2026-05-10")
            )
        }
        _ = try await qualificationClient.unary(
            QualificationMethods.completeCourse,
            CompleteCourseRequest(officerId: officer.id, completedOn: "2026-05-10", hours: 160)
        )
        _ = try await qualificationClient.unary(
            QualificationMethods.certifyOfficer,
            CertifyOfficerRequest(officerId: officer.id)
        )

        // Supervision hears of it and authorizes the officer under the active JEM agreement.
        let authorization = try #require(
            try await Self.eventually {
                try await supervisionClient.unary(
                    SupervisionMethods.getAuthorization,
                    GetAuthorizationRequest(officerId: officer.id)
                )
            }
        )
        #expect(authorization.agreementId == agreement.id && authorization.status == .active)
        #expect(authorization.functions.contains(.detainer) && !authorization.functions.contains(.warrantlessArrest))

        // An explicit authorization asks qualification at that moment: this one is taken already,
        // an uncertified nominee is refused.
        let nominee = try await qualificationClient.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agencyID,
                    model: .jem,
                    name: "Kim Lee",
                    usCitizen: true,
                    swornSince: "2018-01-01"
                )
            )
        )
        do {
            _ = try await supervisionClient.unary(
                SupervisionMethods.authorizeOfficer,
                AuthorizeOfficerRequest(officerId: nominee.id)
            )
            Issue.record("authorized an officer who is not certified")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.errorDetails?.reason == "NOT_CERTIFIED")
        }

        // A supervisor, an action, a review.
        let supervisor = try await supervisionClient.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Ana Diaz", component: .ice, office: "ERO Atlanta"))
        )
        _ = try await supervisionClient.unary(
            SupervisionMethods.assignSupervisor,
            AssignSupervisorRequest(supervisorId: supervisor.id, agreementId: agreement.id)
        )
        let action = try await supervisionClient.unary(
            SupervisionMethods.recordAction,
            RecordActionRequest(
                action: DelegatedAction(
                    officerId: officer.id,
                    function: .detainer,
                    performedAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                    place: .jail,
                    subjectRef: "BK-2026-0042",
                    outcome: "detainer issued"
                )
            ),
            options: Self.options("agency:\(agencyID)")
        )
        #expect(action.decision == .accepted && action.review == .pending && action.late == false)
        let approved = try await supervisionClient.unary(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .approved),
            options: Self.options("supervisor:\(supervisor.id!)")
        )
        #expect(approved.review == .approved)

        await intakeClient.close()
        await qualificationClient.close()
        await supervisionClient.close()
    }

    actor Acknowledged {
        var ids: [String] = []
        func add(_ id: String) { self.ids.append(id) }
    }

    static func verifier(_ database: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = EchoProcessTests.binDirectory.appendingPathComponent("accord-supervision")
        process.arguments = ["verify-audit", database]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test("SIGKILL during action writes loses no acknowledged action; the audit trail verifies offline")
    func killDuringWrites() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-\(UUID().uuidString)").path
        let arguments = ["--data-dir", data, "--rules-dir", "\(Self.seeds)/rules", "--qualification", "127.0.0.1:1"]
        let (first, port) = try EchoProcessTests.startServer("accord-supervision", arguments: arguments)
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        let agreement = try await client.unary(
            SupervisionMethods.importAgreement,
            ImportAgreementRequest(
                agencyId: "ag_5",
                agencyName: "Test County",
                state: "GA",
                model: .jem,
                signedOn: "2025-01-01"
            )
        )
        let supervisor = try await client.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Ana Diaz", component: .ice, office: "ERO Atlanta"))
        )
        _ = try await client.unary(
            SupervisionMethods.assignSupervisor,
            AssignSupervisorRequest(supervisorId: supervisor.id, agreementId: agreement.id)
        )
        let officers = (0..<16).map { "of_\($0 + 1)" }
        for officer in officers {
            _ = try await client.unary(
                SupervisionMethods.notifyCertified,
                NotifyCertifiedRequest(
                    officerId: officer,
                    agencyId: "ag_5",
                    model: .jem,
                    name: officer,
                    certifiedOn: "2025-02-01"
                )
            )
        }
        let acknowledged = Acknowledged()
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for officer in officers {
                    group.addTask {
                        for index in 0..<100_000 {
                            guard
                                let action = try? await client.unary(
                                    SupervisionMethods.recordAction,
                                    RecordActionRequest(
                                        action: DelegatedAction(
                                            officerId: officer,
                                            function: .transport,
                                            performedAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                                            place: .jail,
                                            subjectRef: "\(officer)-\(index)"
                                        )
                                    ),
                                    options: Self.options("agency:ag_5")
                                )
                            else { return }
                            await acknowledged.add(action.id!)
                        }
                    }
                }
            }
        }
        // Let the writers get going (or give up after 30 s: then the writers failed), then kill.
        // Supervision's writes take turns on PostgreSQL (one audit chain), a commit each: fewer.
        let going = ProcessStorage.onPostgres ? 300 : 2000
        for _ in 0..<3000 where await acknowledged.ids.count < going { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await acknowledged.ids.count >= going, "the writers did not get going")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        await writers.value
        await client.close()
        #expect(first.terminationReason == .uncaughtSignal)
        let ids = await acknowledged.ids

        let (second, secondPort) = try EchoProcessTests.startServer("accord-supervision", arguments: arguments)
        let reader = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: secondPort)])
        var stored = Set<String>()
        var token: String?
        repeat {
            let page = try await reader.unary(
                SupervisionMethods.listActions,
                ListActionsRequest(page: PageRequest(pageSize: 1000, pageToken: token)),
                options: Self.options("auditor")
            )
            for action in page.actions where action.decision == .accepted { stored.insert(action.id!) }
            token = page.page?.nextPageToken
        } while token != nil
        let lost = ids.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged actions lost, e.g. \(lost.prefix(5))")
        let verdict = try await reader.unary(
            SupervisionMethods.verifyAudit,
            VerifyAuditRequest(),
            options: Self.options("auditor")
        )
        #expect(verdict.intact == true, "\(verdict.firstBad ?? "") \(verdict.problem ?? "")")
        #expect(verdict.entriesChecked! >= UInt64(ids.count))
        await reader.close()
        second.terminate()
        second.waitUntilExit()

        // The offline verifier on a copy of the SQLite file: intact, then broken after one byte changes.
        guard !ProcessStorage.onPostgres else { return }
        let database = "\(data)/supervision/supervision.sqlite"
        let copy = "\(data)/copy.sqlite"
        // As an operator would copy it (sqlite3's .backup): the WAL's pages come along.
        try DatabaseQueue(path: database).backup(to: DatabaseQueue(path: copy))
        let clean = try Self.verifier(copy)
        #expect(clean.status == 0 && clean.output.contains("intact"), "\(clean.output)")
        let queue = try DatabaseQueue(path: copy)
        try await queue.write { db in
            try db.execute(sql: "UPDATE action SET subject_ref = 'of_1-X' WHERE rowid = 10")
        }
        try queue.close()
        let broken = try Self.verifier(copy)
        #expect(broken.status == 1 && broken.output.contains("BROKEN at action ac_10"), "\(broken.output)")
    }
}
