import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Testing

@testable import Intake

@Suite("Who may do what in intake", .timeLimit(.minutes(1)))
struct AccessTests {
    static func options(_ principal: String, name: String? = nil, credential: String? = nil) -> CallOptions {
        var metadata: Metadata = [TrustMetadata.principal: principal]
        if let name { metadata.add(TrustMetadata.principalName, name) }
        if let credential { metadata.add(TrustMetadata.internalCredential, credential) }
        return CallOptions(metadata: metadata)
    }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do {
            try await body()
            return .ok
        } catch let error as RPCError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test("an agency sees and changes only its own records; the program office registers agencies")
    func agencyScope() async throws {
        let intake = try await IntakeHarness.start()
        let office = Self.options("program-office", name: "Ana Office")
        let mine = try await intake.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: IntakeHarness.agency("Mine County Sheriff's Office")),
            options: office
        )
        #expect(mine.created?.who == "Ana Office (program-office)")
        let other = try await intake.register(IntakeHarness.agency("Other County Sheriff's Office"))
        let me = Self.options("agency:\(mine.id!)")

        #expect(
            try await intake.client.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: mine.id), options: me)
                == mine
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.getAgency,
                    GetAgencyRequest(agency: other.id),
                    options: me
                )
            } == .permissionDenied
        )
        let listed = try await intake.client.unary(IntakeMethods.listAgencies, ListAgenciesRequest(), options: me)
        #expect(listed.agencies.map(\.id) == [mine.id])
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.registerAgency,
                    RegisterAgencyRequest(agency: IntakeHarness.agency("Third")),
                    options: me
                )
            } == .permissionDenied
        )

        let request = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: mine.id!)),
            options: me
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.submitRequest,
                    SubmitRequestRequest(request: IntakeHarness.request(agency: other.id!)),
                    options: me
                )
            } == .permissionDenied
        )
        let otherRequest = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: other.id!))
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.getRequest,
                    GetRequestRequest(requestId: otherRequest.id),
                    options: me
                )
            } == .permissionDenied
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.withdrawRequest,
                    WithdrawRequestRequest(requestId: otherRequest.id),
                    options: me
                )
            } == .permissionDenied
        )
        let myRequests = try await intake.client.unary(IntakeMethods.listRequests, ListRequestsRequest(), options: me)
        #expect(myRequests.requests.map(\.id) == [request.id])
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.recordDecision,
                    RecordDecisionRequest(requestId: request.id, revision: 1, status: .qualified, rulesVersion: "r1"),
                    options: me
                )
            } == .permissionDenied
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(IntakeMethods.listEngagements, ListEngagementsRequest(), options: me)
            } == .permissionDenied
        )
        await intake.stop()
    }

    @Test("an auditor reads everything and changes nothing")
    func auditor() async throws {
        let intake = try await IntakeHarness.start()
        let agency = try await intake.register(IntakeHarness.agency("Audited County Sheriff's Office"))
        let auditor = Self.options("auditor")
        #expect(
            try await intake.client.unary(
                IntakeMethods.getAgency,
                GetAgencyRequest(agency: agency.id),
                options: auditor
            ) == agency
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.updateAgency,
                    UpdateAgencyRequest(agency: Agency(id: agency.id, county: "X")),
                    options: auditor
                )
            } == .permissionDenied
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.submitRequest,
                    SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!)),
                    options: auditor
                )
            } == .permissionDenied
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.importSheet,
                    ImportSheetRequest(kind: .pending, sheet: "x"),
                    options: auditor
                )
            } == .permissionDenied
        )
        #expect(try await intake.allAgencies().map(\.county) == ["Travis County"])
        await intake.stop()
    }

    @Test("with an internal credential set, only callers presenting it may assert a principal")
    func internalCredential() async throws {
        let secret = "s3cret-credential-0123456789"
        let intake = try await IntakeHarness.start(credential: secret)
        let request = RegisterAgencyRequest(agency: IntakeHarness.agency("Guarded County Sheriff's Office"))
        #expect(
            await Self.code { _ = try await intake.client.unary(IntakeMethods.registerAgency, request) }
                == .unauthenticated
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.registerAgency,
                    request,
                    options: Self.options("operator", credential: "wrong")
                )
            } == .unauthenticated
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.registerAgency,
                    request,
                    options: Self.options("czar", credential: secret)
                )
            } == .unauthenticated
        )
        #expect(
            await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.registerAgency,
                    request,
                    options: Self.options("program-office", credential: secret)
                )
            } == .ok
        )
        // Health stays open for probes.
        #expect(try await intake.client.unary(HealthMethods.check, HealthCheckRequest()).status == .serving)
        await intake.stop()
    }

    @Test("during a rotation both internal credentials are accepted, and nothing else")
    func rotation() async throws {
        let current = "current-secret-0123456789"
        let next = "next-secret-9876543210abc"
        let intake = try await IntakeHarness.start(accepting: [current, next])
        defer { Task { await intake.stop() } }
        for credential in [current, next] {
            let listed = await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.listAgencies,
                    ListAgenciesRequest(),
                    options: Self.options("auditor", credential: credential)
                )
            }
            #expect(listed == .ok)
        }
        for credential in ["previous-secret-555555555", nil] as [String?] {
            let refused = await Self.code {
                _ = try await intake.client.unary(
                    IntakeMethods.listAgencies,
                    ListAgenciesRequest(),
                    options: Self.options("auditor", credential: credential)
                )
            }
            #expect(refused == .unauthenticated)
        }
    }
}
