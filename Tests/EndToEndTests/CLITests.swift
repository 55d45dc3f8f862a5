import Foundation
import Testing

/// The whole set as real processes — intake, qualification, supervision, the gateway — with the
/// internal credential between them, driven only through the `accord` CLI.
@Suite("the accord CLI against the whole set", .timeLimit(.minutes(3)))
struct CLITests {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    }

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs an executable of the build (or a script) to the end.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL =
            executable.hasPrefix("/")
            ? URL(fileURLWithPath: executable) : EchoProcessTests.binDirectory.appendingPathComponent(executable)
        process.arguments = try ProcessStorage.arguments(for: executable, arguments)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes while it runs so that neither fills up.
        let collected = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        collected.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            collected.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        collected.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self)
        )
    }

    struct Set {
        var processes: [String: Process]
        let gateway: String
        let data: String
        let tokens: [String: String]
        /// The flags naming the backends and the credential, for another gateway in front of them.
        var gatewayArguments: [String] = []
        /// The certificates' folder (Tools/tls.sh init) when the set runs TLS.
        var tls: String? = nil

        func stop() {
            for process in self.processes.values where process.isRunning { process.terminate() }
        }

        func accord(_ arguments: [String], as role: String) throws -> Result {
            try CLITests.run(
                "accord",
                arguments,
                environment: ["ACCORD_GATEWAY": self.gateway, "ACCORD_TOKEN": self.tokens[role] ?? ""]
                    .merging(self.tls.map { ["ACCORD_TLS_CA": "\($0)/ca.pem"] } ?? [:]) { $1 }
            )
        }
    }

    /// The set, with the ICE lists seeded unless told not to; `services` are added to every
    /// service's flags and `supervision` to supervision's.
    /// With `restored`, the set runs on a data directory already made (a restored backup, say),
    /// with the tokens its gateway's store holds. With `tls`, a folder of certificates made by
    /// Tools/tls.sh, every process runs TLS with its own certificate (mutual between them).
    /// `logs` collects the log lines of the processes it names.
    static func start(
        services: [String] = [],
        supervision: [String] = [],
        seedICE: Bool = true,
        restored: (data: String, tokens: [String: String])? = nil,
        tls: String? = nil,
        logs: [String: LogCollector] = [:]
    ) throws -> Set {
        let data =
            restored?.data
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("accord-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let credential = "\(data)/credential"
        try "cli-test-\(UUID().uuidString)".write(toFile: credential, atomically: true, encoding: .utf8)
        var tokens: [String: String] = restored?.tokens ?? [:]
        var lines = ""
        for (role, scope) in [("operator", nil), ("program-office", nil), ("auditor", nil), ("agency", "ag_1")]
            as [(String, String?)] where restored == nil
        {
            var arguments = ["create-token", "--data-dir", data, "--role", role, "--name", "test \(role)"]
            if let scope { arguments += ["--scope", scope] }
            let created = try Self.run("accord-gateway", arguments)
            let token = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
            tokens[role] = token
            lines += "ACCORD_TOKEN_\(role.uppercased().replacingOccurrences(of: "-", with: "_"))=\(token)\n"
        }
        if restored == nil { try lines.write(toFile: "\(data)/tokens.env", atomically: true, encoding: .utf8) }
        let ports = try (0..<3).map { _ in try SupervisionProcessTests.freePort() }
        let (intakePort, qualificationPort, supervisionPort) = (ports[0], ports[1], ports[2])
        let common = ["--data-dir", data, "--internal-credential-file", credential] + services
        func certificate(_ name: String) -> [String] {
            guard let tls else { return [] }
            return [
                "--tls-certificate", "\(tls)/\(name).pem", "--tls-key", "\(tls)/\(name).key", "--tls-ca",
                "\(tls)/ca.pem",
            ]
        }
        var processes: [String: Process] = [:]
        processes["qualification"] = try EchoProcessTests.startServer(
            "accord-qualification",
            arguments: common + certificate("qualification") + [
                "--port", "\(qualificationPort)", "--rules-dir", "\(Self.root)/seeds/rules",
                "--intake", "127.0.0.1:\(intakePort)", "--supervision", "127.0.0.1:\(supervisionPort)",
            ],
            logs: logs["qualification"]
        ).0
        processes["supervision"] = try EchoProcessTests.startServer(
            "accord-supervision",
            arguments: common + certificate("supervision") + [
                "--port", "\(supervisionPort)", "--rules-dir", "\(Self.root)/seeds/rules",
                "--qualification", "127.0.0.1:\(qualificationPort)", "--intake", "127.0.0.1:\(intakePort)",
            ] + supervision,
            logs: logs["supervision"]
        ).0
        processes["intake"] = try EchoProcessTests.startServer(
            "accord-intake",
            arguments: common + certificate("intake") + [
                "--port", "\(intakePort)", "--qualification", "127.0.0.1:\(qualificationPort)",
                "--supervision", "127.0.0.1:\(supervisionPort)",
            ] + (seedICE ? ["--seed-ice-dir", "\(Self.root)/seeds/ice"] : []),
            logs: logs["intake"]
        ).0
        let (gateway, gatewayPort) = try EchoProcessTests.startServer(
            "accord-gateway",
            arguments: ["--data-dir", data, "--internal-credential-file", credential] + certificate("gateway") + [
                "--intake", "127.0.0.1:\(intakePort)", "--qualification", "127.0.0.1:\(qualificationPort)",
                "--supervision", "127.0.0.1:\(supervisionPort)", "--health-seconds", "1", "--branch-timeout-ms", "1000",
            ],
            logs: logs["gateway"]
        )
        processes["gateway"] = gateway
        return Set(
            processes: processes,
            gateway: "127.0.0.1:\(gatewayPort)",
            data: data,
            tokens: tokens,
            gatewayArguments: [
                "--data-dir", data, "--internal-credential-file", credential, "--intake", "127.0.0.1:\(intakePort)",
                "--qualification", "127.0.0.1:\(qualificationPort)", "--supervision", "127.0.0.1:\(supervisionPort)",
            ],
            tls: tls
        )
    }

    @Test(
        "a date or time flag that is not on the calendar is refused before any call, naming the flag",
        arguments: [
            ["report", "--as-of", "2026-02-30"],
            ["report", "--as-of", "2026-02-28T24:00:00Z"],
            [
                "action", "record", "--officer", "az_1", "--function", "interview", "--place", "jail", "--subject",
                "B-1", "--at", "2026-02-29T10:00:00Z",
            ],
        ]
    )
    func badDateFlags(_ arguments: [String]) throws {
        // No gateway listens on port 1: a call made would fail differently.
        let result = try Self.run("accord", arguments + ["--gateway", "127.0.0.1:1"])
        let flag = arguments[arguments.count - 2]
        #expect(result.status == 64, "\(result.errors)")
        #expect(result.errors.hasPrefix("Error: \(flag): \(arguments.last!) is not"), "\(result.errors)")
    }

    @Test("the scripted lifecycle (Tools/demo.sh) runs from outreach to audit verification")
    func lifecycle() throws {
        let set = try Self.start()
        defer { set.stop() }
        // Wait until the gateway has seen every backend healthy.
        for _ in 0..<50 {
            let health = try set.accord(["health", "--json"], as: "operator")
            if health.status == 0 && health.output.components(separatedBy: "BACKEND_STATE_HEALTHY").count == 4 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let demo = try Self.run(
            "\(Self.root)/Tools/demo.sh",
            [EchoProcessTests.binDirectory.path],
            environment: ["ACCORD_GATEWAY": set.gateway, "ACCORD_TOKENS_FILE": "\(set.data)/tokens.env"]
        )
        #expect(demo.status == 0, "\(demo.output)\n\(demo.errors)")
        for marker in [
            "QUALIFIED", "CERTIFIED", "ACTIVE", "DETAINER", "PERMISSION_DENIED: JEM does not delegate",
            "APPROVED", "keep their authority under", "RESOLVED", "Recent actions", "intact",
        ] {
            #expect(
                demo.output.contains(marker) || demo.errors.contains(marker),
                "the walk-through never showed \(marker)"
            )
        }
    }

    @Test("bad tokens and scopes, an auditor writing, a backend killed during a dossier: clear errors, partial answers")
    func faults() throws {
        let set = try Self.start()
        defer { set.stop() }
        let noToken = try Self.run(
            "accord",
            ["agency", "list"],
            environment: ["ACCORD_GATEWAY": set.gateway, "ACCORD_TOKEN": ""]
        )
        #expect(noToken.status == 1 && noToken.errors.hasPrefix("UNAUTHENTICATED"), "\(noToken.errors)")
        let forged = try Self.run(
            "accord",
            ["agency", "list"],
            environment: [
                "ACCORD_GATEWAY": set.gateway, "ACCORD_TOKEN": "acc_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ]
        )
        #expect(forged.status == 1 && forged.errors.hasPrefix("UNAUTHENTICATED"), "\(forged.errors)")
        let foreign = try set.accord(["dossier", "ag_2"], as: "agency")
        #expect(foreign.status == 1 && foreign.errors.hasPrefix("PERMISSION_DENIED"), "\(foreign.errors)")
        let own = try set.accord(["dossier", "ag_1", "--json"], as: "agency")
        #expect(own.status == 0 && own.output.contains("\"partial\": false"), "\(own.output)\(own.errors)")
        let write = try set.accord(
            ["agency", "register", "--state", "TX", "--name", "Auditor County", "--type", "county"],
            as: "auditor"
        )
        #expect(write.status == 1 && write.errors.hasPrefix("PERMISSION_DENIED"), "\(write.errors)")
        let badInput = try set.accord(
            ["agency", "register", "--state", "ZZ", "--name", "X", "--type", "county"],
            as: "program-office"
        )
        #expect(
            badInput.status == 1 && badInput.errors.hasPrefix("INVALID_ARGUMENT: agency.state"),
            "\(badInput.errors)"
        )
        // The participating sheet again (intake seeded it at start): nothing new, one row refused
        // with its line; the same as a table for people.
        let sheet = "\(Self.root)/seeds/ice/ice-287g-participating-2025-05-16.csv"
        let again = try set.accord(["import", "ice-sheet", sheet, "--json"], as: "program-office")
        #expect(again.status == 0, "\(again.errors)")
        let summary = try JSONSerialization.jsonObject(with: Data(again.output.utf8)) as? [String: Any]
        #expect(summary?["read"] as? Int == 571 && summary?["imported"] as? Int == 0)
        #expect(summary?["unchanged"] as? Int == 570 && summary?["rejected"] as? Int == 1)
        let rejections = summary?["rejections"] as? [[String: Any]]
        #expect(rejections?.first?["line"] as? Int == 545)
        let missing = try set.accord(["import", "ice-sheet", "/nonexistent.csv"], as: "program-office")
        #expect(missing.status != 0 && missing.errors.contains("cannot read /nonexistent.csv"))
        // Rows that cannot be read are refused by line and the others taken: the sheet's first
        // five rows, the third with a byte that is not UTF-8, the fourth with a NUL, the fifth
        // padded past the row limit.
        let lines = try Array(Data(contentsOf: URL(fileURLWithPath: sheet))).split(separator: 0x0A).prefix(6)
            .map { Array($0.last == 0x0D ? $0.dropLast() : $0) }
        var broken = lines[0] + [0x0A] + lines[1] + [0x0A] + lines[2] + [0x0A]
        broken += Array(lines[3].prefix(12)) + [0xFF] + lines[3].dropFirst(12) + [0x0A]
        broken += Array(lines[4].prefix(12)) + [0x00] + lines[4].dropFirst(12) + [0x0A]
        broken += lines[5] + Array(repeating: UInt8(ascii: " "), count: 5000) + [0x0A]
        let brokenFile = "\(set.data)/broken.csv"
        try Data(broken).write(to: URL(fileURLWithPath: brokenFile))
        let partly = try set.accord(["import", "ice-sheet", brokenFile], as: "program-office")
        #expect(partly.status == 0, "\(partly.errors)")
        #expect(partly.output.contains("broken: 5 rows read, 0 imported, 2 unchanged, 3 rejected"), "\(partly.output)")
        #expect(partly.output.contains("line 4: the row is not valid UTF-8"), "\(partly.output)")
        #expect(partly.output.contains("line 5: the row holds a NUL character (U+0000)"), "\(partly.output)")
        #expect(partly.output.contains("line 6: the row is longer than the limit of 4096 bytes"), "\(partly.output)")
        try Data(lines[0] + [0x0A]).write(to: URL(fileURLWithPath: brokenFile))
        let headerOnly = try set.accord(["import", "ice-sheet", brokenFile], as: "program-office")
        #expect(headerOnly.status != 0 && headerOnly.errors.contains("no rows"), "\(headerOnly.errors)")
        // Supervision killed: the dossier still comes, partial, naming what is missing.
        let supervision = set.processes["supervision"]!
        kill(supervision.processIdentifier, SIGKILL)
        supervision.waitUntilExit()
        let started = Date()
        let partial = try set.accord(["dossier", "ag_1", "--json"], as: "program-office")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(
            partial.status == 0 && partial.output.contains("\"partial\": true"),
            "\(partial.output)\(partial.errors)"
        )
        #expect(partial.output.contains("supervision: agreements"))
        let human = try set.accord(["dossier", "ag_1"], as: "program-office")
        #expect(human.output.contains("PARTIAL: missing supervision"))
    }
}
