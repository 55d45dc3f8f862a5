import AccordMessages
import AccordRPC
import Foundation
import NIOCore

/// Where one part of a cluster runs: the address it listens on and the command that puts a
/// process there (`ip netns exec NAME` for a simulated host; nothing on loopback).
struct ClusterHost: Sendable {
    let address: String
    let prefix: [String]

    static let loopback = ClusterHost(address: "127.0.0.1", prefix: [])
}

/// A cluster as real processes: a private PostgreSQL, replicas of intake, qualification and
/// supervision on it (one per replica host), and a gateway over all of them.
struct Cluster {
    struct Replica {
        let process: Process
        let endpoint: Endpoint
    }

    static let services = ["intake", "qualification", "supervision"]

    let postgres: PrivatePostgres
    let data: String
    let replicas: [String: [Replica]]
    let gateway: Replica
    let gatewayHost: ClusterHost
    /// Tokens by role: operator, program-office, auditor, and agency (scoped to ag_1).
    let tokens: [String: String]

    /// Starts PostgreSQL on `postgres`, a replica of each service on each of `replicaHosts`, and
    /// the gateway on `gateway` (health checks every second); returns once the gateway has seen
    /// every replica healthy.
    static func start(
        postgres postgresHost: ClusterHost = .loopback,
        replicas replicaHosts: [ClusterHost] = [.loopback, .loopback],
        gateway gatewayHost: ClusterHost = .loopback
    ) async throws -> Cluster {
        let postgres = try PrivatePostgres.start(on: postgresHost)
        let data = postgres.directory + "-cluster"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let credential = "\(data)/credential"
        try "cluster-\(UUID().uuidString)".write(toFile: credential, atomically: true, encoding: .utf8)
        for service in Self.services + ["gateway"] { try postgres.createDatabase("accord_\(service)") }
        var endpoints: [String: [Endpoint]] = [:]
        for service in Self.services {
            endpoints[service] = try replicaHosts.map {
                Endpoint(host: $0.address, port: try PrivatePostgres.freePort())
            }
        }
        func list(_ service: String) -> String { endpoints[service]!.map(\.description).joined(separator: ",") }
        let peers = [
            "intake": ["--qualification", list("qualification"), "--supervision", list("supervision")],
            "qualification": [
                "--rules-dir", "\(CLITests.root)/seeds/rules", "--intake", list("intake"), "--supervision",
                list("supervision"),
            ],
            "supervision": [
                "--rules-dir", "\(CLITests.root)/seeds/rules", "--qualification", list("qualification"), "--intake",
                list("intake"),
            ],
        ]
        var replicas: [String: [Replica]] = [:]
        for service in Self.services {
            for (index, host) in replicaHosts.enumerated() {
                let endpoint = endpoints[service]![index]
                let (process, _) = try EchoProcessTests.startServerWithAdmin(
                    "accord-\(service)",
                    arguments: [
                        "--host", host.address, "--port", "\(endpoint.port)", "--postgres",
                        postgres.url("accord_\(service)"), "--data-dir", "\(data)/\(service)-\(index)",
                        "--internal-credential-file", credential, "--outbox-lease-seconds", "3",
                    ] + peers[service]!,
                    adminPort: false,
                    prefix: host.prefix
                )
                replicas[service, default: []].append(Replica(process: process, endpoint: endpoint))
            }
        }
        var tokens: [String: String] = [:]
        for (role, scope) in [("operator", nil), ("program-office", nil), ("auditor", nil), ("agency", "ag_1")]
            as [(String, String?)]
        {
            var arguments = [
                "create-token", "--postgres", postgres.url("accord_gateway"), "--role", role, "--name",
                "cluster \(role)",
            ]
            if let scope { arguments += ["--scope", scope] }
            let made = try Self.run(on: gatewayHost, "accord-gateway", arguments)
            guard made.status == 0 else { throw ProcessStorageError("create-token: \(made.errors)") }
            tokens[role] = made.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // As make run writes them, for Tools/demo.sh.
        try tokens.map { "ACCORD_TOKEN_\($0.key.uppercased().replacingOccurrences(of: "-", with: "_"))=\($0.value)\n" }
            .joined().write(toFile: "\(data)/tokens.env", atomically: true, encoding: .utf8)
        let gatewayPort = try PrivatePostgres.freePort()
        let (gateway, _) = try EchoProcessTests.startServerWithAdmin(
            "accord-gateway",
            arguments: [
                "--host", gatewayHost.address, "--port", "\(gatewayPort)", "--postgres", postgres.url("accord_gateway"),
                "--data-dir", "\(data)/gateway", "--internal-credential-file", credential, "--intake", list("intake"),
                "--qualification", list("qualification"), "--supervision", list("supervision"),
                "--health-seconds", "1", "--branch-timeout-ms", "2000",
            ],
            adminPort: false,
            prefix: gatewayHost.prefix
        )
        let cluster = Cluster(
            postgres: postgres,
            data: data,
            replicas: replicas,
            gateway: Replica(process: gateway, endpoint: Endpoint(host: gatewayHost.address, port: gatewayPort)),
            gatewayHost: gatewayHost,
            tokens: tokens
        )
        return cluster
    }

    /// Call options with `role`'s bearer token.
    func options(_ role: String = "program-office", timeout: TimeAmount = .seconds(5)) -> CallOptions {
        CallOptions(
            timeout: timeout,
            metadata: [MetadataKey.authorization: "Bearer \(self.tokens[role] ?? "")"]
        )
    }

    /// Options for calls as `agency`, with a token the operator makes for it through the gateway
    /// (an agency nominates its own officers and records its own actions).
    func agencyOptions(
        _ client: RPCClient,
        _ agency: String?,
        timeout: TimeAmount = .seconds(5)
    ) async throws
        -> CallOptions
    {
        let made = try await client.unary(
            GatewayMethods.createToken,
            CreateTokenRequest(role: "agency", scope: agency, name: "coordinator of \(agency ?? "")"),
            options: self.options("operator", timeout: timeout)
        )
        return CallOptions(timeout: timeout, metadata: [MetadataKey.authorization: "Bearer \(made.token ?? "")"])
    }

    /// The gateway's view of its backends, by endpoint.
    func backendStates(_ client: RPCClient) async throws -> [String: BackendState] {
        let answer = try await client.unary(
            GatewayMethods.getBackends,
            GetBackendsRequest(),
            options: self.options("operator")
        )
        var states: [String: BackendState] = [:]
        for backend in answer.backends { states[backend.endpoint ?? ""] = backend.state ?? .unspecified }
        return states
    }

    /// Waits (up to `limit`) until the gateway sees every replica in `healthy` healthy and every
    /// one in `unhealthy` unhealthy; returns how long that took.
    @discardableResult
    func waitForBackends(
        _ client: RPCClient,
        healthy: [Endpoint],
        unhealthy: [Endpoint] = [],
        limit: Duration = .seconds(30)
    ) async throws -> Duration {
        let started = ContinuousClock.now
        while true {
            let states = try? await self.backendStates(client)
            if let states, healthy.allSatisfy({ states[$0.description] == .healthy }),
                unhealthy.allSatisfy({ states[$0.description] == .unhealthy })
            {
                return ContinuousClock.now - started
            }
            guard ContinuousClock.now - started < limit else {
                throw ProcessStorageError("the gateway's backends did not settle: \(states ?? [:])")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    var allReplicas: [Endpoint] { self.replicas.values.flatMap { $0.map(\.endpoint) } }

    /// Stops every process (SIGTERM, then waits), then PostgreSQL, and removes the folders.
    func stop() {
        let processes = self.replicas.values.flatMap { $0.map(\.process) } + [self.gateway.process]
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        self.postgres.remove()
        try? FileManager.default.removeItem(atPath: self.data)
    }

    /// Runs an executable of the build (or a script, by its path) to the end on `host`.
    static func run(
        on host: ClusterHost,
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> CLITests.Result {
        let path =
            executable.hasPrefix("/")
            ? executable : EchoProcessTests.binDirectory.appendingPathComponent(executable).path
        guard let program = host.prefix.first else {
            return try CLITests.run(path, arguments, environment: environment)
        }
        return try CLITests.run(program, Array(host.prefix.dropFirst()) + [path] + arguments, environment: environment)
    }
}
