import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import Synchronization
import Testing

/// The internal credential is rotated while everything runs, over real processes.
@Suite("internal credential rotation", .timeLimit(.minutes(3)))
struct CredentialRotationTests {
    @Test(
        "rotated without a restart: every call through the gateway succeeds, and the old secret is refused at the end"
    )
    func rotation() async throws {
        let set = try CLITests.start(seedICE: false)
        defer { set.stop() }
        let servicesFile = "\(set.data)/credential"
        let old = try String(contentsOfFile: servicesFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        let new = "rotated-\(UUID().uuidString)"
        // A gateway of its own, with its own copy of the file (as on another host), whose log
        // says when it has taken a change.
        let gatewayFile = "\(set.data)/gateway-credential"
        try old.write(toFile: gatewayFile, atomically: true, encoding: .utf8)
        var arguments = set.gatewayArguments
        arguments[try #require(arguments.firstIndex(of: "--internal-credential-file")) + 1] = gatewayFile
        let logs = LogCollector()
        let (gatewayProcess, port) = try EchoProcessTests.startServer(
            "accord-gateway",
            arguments: arguments,
            logs: logs
        )
        defer { gatewayProcess.terminate() }
        let gateway = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        defer { Task { await gateway.close() } }
        let office = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(set.tokens["program-office"] ?? "")"])
        let agency = try await gateway.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Kerr County Sheriff's Office", type: .county)),
            options: office
        )
        // Calls through the gateway all along: intake checks the credential on each.
        let failures = Mutex<[String]>([])
        let calls = Atomic(0)
        let load = Task {
            while !Task.isCancelled {
                do {
                    _ = try await gateway.unary(
                        IntakeMethods.getAgency,
                        GetAgencyRequest(agency: agency.id),
                        options: office
                    )
                    calls.wrappingAdd(1, ordering: .relaxed)
                } catch {
                    if !Task.isCancelled { failures.withLock { $0.append("\(error)") } }
                }
            }
        }
        let services = ["--intake", "--qualification", "--supervision"].compactMap { flag in
            arguments.firstIndex(of: flag).flatMap { Endpoint(arguments[$0 + 1]) }
        }
        #expect(services.count == 3)

        // 1. Every service accepts the new secret beside the old one.
        try "\(old)\n\(new)\n".write(toFile: servicesFile, atomically: true, encoding: .utf8)
        let accepted = try await SupervisionProcessTests.eventually {
            try await Self.acceptedEverywhere(services, new) ? true : nil
        }
        #expect(accepted == true, "the services never took the new secret")
        // 2. The gateway presents the new one.
        try "\(new)\n\(old)\n".write(toFile: gatewayFile, atomically: true, encoding: .utf8)
        let taken = try await SupervisionProcessTests.eventually {
            logs.count("Internal credentials reloaded") >= 1 ? true : nil
        }
        #expect(taken == true, "the gateway never took its new file")
        // 3. The services drop the old one.
        try "\(new)\n".write(toFile: servicesFile, atomically: true, encoding: .utf8)
        let refused = try await SupervisionProcessTests.eventually {
            try await Self.refusedEverywhere(services, old) ? true : nil
        }
        #expect(refused == true, "the old secret is still accepted")
        // A few more calls after the last step, then the count.
        let before = calls.load(ordering: .relaxed)
        let more = try await SupervisionProcessTests.eventually {
            calls.load(ordering: .relaxed) >= before + 50 ? true : nil
        }
        load.cancel()
        await load.value
        #expect(more == true)
        let failed = failures.withLock { $0 }
        #expect(failed.isEmpty, "\(failed.count) calls failed during the rotation: \(failed.first ?? "")")
        #expect(calls.load(ordering: .relaxed) >= 100)
        // A file with no valid secret is not taken: the new secret still works.
        try "short\n".write(toFile: servicesFile, atomically: true, encoding: .utf8)
        _ = try await gateway.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: agency.id), options: office)
        #expect(try await Self.acceptedEverywhere(services, new))
    }

    /// Whether each service takes a call presenting `secret` (NOT_FOUND for a made-up id is
    /// taking it; UNAUTHENTICATED is refusing it).
    static func acceptedEverywhere(_ services: [Endpoint], _ secret: String) async throws -> Bool {
        try await Self.codes(services, secret).allSatisfy { $0 != .unauthenticated }
    }

    static func refusedEverywhere(_ services: [Endpoint], _ secret: String) async throws -> Bool {
        try await Self.codes(services, secret).allSatisfy { $0 == .unauthenticated }
    }

    static func codes(_ services: [Endpoint], _ secret: String) async throws -> [StatusCode] {
        let options = CallOptions(
            metadata: [TrustMetadata.principal: "program-office", TrustMetadata.internalCredential: secret]
        )
        var codes: [StatusCode] = []
        for (index, endpoint) in services.enumerated() {
            let client = RPCClient(endpoints: [endpoint])
            do {
                switch index {
                case 0:
                    _ = try await client.unary(
                        IntakeMethods.getAgency,
                        GetAgencyRequest(agency: "ag_0"),
                        options: options
                    )
                case 1:
                    _ = try await client.unary(
                        QualificationMethods.getOfficer,
                        GetOfficerRequest(officerId: "of_0"),
                        options: options
                    )
                default:
                    _ = try await client.unary(
                        SupervisionMethods.getSupervisor,
                        GetSupervisorRequest(supervisorId: "su_0"),
                        options: options
                    )
                }
                codes.append(.ok)
            } catch let error as RPCError {
                codes.append(error.code)
            }
            await client.close()
        }
        return codes
    }
}
