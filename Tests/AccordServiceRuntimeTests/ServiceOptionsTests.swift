import AccordServiceRuntime
import Foundation
import Testing

@Suite("Service options: flags over ACCORD_* variables over defaults")
struct ServiceOptionsTests {
    @Test("defaults, environment and flags resolve in that order")
    func precedence() throws {
        let defaults = try ServiceOptions.parse([]).resolve(defaultPort: 7401, defaultAdminPort: 9401, environment: [:])
        #expect(defaults.port == 7401 && defaults.adminPort == 9401 && defaults.host == "127.0.0.1")
        #expect(defaults.compressionThreshold == 1024 && defaults.dataDirectory == "./data")

        let environment = ["ACCORD_PORT": "8000", "ACCORD_LOG_LEVEL": "debug", "ACCORD_ADMIN_PORT": "-1"]
        let fromEnvironment = try ServiceOptions.parse([]).resolve(
            defaultPort: 7401,
            defaultAdminPort: 9401,
            environment: environment
        )
        #expect(fromEnvironment.port == 8000 && fromEnvironment.logLevel == .debug && fromEnvironment.adminPort == nil)

        let fromFlags = try ServiceOptions.parse(["--port", "9000"]).resolve(
            defaultPort: 7401,
            defaultAdminPort: 9401,
            environment: environment
        )
        #expect(fromFlags.port == 9000)

        let off = try ServiceOptions.parse(["--admin-port", "off"]).resolve(
            defaultPort: 1,
            defaultAdminPort: 2,
            environment: [:]
        )
        #expect(off.adminPort == nil)
    }

    @Test("bad values name what is wrong")
    func badValues() throws {
        #expect(throws: (any Error).self) {
            try ServiceOptions.parse([]).resolve(
                defaultPort: 1,
                defaultAdminPort: 2,
                environment: ["ACCORD_PORT": "http"]
            )
        }
        #expect(throws: (any Error).self) {
            try ServiceOptions.parse(["--port", "70000"]).resolve(defaultPort: 1, defaultAdminPort: 2, environment: [:])
        }
        #expect(throws: (any Error).self) {
            try ServiceOptions.parse(["--log-level", "loud"]).resolve(
                defaultPort: 1,
                defaultAdminPort: 2,
                environment: [:]
            )
        }
    }

    @Test("a simulated clock only on a deployment marked non-production, from a flag or the environment")
    func simulatedClock() throws {
        func resolve(_ flags: [String], _ environment: [String: String]) throws -> ServiceOptions.Resolved {
            try ServiceOptions.parse(flags).resolve(defaultPort: 1, defaultAdminPort: 2, environment: environment)
        }
        #expect(try resolve([], [:]).clock.simulation == nil)
        for (flags, environment) in [
            (["--simulated-clock", "2027-01-01"], [:]),
            ([], ["ACCORD_SIMULATED_CLOCK": "2027-01-01"]),
            ([], ["ACCORD_SIMULATED_CLOCK": "2027-01-01", "ACCORD_NON_PRODUCTION": "0"]),
        ] as [([String], [String: String])] {
            do {
                _ = try resolve(flags, environment)
                Issue.record("a simulated clock without --non-production: \(flags) \(environment)")
            } catch {
                #expect("\(error)".contains("needs --non-production"), "\(error)")
            }
        }
        let flagged = try resolve(["--simulated-clock", "2027-01-01", "--non-production"], [:])
        #expect(flagged.clock.simulation?.requestedStart == 1_798_761_600_000)
        #expect(flagged.clock.now() >= 1_798_761_600_000 && flagged.nonProduction)
        let fromEnvironment = try resolve(
            [],
            ["ACCORD_SIMULATED_CLOCK": "2027-01-01T12:00:00+02:00", "ACCORD_NON_PRODUCTION": "1"]
        )
        let tenUTC: Int64 = 1_798_797_600_000  // 2027-01-01T10:00:00Z
        #expect(fromEnvironment.clock.simulation?.requestedStart == tenUTC)
        #expect(
            try resolve(["--simulated-clock", "now", "--non-production"], [:]).clock.simulation?.requestedStart == nil
        )
        for bad in ["2027-02-30", "tomorrow", "2027-01-01T25:00:00Z"] {
            do {
                _ = try resolve(["--simulated-clock", bad, "--non-production"], [:])
                Issue.record("--simulated-clock \(bad) was taken")
            } catch {
                #expect("\(error)".contains("--simulated-clock \(bad) is not now, a date"), "\(error)")
            }
        }
    }

    @Test("the internal credential file holds one secret, or two while rotating: the first is presented")
    func credentialRotation() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func resolve(_ text: String) throws -> ServiceOptions.Resolved {
            let path = folder.appendingPathComponent("credential").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return try ServiceOptions.parse(["--internal-credential-file", path]).resolve(
                defaultPort: 1,
                defaultAdminPort: 2,
                environment: [:]
            )
        }
        let one = try resolve("current-secret-0123456789\n")
        #expect(one.internalCredential?.presented == "current-secret-0123456789" && one.acceptedCredentials.count == 1)
        let two = try resolve("next-secret-9876543210abc\n\ncurrent-secret-0123456789\n")
        #expect(two.internalCredential?.presented == "next-secret-9876543210abc")
        #expect(two.acceptedCredentials == ["next-secret-9876543210abc", "current-secret-0123456789"])
        for (text, problem) in [
            ("a\nb\nc\n", "holds 3 secrets"), ("current-secret-0123456789\nshort\n", "line 2"), ("\n", "holds 0"),
        ] {
            do {
                _ = try resolve(text)
                Issue.record("took \(text)")
            } catch {
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
        let fromEnvironment = try ServiceOptions.parse([]).resolve(
            defaultPort: 1,
            defaultAdminPort: 2,
            environment: [
                "ACCORD_INTERNAL_CREDENTIAL": "one-secret-abcdefghij", "ACCORD_INTERNAL_CREDENTIAL_NEXT": "two",
            ]
        )
        #expect(fromEnvironment.acceptedCredentials == ["one-secret-abcdefghij", "two"])
    }
}
