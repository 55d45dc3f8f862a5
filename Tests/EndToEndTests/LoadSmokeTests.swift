import Foundation
import Testing

/// A short run of every accord-load scenario against the real processes (figures are not
/// checked, only that each runs, answers, and reports as documented), and its error gate.
@Suite("accord-load smoke runs", .timeLimit(.minutes(3)))
struct LoadSmokeTests {
    static func load(
        _ arguments: [String],
        duration: String = "1s"
    ) throws -> (status: Int32, json: [String: Any]?, errors: String) {
        let result = try CLITests.run(
            "accord-load",
            arguments + ["--duration", duration, "--warmup", "200ms", "--json"]
        )
        let json = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        return (result.status, json, result.errors)
    }

    @Test("every scenario runs against the services and the gateway; the error gate fails a run with errors")
    func everyScenario() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("accord-smoke-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let ports = try (0..<3).map { _ in try SupervisionProcessTests.freePort() }
        let (intakePort, qualificationPort, supervisionPort) = (ports[0], ports[1], ports[2])
        let rules = "\(CLITests.root)/seeds/rules"
        var processes: [Process] = []
        defer { for process in processes { process.terminate() } }
        processes.append(
            try EchoProcessTests.startServer(
                "accord-qualification",
                arguments: [
                    "--data-dir", data, "--port", "\(qualificationPort)", "--rules-dir", rules,
                    "--intake", "127.0.0.1:\(intakePort)", "--supervision", "127.0.0.1:\(supervisionPort)",
                ]
            ).0
        )
        processes.append(
            try EchoProcessTests.startServer(
                "accord-supervision",
                arguments: [
                    "--data-dir", data, "--port", "\(supervisionPort)", "--rules-dir", rules,
                    "--qualification", "127.0.0.1:\(qualificationPort)", "--intake", "127.0.0.1:\(intakePort)",
                ]
            ).0
        )
        processes.append(
            try EchoProcessTests.startServer(
                "accord-intake",
                arguments: [
                    "--data-dir", data, "--port", "\(intakePort)", "--seed-ice-dir", "\(CLITests.root)/seeds/ice",
                    "--qualification", "127.0.0.1:\(qualificationPort)", "--supervision",
                    "127.0.0.1:\(supervisionPort)",
                ]
            ).0
        )
        func makeToken(_ role: String) throws -> String {
            try CLITests.run(
                "accord-gateway",
                ["create-token", "--data-dir", data, "--role", role, "--name", "smoke \(role)"]
            ).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // The program office runs the journeys; the operator gives each agency acted for a token.
        let token = try makeToken("program-office")
        let operatorToken = try makeToken("operator")
        let agencies = ["--operator-token", operatorToken]
        let (gateway, gatewayPort) = try EchoProcessTests.startServer(
            "accord-gateway",
            arguments: [
                "--data-dir", data, "--intake", "127.0.0.1:\(intakePort)", "--qualification",
                "127.0.0.1:\(qualificationPort)",
                "--supervision", "127.0.0.1:\(supervisionPort)", "--health-seconds", "1",
            ]
        )
        processes.append(gateway)
        Thread.sleep(forTimeInterval: 1.5)  // the gateway's first health checks
        let small = ["--seed-agencies", "20", "--seed-officers", "20", "--seed-agreements", "5"]
        let runs: [(String, Int, [String])] = [
            ("echo", intakePort, []),
            ("register", intakePort, []),
            ("submit", intakePort, ["--seed-agencies", "400"]),
            ("get", intakePort, []),
            ("list", intakePort, []),
            ("read", intakePort, []),
            ("write", intakePort, ["--seed-agencies", "400"]),
            ("evaluate", qualificationPort, []),
            ("compliance", qualificationPort, small + ["--intake", "127.0.0.1:\(intakePort)"]),
            // Again over the officers already certified (as make bench runs it).
            ("compliance", qualificationPort, ["--seed-officers", "0"]),
            ("act", supervisionPort, small),
            ("report", supervisionPort, small + ["--seed-actions", "50"]),
            ("echo", gatewayPort, ["--token", token, "--echo-backend", "supervision"]),
            ("get", gatewayPort, ["--token", token]),
            ("read", gatewayPort, ["--token", token]),
            ("write", gatewayPort, ["--token", token] + agencies + small + ["--seed-agencies", "400"]),
            ("dossier", gatewayPort, ["--token", token]),
            ("mixed", gatewayPort, ["--token", token, "--concurrency", "4"] + agencies + small),
            ("lifecycle", gatewayPort, ["--token", token, "--concurrency", "2"] + agencies),
        ]
        // What read and write are made of depends on the target: the gateway adds dossiers to the
        // reads and action records to the writes.
        let composition: [String: Set<String>] = [
            "read \(intakePort)": ["GetAgency", "ListAgencies"],
            "write \(intakePort)": ["SubmitRequest"],
            "read \(gatewayPort)": ["GetAgency", "ListAgencies", "GetDossier"],
            "write \(gatewayPort)": ["SubmitRequest", "RecordAction"],
        ]
        for (scenario, port, extra) in runs {
            // A lifecycle takes more than a second on PostgreSQL: long enough for some to finish.
            let run = try Self.load(
                [scenario, "--target", "127.0.0.1:\(port)"] + extra,
                duration: scenario == "lifecycle" ? "4s" : "1s"
            )
            #expect(run.status == 0, "\(scenario) on \(port): \(run.errors)")
            let json = try #require(run.json, "\(scenario): no JSON")
            #expect((json["throughput"] as? Int ?? 0) > 0, "\(scenario)")
            #expect(json["error_count"] as? Int == 0 && json["operations"] is [String: Any], "\(scenario): \(json)")
            if let expected = composition["\(scenario) \(port)"] {
                let operations = Set((json["operations"] as? [String: Any] ?? [:]).keys)
                #expect(operations == expected, "\(scenario) on \(port)")
            }
        }
        // Open loop, Poisson arrivals, with the histogram written out.
        let histogram = "\(data)/echo.hdr"
        let open = try Self.load(
            [
                "echo", "--target", "127.0.0.1:\(intakePort)", "--rate", "500", "--arrival", "poisson", "--hdr-out",
                histogram,
            ]
        )
        #expect(open.status == 0 && open.json?["mode"] as? String == "open", "\(open.errors)")
        #expect((try? String(contentsOfFile: histogram, encoding: .utf8))?.contains("Percentile") == true)
        // Every call refused (no token at the gateway): the gate fails the run unless told to allow it.
        let refused = try Self.load(["echo", "--target", "127.0.0.1:\(gatewayPort)"])
        #expect(refused.status == 1 && refused.errors.contains("--max-error-rate"))
        #expect((refused.json?["errors"] as? [String: Int])?["UNAUTHENTICATED"] ?? 0 > 0)
        let allowed = try Self.load(["echo", "--target", "127.0.0.1:\(gatewayPort)", "--max-error-rate", "1"])
        #expect(allowed.status == 0)
        // Through the gateway an agency acts for itself: without an operator token to give it one,
        // the run is refused before it starts.
        let tokenless = try Self.load(["lifecycle", "--target", "127.0.0.1:\(gatewayPort)", "--token", token])
        #expect(tokenless.status == 64 && tokenless.errors.contains("--operator-token"), "\(tokenless.errors)")
        // A wrong input is refused before anything runs.
        let wrong = try Self.load(["echo", "--target", "127.0.0.1:\(intakePort)", "--rate", "-5"])
        #expect(wrong.status != 0 && wrong.errors.contains("--rate"))
        let noOfficers = try Self.load(["act", "--target", "127.0.0.1:\(supervisionPort)", "--seed-officers", "0"])
        #expect(noOfficers.status != 0 && noOfficers.errors.contains("--seed-officers"))
    }
}
