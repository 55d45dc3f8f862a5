import AccordMessages
import AccordRPC
import AccordWire
import Foundation
import Testing

/// The gateway takes a backend out only for its own failures, over real processes: a service
/// that answers UNAVAILABLE because a service it depends on is down is still healthy.
@Suite("gateway: failing safe", .timeLimit(.minutes(3)))
struct GatewayFailSafeTests {
    @Test("intake down: qualification and supervision calls that do not need intake all succeed")
    func dependencyDown() async throws {
        let set = try CLITests.start(seedICE: false)
        defer { set.stop() }
        let gateway = RPCClient(endpoints: [try #require(Endpoint(set.gateway))])
        defer { Task { await gateway.close() } }
        let office = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(set.tokens["program-office"] ?? "")"])
        let agency = try await gateway.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Llano County Sheriff's Office", type: .county)),
            options: office
        )
        // The agency's token (the set's) is scoped to the first agency: this one.
        #expect(agency.id == "ag_1")
        let own = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(set.tokens["agency"] ?? "")"])
        let officer = try await gateway.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agency.id,
                    model: .tfm,
                    name: "Sam Ito",
                    usCitizen: true,
                    swornSince: "2015-01-01"
                )
            ),
            options: own
        )
        let intake = try #require(set.processes["intake"])
        kill(intake.processIdentifier, SIGKILL)
        intake.waitUntilExit()

        // Calls that need intake fail UNAVAILABLE, relayed by the service that asked it...
        for attempt in 0..<3 {
            do {
                _ = try await gateway.unary(
                    QualificationMethods.nominateOfficer,
                    NominateOfficerRequest(
                        officer: Officer(
                            agencyId: agency.id,
                            model: .tfm,
                            name: "Kim Lee \(attempt)",
                            usCitizen: true,
                            swornSince: "2015-01-01"
                        )
                    ),
                    options: own
                )
                Issue.record("a nomination was checked with an intake that is down")
            } catch let error as RPCError {
                #expect(error.code == .unavailable, "\(error)")
            }
            do {
                _ = try await gateway.unary(
                    SupervisionMethods.offerAgreement,
                    OfferAgreementRequest(requestId: "rq_1", office: "ERO Houston"),
                    options: office
                )
                Issue.record("an offer was checked with an intake that is down")
            } catch let error as RPCError {
                #expect(error.code == .unavailable, "\(error)")
            }
        }
        // ...and the services that relayed it stay in: calls that do not need intake all succeed.
        var failures: [String] = []
        for index in 0..<16 {
            do {
                let shown = try await gateway.unary(
                    QualificationMethods.getOfficer,
                    GetOfficerRequest(officerId: officer.id),
                    options: office
                )
                #expect(shown.id == officer.id)
                _ = try await gateway.unary(
                    SupervisionMethods.createSupervisor,
                    CreateSupervisorRequest(
                        supervisor: Supervisor(name: "Supervisor \(index)", component: .ice, office: "ERO Houston")
                    ),
                    options: office
                )
            } catch {
                failures.append("\(error)")
            }
        }
        #expect(failures.count == 0, "\(failures.count) of 16 failed: \(failures.first ?? "")")
        let operations = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(set.tokens["operator"] ?? "")"])
        let backends = try await gateway.unary(GatewayMethods.getBackends, GetBackendsRequest(), options: operations)
        let states = Dictionary(uniqueKeysWithValues: backends.backends.map { ($0.service ?? "", $0.state) })
        #expect(states["qualification"] == .healthy && states["supervision"] == .healthy, "\(backends)")
        // The one that is out says why and since when.
        let out = try await SupervisionProcessTests.eventually {
            let shown = try await gateway.unary(GatewayMethods.getBackends, GetBackendsRequest(), options: operations)
            return shown.backends.first { $0.service == "intake" && $0.state == .unhealthy && $0.outSinceMs != nil }
        }
        #expect(out?.lastError?.isEmpty == false, "\(String(describing: out))")
    }

    @Test("a hung backend (SIGSTOP): the dossier answers partial within its branch timeout plus a small slack")
    func hungBackend() async throws {
        let set = try CLITests.start(seedICE: false)
        defer { set.stop() }
        // A gateway whose branches get 2 s, and whose health checks (once a minute) do not take
        // the hung backend out during the call: its deadlines alone bound it.
        let (process, port) = try EchoProcessTests.startServer(
            "accord-gateway",
            arguments: set.gatewayArguments + ["--health-seconds", "60", "--branch-timeout-ms", "2000"]
        )
        defer { process.terminate() }
        let gateway = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        defer { Task { await gateway.close() } }
        let office = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(set.tokens["program-office"] ?? "")"])
        let agency = try await gateway.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Mason County Sheriff's Office", type: .county)),
            options: office
        )
        let intake = try #require(set.processes["intake"])
        kill(intake.processIdentifier, SIGSTOP)
        defer { kill(intake.processIdentifier, SIGCONT) }
        let started = ContinuousClock.now
        let dossier = try await gateway.unary(
            GatewayMethods.getDossier,
            GetDossierRequest(agency: agency.id),
            options: office
        )
        let took = ContinuousClock.now - started
        #expect(
            dossier.partial == true && dossier.missing.contains { $0.hasPrefix("intake: agency") },
            "\(dossier.missing)"
        )
        #expect(dossier.missing.contains { $0.hasPrefix("intake: requests") }, "\(dossier.missing)")
        // Before, the agency was looked up first with a budget of its own and the branches then
        // had theirs: 4 s for a 2 s branch timeout.
        #expect(took < .milliseconds(3000), "took \(took) for a 2 s branch timeout")
        #expect(took >= .milliseconds(1900), "took \(took): the hung branches were waited for, up to the budget")
        // A call forwarded to the hung backend ends at its own deadline.
        var quick = office
        quick.timeout = .milliseconds(500)
        let forwarded = ContinuousClock.now
        do {
            _ = try await gateway.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: agency.id), options: quick)
            Issue.record("a stopped intake answered")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded, "\(error)")
        }
        let waited = ContinuousClock.now - forwarded
        #expect(waited < .milliseconds(1500), "a 500 ms call to a hung backend took \(waited)")
    }
}
