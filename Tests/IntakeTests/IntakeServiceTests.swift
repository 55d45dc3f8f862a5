import AccordMessages
import AccordRPC
import Testing

@testable import Intake

@Suite("Intake over loopback with a real SQLite file", .timeLimit(.minutes(2)))
struct IntakeServiceTests {
    @Test("agencies: register, get by id or ORI, duplicates refused naming the existing one")
    func agencies() async throws {
        let intake = try await IntakeHarness.start()
        let first = try await intake.register(IntakeHarness.agency("Travis County Sheriff's Office", ori: "TX2270000"))
        #expect(first.id == "ag_1")
        #expect(first.created?.who == "unattributed (program-office)" && first.created?.why == "test")
        #expect(try await intake.client.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: "tx2270000")) == first)

        do {
            _ = try await intake.register(IntakeHarness.agency("TRAVIS COUNTY SHERIFFS OFFICE"))
            Issue.record("a duplicate name was accepted")
        } catch let error as RPCError {
            #expect(error.code == .alreadyExists)
            #expect(error.message.contains("ag_1"))
            #expect(error.errorDetails?.metadata.first?.value == "ag_1")
        }
        await #expect(throws: RPCError.self) {
            try await intake.register(IntakeHarness.agency("Another Office", ori: "TX2270000"))
        }
        await #expect(throws: RPCError(.notFound, "agency ag_99 not found (give an agency id or an ORI)")) {
            try await intake.client.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: "ag_99"))
        }
        await intake.stop()
    }

    @Test("update: given fields replace, cleared fields are emptied; a bad clear changes nothing")
    func updateAndClear() async throws {
        let intake = try await IntakeHarness.start()
        let agency = try await intake.register(IntakeHarness.agency("Travis County Sheriff's Office", ori: "TX2270000"))
        let updated = try await intake.client.unary(
            IntakeMethods.updateAgency,
            UpdateAgencyRequest(agency: Agency(id: agency.id, jailCapacity: 650), reason: "new wing", clear: ["ori"])
        )
        #expect(updated.jailCapacity == 650 && updated.ori == nil && updated.county == agency.county)
        #expect(updated.updated?.why == "new wing")
        for (clear, patch, problem) in [
            (["name"], Agency(id: agency.id), "name cannot be cleared"),
            (["county"], Agency(id: agency.id, county: "Hays County"), "county is both given and cleared"),
        ] {
            do {
                _ = try await intake.client.unary(
                    IntakeMethods.updateAgency,
                    UpdateAgencyRequest(agency: patch, clear: clear)
                )
                Issue.record("clear \(clear) was accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains(problem), "\(error)")
                #expect(error.errorDetails?.fieldViolations.first?.field == "clear")
            }
        }
        let stored = try await intake.client.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: agency.id))
        #expect(stored == updated)
        await intake.stop()
    }

    @Test(
        "bad agency fields: INVALID_ARGUMENT naming the field, and nothing stored",
        arguments: [
            ("agency.state", Agency(state: "ZZ", name: "A", type: .county)),
            ("agency.name", Agency(state: "TX", name: "   ", type: .county)),
            ("agency.name", Agency(state: "TX", name: String(repeating: "n", count: 201), type: .county)),
            ("agency.type", Agency(state: "TX", name: "A", type: .unrecognized(9))),
            ("agency.type", Agency(state: "TX", name: "A", type: .unspecified)),
            ("agency.ori", Agency(state: "TX", name: "A", type: .county, ori: "FL1234567")),
            ("agency.ori", Agency(state: "TX", name: "A", type: .county, ori: "TX12")),
            ("agency.jail_capacity", Agency(state: "TX", name: "A", type: .county, hasJail: false, jailCapacity: 10)),
            ("agency.name", Agency(state: "TX", name: "A\u{7}", type: .county)),
        ]
    )
    func badAgencies(field: String, agency: Agency) async throws {
        let intake = try await IntakeHarness.start()
        do {
            _ = try await intake.register(agency)
            Issue.record("accepted a bad \(field)")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(error.errorDetails?.fieldViolations.first?.field == field, "\(error)")
        }
        #expect(try await intake.allAgencies().isEmpty)
        await intake.stop()
    }

    @Test("lists filter and page; a forged or foreign page token is refused")
    func listsAndPages() async throws {
        let intake = try await IntakeHarness.start()
        for index in 0..<25 {
            _ = try await intake.register(IntakeHarness.agency("Agency \(index)", state: index % 2 == 0 ? "TX" : "FL"))
        }
        let texas = try await intake.client.unary(
            IntakeMethods.listAgencies,
            ListAgenciesRequest(state: "tx", page: PageRequest(pageSize: 5))
        )
        #expect(texas.agencies.count == 5 && texas.agencies.allSatisfy { $0.state == "TX" })
        var all = texas.agencies
        var token = texas.page?.nextPageToken
        while let next = token {
            let page = try await intake.client.unary(
                IntakeMethods.listAgencies,
                ListAgenciesRequest(state: "TX", page: PageRequest(pageSize: 5, pageToken: next))
            )
            all += page.agencies
            token = page.page?.nextPageToken
        }
        #expect(all.count == 13)
        #expect(Set(all.map(\.id)).count == 13)

        let prefixed = try await intake.client.unary(
            IntakeMethods.listAgencies,
            ListAgenciesRequest(namePrefix: "agency 1")
        )
        #expect(prefixed.agencies.count == 11)  // 1 and 10...19

        for forged in ["zzz", "1.abc", texas.page!.nextPageToken! + "x"] {
            await #expect(throws: RPCError.self) {
                try await intake.client.unary(
                    IntakeMethods.listAgencies,
                    ListAgenciesRequest(state: "TX", page: PageRequest(pageToken: forged))
                )
            }
        }
        // A token from the Texas list does not page the Florida list.
        await #expect(throws: RPCError.self) {
            try await intake.client.unary(
                IntakeMethods.listAgencies,
                ListAgenciesRequest(state: "FL", page: PageRequest(pageToken: texas.page!.nextPageToken!))
            )
        }
        var exported = 0
        for try await _ in try await intake.client.serverStreaming(
            IntakeMethods.exportAgencies,
            ExportAgenciesRequest()
        ) {
            exported += 1
        }
        #expect(exported == 25)
        await intake.stop()
    }

    @Test("requests: the state machine, one open request per agency, model and partner")
    func requestLifecycle() async throws {
        let intake = try await IntakeHarness.start()
        let agency = try await intake.register(IntakeHarness.agency("Bexar County Sheriff's Office"))
        let submitted = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!))
        )
        #expect(submitted.status == .received && submitted.revision == 1 && submitted.source == "api")

        await #expect(throws: RPCError.self) {
            try await intake.client.unary(
                IntakeMethods.submitRequest,
                SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!))
            )
        }
        // Another partner is another request.
        _ = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!, partner: .cbp))
        )

        do {
            _ = try await intake.client.unary(
                IntakeMethods.amendRequest,
                AmendRequestRequest(
                    requestId: submitted.id,
                    revision: 1,
                    needs: NeedsAssessment(expectedAnnualEncounters: 1, detentionCapacity: 1, officersProposed: 1)
                )
            )
            Issue.record("amended a received request")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("REQUEST_STATUS_RECEIVED"))
        }

        let deficient = try await intake.client.unary(
            IntakeMethods.recordDecision,
            RecordDecisionRequest(
                requestId: submitted.id,
                revision: 1,
                status: .deficient,
                deficiencies: [Deficiency(code: "NO_JAIL", message: "JEM needs a jail")],
                rulesVersion: "rules-1"
            )
        )
        #expect(deficient.status == .deficient && deficient.deficiencies.first?.code == "NO_JAIL")
        // The same decision again (a redelivery) changes nothing.
        let again = try await intake.client.unary(
            IntakeMethods.recordDecision,
            RecordDecisionRequest(
                requestId: submitted.id,
                revision: 1,
                status: .deficient,
                deficiencies: [Deficiency(code: "NO_JAIL", message: "JEM needs a jail")],
                rulesVersion: "rules-1"
            )
        )
        #expect(again == deficient)

        let amended = try await intake.client.unary(
            IntakeMethods.amendRequest,
            AmendRequestRequest(
                requestId: submitted.id,
                revision: 1,
                needs: NeedsAssessment(expectedAnnualEncounters: 10, detentionCapacity: 50, officersProposed: 2)
            )
        )
        #expect(amended.status == .received && amended.revision == 2 && amended.deficiencies.isEmpty)
        await #expect(throws: RPCError.self) {  // a decision on the old revision
            try await intake.client.unary(
                IntakeMethods.recordDecision,
                RecordDecisionRequest(requestId: submitted.id, revision: 1, status: .qualified, rulesVersion: "rules-1")
            )
        }
        let withdrawn = try await intake.client.unary(
            IntakeMethods.withdrawRequest,
            WithdrawRequestRequest(requestId: submitted.id, reason: "changed our mind")
        )
        #expect(withdrawn.status == .withdrawn)
        await #expect(throws: RPCError.self) {
            try await intake.client.unary(
                IntakeMethods.withdrawRequest,
                WithdrawRequestRequest(requestId: submitted.id)
            )
        }
        // Withdrawn is closed: a new request for the same model and partner may be submitted.
        _ = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!))
        )
        let listed = try await intake.client.unary(
            IntakeMethods.listRequests,
            ListRequestsRequest(state: "TX", status: .received)
        )
        #expect(listed.requests.count == 2)

        // Supervision's progress: only a qualified request is offered, only an offered one signed.
        let cbp = listed.requests.first { $0.partner == .cbp }!
        func progress(_ status: RequestStatus) async throws -> ParticipationRequest {
            try await intake.client.unary(
                IntakeMethods.recordAgreementProgress,
                RecordAgreementProgressRequest(requestId: cbp.id, status: status, agreementId: "mo_1")
            )
        }
        do {
            _ = try await progress(.agreementOffered)
            Issue.record("offered an agreement on a request that is not qualified")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("REQUEST_STATUS_RECEIVED"))
        }
        await #expect(throws: RPCError.self) { try await progress(.withdrawn) }
        _ = try await intake.client.unary(
            IntakeMethods.recordDecision,
            RecordDecisionRequest(requestId: cbp.id, revision: 1, status: .qualified, rulesVersion: "rules-1")
        )
        await #expect(throws: RPCError.self) { try await progress(.signed) }
        #expect(try await progress(.agreementOffered).status == .agreementOffered)
        #expect(try await progress(.agreementOffered).status == .agreementOffered)  // redelivered
        #expect(try await progress(.signed).status == .signed)
        await intake.stop()
    }

    @Test("an idempotency key makes a second submission return the first request")
    func idempotentSubmit() async throws {
        let intake = try await IntakeHarness.start()
        let agency = try await intake.register(IntakeHarness.agency("Harris County Sheriff's Office"))
        let options = CallOptions(metadata: [MetadataKey.idempotencyKey: "submit-42"])
        let first = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!)),
            options: options
        )
        let second = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!)),
            options: options
        )
        #expect(first == second)
        let all = try await intake.client.unary(IntakeMethods.listRequests, ListRequestsRequest())
        #expect(all.requests.count == 1)
        await intake.stop()
    }

    @Test(
        "bad request fields are INVALID_ARGUMENT naming the field",
        arguments: [
            ("request.consent.signed_on", "2026-06-02"),  // tomorrow
            ("request.consent.signed_on", "2026-02-30"),
            ("request.consent.signed_on", "1/2/2026"),
        ]
    )
    func badConsentDates(field: String, date: String) async throws {
        let intake = try await IntakeHarness.start()
        let agency = try await intake.register(IntakeHarness.agency("Dallas County Sheriff's Office"))
        do {
            _ = try await intake.client.unary(
                IntakeMethods.submitRequest,
                SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!, signedOn: date))
            )
            Issue.record("accepted consent signed on \(date)")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(error.errorDetails?.fieldViolations.first?.field == field)
        }
        await intake.stop()
    }

    @Test("counts, enums and references are checked")
    func badRequestFields() async throws {
        let intake = try await IntakeHarness.start()
        let agency = try await intake.register(IntakeHarness.agency("Lubbock County Sheriff's Office"))
        var noOfficers = IntakeHarness.request(agency: agency.id!)
        noOfficers.needs?.officersProposed = 0
        var hugeCount = IntakeHarness.request(agency: agency.id!)
        hugeCount.needs?.detentionCapacity = UInt32.max  // what a negative count becomes on the wire
        var unknownModel = IntakeHarness.request(agency: agency.id!)
        unknownModel.model = .unrecognized(7)
        var noConsent = IntakeHarness.request(agency: agency.id!)
        noConsent.consent = nil
        for (field, body) in [
            ("request.needs.officers_proposed", noOfficers), ("request.needs.detention_capacity", hugeCount),
            ("request.model", unknownModel), ("request.consent", noConsent),
        ] {
            do {
                _ = try await intake.client.unary(IntakeMethods.submitRequest, SubmitRequestRequest(request: body))
                Issue.record("accepted a bad \(field)")
            } catch let error as RPCError {
                #expect(error.errorDetails?.fieldViolations.first?.field == field, "\(error)")
            }
        }
        await #expect(throws: RPCError(.notFound, "agency ag_77 not found")) {
            try await intake.client.unary(
                IntakeMethods.submitRequest,
                SubmitRequestRequest(request: IntakeHarness.request(agency: "ag_77"))
            )
        }
        #expect(try await intake.client.unary(IntakeMethods.listRequests, ListRequestsRequest()).requests.isEmpty)
        await intake.stop()
    }
}

@Suite("Engagements with officials", .timeLimit(.minutes(1)))
struct EngagementTests {
    @Test("record, list by state and outcome, and overdue follow-ups as of today")
    func engagements() async throws {
        let intake = try await IntakeHarness.start()  // today is 2026-06-01
        func record(_ state: String, _ outcome: EngagementOutcome, followUp: String?) async throws -> Engagement {
            try await intake.client.unary(
                IntakeMethods.recordEngagement,
                RecordEngagementRequest(
                    engagement: Engagement(
                        state: state,
                        officialName: "Gov. Example",
                        office: "Governor",
                        contactedOn: "2026-05-01",
                        channel: .meeting,
                        outcome: outcome,
                        followUpOn: followUp
                    )
                )
            )
        }
        let overdue = try await record("TX", .undecided, followUp: "2026-05-15")
        _ = try await record("TX", .interested, followUp: "2026-07-01")
        _ = try await record("FL", .declined, followUp: nil)
        #expect(overdue.id == "en_1" && overdue.created?.atMs == IntakeHarness.fixedNow)

        let texas = try await intake.client.unary(IntakeMethods.listEngagements, ListEngagementsRequest(state: "TX"))
        #expect(texas.engagements.count == 2)
        let late = try await intake.client.unary(
            IntakeMethods.listEngagements,
            ListEngagementsRequest(overdueFollowUp: true)
        )
        #expect(late.engagements.map(\.id) == ["en_1"])
        let declined = try await intake.client.unary(
            IntakeMethods.listEngagements,
            ListEngagementsRequest(outcome: .declined)
        )
        #expect(declined.engagements.map(\.state) == ["FL"])

        for (field, engagement) in [
            (
                "engagement.contacted_on",
                Engagement(
                    state: "TX",
                    officialName: "A",
                    office: "Mayor",
                    contactedOn: "2026-06-02",
                    channel: .call,
                    outcome: .undecided
                )
            ),
            (
                "engagement.follow_up_on",
                Engagement(
                    state: "TX",
                    officialName: "A",
                    office: "Mayor",
                    contactedOn: "2026-05-02",
                    channel: .call,
                    outcome: .undecided,
                    followUpOn: "2026-05-01"
                )
            ),
            (
                "engagement.channel",
                Engagement(
                    state: "TX",
                    officialName: "A",
                    office: "Mayor",
                    contactedOn: "2026-05-02",
                    outcome: .undecided
                )
            ),
            (
                "engagement.state",
                Engagement(
                    state: "Narnia",
                    officialName: "A",
                    office: "Mayor",
                    contactedOn: "2026-05-02",
                    channel: .call,
                    outcome: .undecided
                )
            ),
        ] {
            do {
                _ = try await intake.client.unary(
                    IntakeMethods.recordEngagement,
                    RecordEngagementRequest(engagement: engagement)
                )
                Issue.record("accepted a bad \(field)")
            } catch let error as RPCError {
                #expect(error.errorDetails?.fieldViolations.first?.field == field, "\(error)")
            }
        }
        await intake.stop()
    }
}
