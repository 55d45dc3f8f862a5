import AccordMessages
import AccordRPC
import Foundation

/// Seeds a supervision service through its API for the `act` and `report` scenarios: JEM
/// agreements (one per agency, as if from an ICE sheet) each with a supervisor, officers
/// certified and so authorized under them, and optionally a body of recorded actions. Ids are
/// fixed ("ag_load_N", "of_load_N"), so seeding the same server again adds nothing but actions.
enum SupervisionSeed {
    static func log(_ text: String) {
        FileHandle.standardError.write("\(text)\n".data(using: .utf8)!)
    }

    static func officer(_ index: Int) -> String { "of_load_\(index)" }

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
        options: CallOptions
    ) async throws {
        let client = RPCClient(endpoints: [endpoint])
        let supervisor = try await client.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(
                supervisor: Supervisor(name: "Load Supervisor", component: .ice, office: "ERO Load")
            ),
            options: options
        ).id
        try await Self.parallel(agreements, label: "agreements") { index in
            let agreement = try await client.unary(
                SupervisionMethods.importAgreement,
                ImportAgreementRequest(
                    agencyId: "ag_load_\(index)",
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
        // Seeded before (by an earlier run against the same server): the last officer is authorized.
        let seeded =
            (try? await client.unary(
                SupervisionMethods.getAuthorization,
                GetAuthorizationRequest(officerId: Self.officer(officers - 1)),
                options: options
            )) != nil
        try await Self.parallel(seeded ? 0 : officers, label: "officers") { index in
            _ = try await client.unary(
                SupervisionMethods.notifyCertified,
                NotifyCertifiedRequest(
                    officerId: Self.officer(index),
                    agencyId: "ag_load_\(index % agreements)",
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

    /// A transport record (delegated to JEM everywhere), performed a moment ago.
    static func action(officer: Int, sequence: Int) -> RecordActionRequest {
        RecordActionRequest(
            action: DelegatedAction(
                officerId: Self.officer(officer),
                function: .transport,
                performedAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                place: .jail,
                subjectRef: "LOAD-\(sequence)",
                outcome: "transferred"
            )
        )
    }
}
