import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import NIOCore
import Synchronization
import Testing

/// The whole set as real processes over TLS: certificates from Tools/tls.sh, TLS 1.3 at the
/// gateway, mutual TLS between the gateway and the services and among the services.
@Suite("the set over TLS", .serialized, .timeLimit(.minutes(4)))
struct TLSProcessTests {
    /// A fresh folder of certificates made by Tools/tls.sh (openssl), and a second CA's.
    static func certificates() throws -> (String, other: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("accord-tls-\(UUID().uuidString)").path
        for folder in ["tls", "other"] {
            let made = try CLITests.run("\(CLITests.root)/Tools/tls.sh", ["init", "\(base)/\(folder)"])
            guard made.status == 0 else { throw ProcessStorageError("tls.sh init: \(made.errors)") }
        }
        return ("\(base)/tls", "\(base)/other")
    }

    /// Waits (bounded) until `accord health` sees every backend healthy.
    static func waitHealthy(_ set: CLITests.Set) throws {
        for _ in 0..<100 {
            let health = try set.accord(["health", "--json"], as: "operator")
            if health.status == 0 && health.output.components(separatedBy: "BACKEND_STATE_HEALTHY").count == 4 {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ProcessStorageError("the gateway never saw its backends healthy over TLS")
    }

    /// A service's address in the set, from the gateway's flags.
    static func endpoint(_ set: CLITests.Set, _ service: String) -> Endpoint {
        let index = set.gatewayArguments.firstIndex(of: "--\(service)")!
        return Endpoint(set.gatewayArguments[index + 1])!
    }

    static func tls(
        _ folder: String,
        _ name: String?,
        trusting ca: String,
        serverName: String?
    ) throws -> ClientConfiguration {
        var configuration = ClientConfiguration(connectTimeout: .seconds(10))
        let files = TLSFiles(
            certificate: name.map { "\(folder)/\($0).pem" },
            privateKey: name.map { "\(folder)/\($0).key" },
            trustedCA: "\(ca)/ca.pem"
        )
        configuration.tls = ClientTLS(source: try TLSContextSource(files: files, role: .client), serverName: serverName)
        return configuration
    }

    @Test("the walk-through (Tools/demo.sh) and a Python client from the spec, through the gateway over TLS")
    func walkThrough() throws {
        let (tls, _) = try Self.certificates()
        let set = try CLITests.start(tls: tls)
        defer { set.stop() }
        try Self.waitHealthy(set)
        // The demo's every call goes to the gateway over TLS, and from there over mutual TLS;
        // the services' outboxes carry its hand-offs over mutual TLS too.
        let demo = try CLITests.run(
            "\(CLITests.root)/Tools/demo.sh",
            [EchoProcessTests.binDirectory.path],
            environment: [
                "ACCORD_GATEWAY": set.gateway, "ACCORD_TOKENS_FILE": "\(set.data)/tokens.env",
                "ACCORD_TLS_CA": "\(tls)/ca.pem",
            ]
        )
        #expect(demo.status == 0, "\(demo.output)\n\(demo.errors)")
        for marker in ["QUALIFIED", "CERTIFIED", "ACTIVE", "APPROVED", "intact"] {
            #expect(
                demo.output.contains(marker) || demo.errors.contains(marker),
                "the walk-through never showed \(marker)"
            )
        }

        let script = "\(CLITests.root)/Tests/Interop/python_client.py"
        let port = Endpoint(set.gateway)!.port
        let python = try CLITests.run(
            "/usr/bin/python3",
            [script, "127.0.0.1", "\(port)", "--tls-ca", "\(tls)/ca.pem", "--token", set.tokens["auditor"]!]
        )
        #expect(python.status == 0, "\(python.output)\n\(python.errors)")
        #expect(python.output.contains("11 passed, 0 failed"), "\(python.output)\n\(python.errors)")

        // The CLI in clear at a TLS port is told so at once.
        let clear = try CLITests.run(
            "accord",
            ["report"],
            environment: ["ACCORD_GATEWAY": set.gateway, "ACCORD_TOKEN": set.tokens["auditor"]!, "ACCORD_TLS_CA": ""]
        )
        #expect(clear.status == 1)
        #expect(clear.errors.contains("the peer speaks TLS") && clear.errors.contains("--tls-ca"), "\(clear.errors)")
    }

    @Test(
        "a service refuses a caller without a certificate, with one from another CA, and in clear; one from its CA that is not a component may not assert a principal"
    )
    func serviceRefusals() async throws {
        let (tls, other) = try Self.certificates()
        let intakeLog = LogCollector()
        let set = try CLITests.start(seedICE: false, tls: tls, logs: ["intake": intakeLog])
        defer { set.stop() }
        let intake = Self.endpoint(set, "intake")
        let credential = try String(contentsOfFile: "\(set.data)/credential", encoding: .utf8)
        let asserted = CallOptions(
            timeout: .seconds(5),
            metadata: TrustMetadata.asserting(Principal(role: .auditor), internalCredential: credential)
        )
        let list = ByteBuffer(bytes: try ListAgenciesRequest().serializedBytes())

        func attempt(_ configuration: ClientConfiguration) async -> String {
            do {
                let connection = try await ClientConnection.connect(to: intake, configuration: configuration)
                defer { Task { await connection.close() } }
                _ = try await connection.unary(path: IntakeMethods.listAgencies.path, request: list, options: asserted)
                return "answered"
            } catch {
                return "\(error)"
            }
        }
        // Each refused handshake is one line in intake's log, naming its cause.
        func waitForLine(_ text: String) async -> Bool {
            for _ in 0..<300 where intakeLog.count(text) == 0 { try? await Task.sleep(for: .milliseconds(10)) }
            return intakeLog.count(text) == 1
        }

        let none = await attempt(try Self.tls(tls, nil, trusting: tls, serverName: "intake"))
        #expect(none.contains("requires a client certificate"), "\(none)")
        #expect(await waitForLine("presented no certificate"))

        let stranger = await attempt(try Self.tls(other, "gateway", trusting: tls, serverName: "intake"))
        #expect(stranger.contains("does not trust this side's certificate"), "\(stranger)")
        #expect(await waitForLine("not by the trusted CA"))

        let clear = await attempt(ClientConfiguration(connectTimeout: .seconds(10)))
        #expect(clear.contains("the peer speaks TLS"), "\(clear)")
        #expect(await waitForLine("the client spoke in clear to a TLS port"))

        // The tools' certificate is from the CA but names no component: health answers, an
        // asserted principal is refused even with the internal credential.
        let tool = try Self.tls(tls, "client", trusting: tls, serverName: "intake")
        let refused = await attempt(tool)
        #expect(refused.contains("UNAUTHENTICATED") && refused.contains("CN=client"), "\(refused)")
        let client = RPCClient(endpoints: [intake], configuration: tool)
        let health = try await client.unary(HealthMethods.check, HealthCheckRequest())
        #expect(health.status == .serving)
        await client.close()
        // The gateway's certificate may assert.
        let gateway = await attempt(try Self.tls(tls, "gateway", trusting: tls, serverName: "intake"))
        #expect(gateway == "answered", "\(gateway)")
        #expect(intakeLog.count("TLS handshake refused") == 3)
    }

    @Test("certificates rotated under load: no call fails, and new connections meet the new certificates")
    func rotationUnderLoad() async throws {
        let (tls, _) = try Self.certificates()
        let gatewayLog = LogCollector()
        let intakeLog = LogCollector()
        let set = try CLITests.start(seedICE: false, tls: tls, logs: ["gateway": gatewayLog, "intake": intakeLog])
        defer { set.stop() }
        try Self.waitHealthy(set)
        let gateway = Endpoint(set.gateway)!
        let options = CallOptions(
            timeout: .seconds(5),
            metadata: [MetadataKey.authorization: "Bearer \(set.tokens["program-office"]!)"]
        )
        func fingerprint(_ name: String) throws -> String {
            try CLITests.run("/usr/bin/openssl", ["x509", "-in", "\(tls)/\(name).pem", "-noout", "-fingerprint"]).output
        }
        /// The fingerprint of the certificate a server presents to a new connection.
        func presented(_ endpoint: Endpoint, name: String) throws -> String {
            let shown = try CLITests.run(
                "/bin/sh",
                [
                    "-c",
                    "openssl s_client -connect \(endpoint) -tls1_3 -alpn accord/1 -servername \(name) -CAfile \(tls)/ca.pem -cert \(tls)/client.pem -key \(tls)/client.key </dev/null 2>/dev/null | openssl x509 -noout -fingerprint",
                ]
            )
            return shown.output
        }
        let before = (gateway: try fingerprint("gateway"), intake: try fingerprint("intake"))
        #expect(try presented(gateway, name: "localhost") == before.gateway)

        // Calls go on, on connections kept open and on new ones, while both certificates are replaced.
        let stop = ManagedFlag()
        let failures = LogCollector()
        let load = Task {
            var calls = 0
            let kept = RPCClient(
                endpoints: [gateway],
                configuration: try Self.tls(tls, nil, trusting: tls, serverName: nil)
            )
            while !stop.isSet {
                do {
                    _ = try await kept.unary(IntakeMethods.listAgencies, ListAgenciesRequest(), options: options)
                    let fresh = RPCClient(
                        endpoints: [gateway],
                        configuration: try Self.tls(tls, nil, trusting: tls, serverName: nil)
                    )
                    _ = try await fresh.unary(IntakeMethods.listAgencies, ListAgenciesRequest(), options: options)
                    await fresh.close()
                    calls += 2
                } catch {
                    failures.append("\(error)\n")
                }
            }
            await kept.close()
            return calls
        }
        for name in ["gateway", "intake"] {
            let issued = try CLITests.run("\(CLITests.root)/Tools/tls.sh", ["issue", tls, name])
            #expect(issued.status == 0, "\(issued.errors)")
        }
        let after = (gateway: try fingerprint("gateway"), intake: try fingerprint("intake"))
        #expect(after.gateway != before.gateway && after.intake != before.intake)
        // Each process takes the new files within its reload interval.
        for log in [gatewayLog, intakeLog] {
            for _ in 0..<1000 where log.count("TLS certificates reloaded") == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(log.count("TLS certificates reloaded") >= 1)
        }
        #expect(try presented(gateway, name: "localhost") == after.gateway)
        #expect(try presented(Self.endpoint(set, "intake"), name: "intake") == after.intake)
        try await Task.sleep(for: .seconds(1))
        stop.set()
        let calls = try await load.value
        #expect(calls > 0)
        #expect(failures.count("\n") == 0, "calls failed during the rotation")
        // The gateway still reaches intake.
        let client = RPCClient(
            endpoints: [gateway],
            configuration: try Self.tls(tls, nil, trusting: tls, serverName: nil)
        )
        _ = try await client.unary(IntakeMethods.listAgencies, ListAgenciesRequest(), options: options)
        await client.close()
    }
}

/// A flag set once, read from any thread.
final class ManagedFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { self.value.withLock { $0 } }
    func set() { self.value.withLock { $0 = true } }
}
