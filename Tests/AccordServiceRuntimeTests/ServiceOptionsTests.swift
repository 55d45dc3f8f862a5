import AccordServiceRuntime
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
}
