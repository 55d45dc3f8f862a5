import AccordMessages
import AccordRPC
import Foundation
import Synchronization

/// Seeds a supervision service through its API for the `act` and `report` scenarios: JEM
/// agreements (one per agency, as if from an ICE sheet) each with a supervisor, officers
/// certified and so authorized under them, and optionally a body of recorded actions. Ids are
/// fixed ("ag_load_N", "of_load_N"), so seeding the same server again adds nothing but actions.
enum SupervisionSeed {
    static func log(_ text: String) {
        FileHandle.standardError.write("\(text)\n".data(using: .utf8)!)
    }

    /// The seeded officer `index`: of the agencies intake has (`own`, each acting with its own
    /// token through the gateway) or of agencies only supervision knows.
    static func officer(_ index: Int, own: Bool = false) -> String { own ? "of_loadag_\(index)" : "of_load_\(index)" }

    /// Runs `body` for 0..<count, `width` at a time, printing progress every `every` items.
    static func parallel(
        _ count: Int,
        width: Int = 64,
        label: String,
        every: Int = 10_000,
        _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        var done = 0
        while done < count {
            let batch = min(width * 16, count - done)
            let start = done
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<width {
                    group.addTask {
                        var index = start + lane
                        while index < start + batch {
                            try await body(index)
                            index += width
                        }
                    }
                }
                try await group.waitForAll()
            }
            let before = done
            done += batch
            if done / every != before / every || done == count { Self.log("\(label): \(done) of \(count)") }
        }
    }

    static func seed(
        agreements: Int,
        officers: Int,
        actions: Int,
        at endpoint: Endpoint,
        options: CallOptions,
        registeringAgencies: Bool = false
    ) async throws {
        let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
        // Seeded before (by an earlier run against the same server): the last officer is authorized.
        let seeded =
            (try? await client.unary(
                SupervisionMethods.getAuthorization,
                GetAuthorizationRequest(officerId: Self.officer(officers - 1, own: registeringAgencies)),
                options: options
            )) != nil
        // Through the gateway the agencies are real ones (intake's), so that each can be given a
        // token; straight to supervision, ids intake never heard of do.
        let agencies =
            registeringAgencies && !seeded
            ? try await AccordLoad.registerAgencies(agreements, at: endpoint, options: options)
            : (0..<agreements).map { "ag_load_\($0)" }
        // Agencies registered by an earlier run through the gateway hold their agreements already.
        let importing = !(registeringAgencies && seeded)
        let supervisor = try await client.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(
                supervisor: Supervisor(name: "Load Supervisor", component: .ice, office: "ERO Load")
            ),
            options: options
        ).id
        try await Self.parallel(importing ? agreements : 0, label: "agreements") { index in
            let agreement = try await client.unary(
                SupervisionMethods.importAgreement,
                ImportAgreementRequest(
                    agencyId: agencies[index],
                    agencyName: "Load County \(index)",
                    state: ["TX", "FL", "GA", "AZ", "NC"][index % 5],
                    model: .jem,
                    signedOn: "2025-01-02",
                    sheet: "accord-load"
                ),
                options: options
            )
            if agreement.supervisorId == nil {
                _ = try await client.unary(
                    SupervisionMethods.assignSupervisor,
                    AssignSupervisorRequest(supervisorId: supervisor, agreementId: agreement.id),
                    options: options
                )
            }
        }
        try await Self.parallel(seeded ? 0 : officers, label: "officers") { index in
            _ = try await client.unary(
                SupervisionMethods.notifyCertified,
                NotifyCertifiedRequest(
                    officerId: Self.officer(index, own: registeringAgencies),
                    agencyId: agencies[index % agreements],
                    model: .jem,
                    name: "Load Officer \(index)",
                    certifiedOn: "2025-03-01"
                ),
                options: options
            )
        }
        if actions > 0 {
            try await Self.parallel(actions, label: "actions", every: 100_000) { index in
                _ = try await client.unary(
                    SupervisionMethods.recordAction,
                    Self.action(officer: index % officers, sequence: index),
                    options: options
                )
            }
        }
        await client.close()
    }

    /// A token for the agency of each of the first `count` seeded officers (officer i's agency is
    /// agency i modulo the agreements), made by the operator; the options each agency calls with.
    static func agencyTokens(
        _ count: Int,
        at endpoint: Endpoint,
        options: CallOptions,
        operator operatorOptions: CallOptions
    ) async throws -> [CallOptions] {
        let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
        let made = Mutex([Int: CallOptions]())
        try await Self.parallel(count, label: "agency tokens") { index in
            let agency = try await client.unary(
                SupervisionMethods.getAuthorization,
                GetAuthorizationRequest(officerId: Self.officer(index, own: true)),
                options: options
            ).agencyId
            let token = try await client.unary(
                GatewayMethods.createToken,
                CreateTokenRequest(role: "agency", scope: agency, name: "accord-load", expiresInSeconds: 86_400),
                options: operatorOptions
            ).token
            made.withLock { $0[index] = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(token ?? "")"]) }
        }
        await client.close()
        return made.withLock { made in (0..<count).map { made[$0]! } }
    }

    /// A transport record (delegated to JEM everywhere), performed a moment ago.
    static func action(officer: Int, sequence: Int, own: Bool = false) -> RecordActionRequest {
        RecordActionRequest(
            action: DelegatedAction(
                officerId: Self.officer(officer, own: own),
                function: .transport,
                performedAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                place: .jail,
                subjectRef: "LOAD-\(sequence)",
                outcome: "transferred"
            )
        )
    }
}
