import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import Synchronization
import Testing

/// Two replicas of every service on one PostgreSQL, behind the gateway, as real processes.
@Suite(
    "a cluster of replicas on PostgreSQL: a replica killed under load, replicas racing for the same row",
    .enabled(if: PrivatePostgres.installed, "needs PostgreSQL 15 (make test installs it)"),
    .timeLimit(.minutes(3))
)
struct ClusterFaultTests {
    /// What the writers were told was stored, through the gateway.
    final class Acknowledged: Sendable {
        let agencies = Mutex<[String]>([])
        let requests = Mutex<[String]>([])
        let officers = Mutex<[String]>([])
        let supervisors = Mutex<[String]>([])
        let failures = Mutex<[RPCError]>([])
        /// Rounds (one write to each service) completed, and those after the kill.
        let rounds = Atomic<Int>(0)
        let roundsAfterKill = Atomic<Int>(0)
        let killed = Atomic<Bool>(false)
    }

    /// One round of writes through the gateway: an agency and its request (intake; the request's
    /// evaluation goes through intake's outbox to qualification and back), an officer
    /// (qualification), a supervisor (supervision, on the audit chain).
    static func round(_ client: RPCClient, _ cluster: Cluster, _ name: String, _ seen: Acknowledged) async throws {
        let options = cluster.options(timeout: .seconds(5))
        let agency = try await client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(
                agency: Agency(state: "TX", name: name, type: .county, hasJail: true, jailCapacity: 40)
            ),
            options: options
        )
        seen.agencies.withLock { $0.append(agency.id!) }
        let request = try await client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(
                request: ParticipationRequest(
                    agencyId: agency.id,
                    model: .jem,
                    partner: .ice,
                    consent: Consent(officialName: "Sheriff \(name)", office: "Sheriff", signedOn: "2026-11-02"),
                    needs: NeedsAssessment(expectedAnnualEncounters: 50, detentionCapacity: 40, officersProposed: 2)
                )
            ),
            options: options
        )
        seen.requests.withLock { $0.append(request.id!) }
        let own = try await cluster.agencyOptions(client, agency.id)
        let officer = try await client.unary(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agency.id,
                    model: .jem,
                    name: "Officer of \(name)",
                    usCitizen: true,
                    swornSince: "2015-06-01"
                )
            ),
            options: own
        )
        seen.officers.withLock { $0.append(officer.id!) }
        let supervisor = try await client.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(
                supervisor: Supervisor(name: "Supervisor for \(name)", component: .ice, office: "ERO")
            ),
            options: options
        )
        seen.supervisors.withLock { $0.append(supervisor.id!) }
    }

    @Test(
        "SIGKILL one replica of each service under writes through the gateway: nothing acknowledged lost, the trail verifies, the survivors deliver the outbox, the gateway stops sending to the dead"
    )
    func killOneReplicaOfEach() async throws {
        let cluster = try await Cluster.start()
        defer { cluster.stop() }
        let client = RPCClient(endpoints: [cluster.gateway.endpoint])
        try await cluster.waitForBackends(client, healthy: cluster.allReplicas)
        let seen = Acknowledged()
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<6 {
                    group.addTask {
                        // Bounded: until 60 rounds were done after the kill, or 2000 tries.
                        for index in 0..<2000 where seen.roundsAfterKill.load(ordering: .relaxed) < 60 {
                            do {
                                try await Self.round(client, cluster, "Cluster Agency \(writer)-\(index)", seen)
                                seen.rounds.add(1, ordering: .relaxed)
                                if seen.killed.load(ordering: .relaxed) {
                                    seen.roundsAfterKill.add(1, ordering: .relaxed)
                                }
                            } catch let error as RPCError {
                                seen.failures.withLock { $0.append(error) }
                                try? await Task.sleep(for: .milliseconds(20))
                            } catch {
                                seen.failures.withLock { $0.append(RPCError(.unknown, "\(error)")) }
                            }
                        }
                    }
                }
            }
        }
        try await PostgresFaultTests.waitUntil("30 rounds of writes") { seen.rounds.load(ordering: .relaxed) >= 30 }
        let dead = Cluster.services.map { cluster.replicas[$0]![0] }
        for replica in dead { kill(replica.process.processIdentifier, SIGKILL) }
        seen.killed.store(true, ordering: .relaxed)
        for replica in dead { replica.process.waitUntilExit() }
        let survivors = Cluster.services.map { cluster.replicas[$0]![1].endpoint }
        // Health checks every second: the gateway takes the dead out of rotation within a few.
        let noticed = try await cluster.waitForBackends(
            client,
            healthy: survivors,
            unhealthy: dead.map(\.endpoint),
            limit: .seconds(10)
        )
        await writers.value
        #expect(seen.roundsAfterKill.load(ordering: .relaxed) >= 60, "the writers did not carry on after the kill")
        let failures = seen.failures.withLock { $0 }
        #expect(
            failures.allSatisfy { $0.code == .unavailable || $0.code == .deadlineExceeded },
            "\(failures.map(\.description).prefix(5))"
        )
        // Once the gateway knows, nothing more fails: every call goes to the survivors.
        let failedBefore = failures.count
        for index in 0..<10 { try await Self.round(client, cluster, "After Agency \(index)", seen) }
        #expect(seen.failures.withLock { $0.count } == failedBefore)
        try await Self.expectEverythingThere(seen, client, cluster)
        print("gateway marked the killed replicas unhealthy \(noticed) after the kill; \(failures.count) calls failed")
        await client.close()
    }

    /// Every acknowledged write is there; every request was evaluated (its evaluation went out
    /// of an outbox, some of it held by a killed replica); the audit trail verifies.
    static func expectEverythingThere(_ seen: Acknowledged, _ client: RPCClient, _ cluster: Cluster) async throws {
        let options = cluster.options()
        for id in seen.agencies.withLock({ $0 }) {
            let agency = try await client.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: id), options: options)
            #expect(agency.id == id)
        }
        for id in seen.officers.withLock({ $0 }) {
            let officer = try await client.unary(
                QualificationMethods.getOfficer,
                GetOfficerRequest(officerId: id),
                options: options
            )
            #expect(officer.id == id)
        }
        var supervisors: Set<String> = []
        var token: String?
        repeat {
            let page = try await client.unary(
                SupervisionMethods.listSupervisors,
                ListSupervisorsRequest(page: PageRequest(pageSize: 1000, pageToken: token)),
                options: options
            )
            supervisors.formUnion(page.supervisors.compactMap(\.id))
            token = page.page?.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        let missing = Set(seen.supervisors.withLock { $0 }).subtracting(supervisors)
        #expect(missing.isEmpty, "\(missing.count) acknowledged supervisors are missing")
        // The outbox: every request leaves `received` once qualification's decision is back.
        let requests = seen.requests.withLock { $0 }
        var waiting = Set(requests)
        let deadline = ContinuousClock.now + .seconds(60)
        while !waiting.isEmpty, ContinuousClock.now < deadline {
            for id in waiting {
                let request = try await client.unary(
                    IntakeMethods.getRequest,
                    GetRequestRequest(requestId: id),
                    options: options
                )
                if request.status != .received { waiting.remove(id) }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(waiting.isEmpty, "\(waiting.count) of \(requests.count) requests were never evaluated")
        let verdict = try await client.unary(
            SupervisionMethods.verifyAudit,
            VerifyAuditRequest(),
            options: cluster.options("auditor", timeout: .seconds(30))
        )
        #expect(verdict.intact == true, "\(verdict.firstBad ?? "") \(verdict.problem ?? "")")
        #expect(verdict.entriesChecked ?? 0 >= UInt64(supervisors.count))
    }

    @Test(
        "two replicas writing the same agency, request or idempotency key at once: one wins, the other is told so"
    )
    func replicasRace() async throws {
        let cluster = try await Cluster.start()
        defer { cluster.stop() }
        let credential = try String(contentsOfFile: "\(cluster.data)/credential", encoding: .utf8)
        let intake = cluster.replicas["intake"]!.map { RPCClient(endpoints: [$0.endpoint]) }
        func options(_ key: String? = nil) -> CallOptions {
            var metadata: Metadata = [
                TrustMetadata.principal: "program-office", TrustMetadata.internalCredential: credential,
            ]
            metadata.set(MetadataKey.idempotencyKey, key)
            return CallOptions(timeout: .seconds(10), metadata: metadata)
        }
        func register(_ replica: Int, _ name: String) async -> Result<Agency, RPCError> {
            await Self.result {
                try await intake[replica].unary(
                    IntakeMethods.registerAgency,
                    RegisterAgencyRequest(agency: Agency(state: "NM", name: name, type: .municipality)),
                    options: options()
                )
            }
        }
        func submit(_ replica: Int, _ agency: String, key: String?) async -> Result<ParticipationRequest, RPCError> {
            await Self.result {
                try await intake[replica].unary(
                    IntakeMethods.submitRequest,
                    SubmitRequestRequest(
                        request: ParticipationRequest(
                            agencyId: agency,
                            model: .tfm,
                            partner: .ice,
                            consent: Consent(officialName: "Chief", office: "Chief of Police", signedOn: "2026-11-02"),
                            needs: NeedsAssessment(
                                expectedAnnualEncounters: 5,
                                detentionCapacity: 0,
                                officersProposed: 1
                            )
                        )
                    ),
                    options: options(key)
                )
            }
        }
        for round in 0..<20 {
            // The same agency at once on both replicas: one is registered, the other names it.
            async let first = register(0, "Race Police \(round)")
            async let second = register(1, "Race Police \(round)")
            let both = await [first, second]
            let made = both.compactMap { try? $0.get() }
            let refused = both.compactMap { if case .failure(let error) = $0 { error } else { nil } }
            #expect(made.count == 1 && refused.count == 1, "round \(round): \(both)")
            guard let agency = made.first?.id, let loser = refused.first else { continue }
            #expect(loser.code == .alreadyExists && loser.errorDetails?.reason == "DUPLICATE_AGENCY", "\(loser)")
            #expect(loser.errorDetails?.metadata.first { $0.key == "agency_id" }?.value == agency)

            // The same idempotency key at once: both get the one request.
            async let keyed0 = submit(0, agency, key: "race-\(round)")
            async let keyed1 = submit(1, agency, key: "race-\(round)")
            let keyedResults = await [keyed0, keyed1]
            let keyed = keyedResults.map { try? $0.get() }
            #expect(keyed[0]?.id != nil && keyed[0]?.id == keyed[1]?.id, "round \(round): \(keyedResults)")
            guard let requestID = keyed.compactMap({ $0?.id }).first else { continue }

            // A second request of the same model without a key, at once: one open request only.
            _ = try await intake[0].unary(
                IntakeMethods.withdrawRequest,
                WithdrawRequestRequest(requestId: requestID, reason: "race test"),
                options: options()
            )
            async let open0 = submit(0, agency, key: nil)
            async let open1 = submit(1, agency, key: nil)
            let open = await [open0, open1]
            let opened = open.compactMap { try? $0.get() }
            let turnedAway = open.compactMap { if case .failure(let error) = $0 { error } else { nil } }
            #expect(opened.count == 1 && turnedAway.count == 1, "round \(round): \(open)")
            if let winner = opened.first?.id, let other = turnedAway.first {
                #expect(other.code == .alreadyExists && other.errorDetails?.reason == "OPEN_REQUEST_EXISTS", "\(other)")
                #expect(other.errorDetails?.metadata.first { $0.key == "request_id" }?.value == winner)
            }
        }
        for client in intake { await client.close() }
    }

    static func result<T>(_ body: () async throws -> T) async -> Result<T, RPCError> {
        do { return .success(try await body()) } catch let error as RPCError {
            return .failure(error)
        } catch { return .failure(RPCError(.unknown, "\(error)")) }
    }
}
