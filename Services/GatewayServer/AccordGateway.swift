import AccordCalendar
import AccordRPC
import AccordServiceRuntime
import ArgumentParser
import Foundation
import Gateway
import Logging
import NIOCore

/// The gateway, and the command that issues the first operator token.
@main
struct AccordGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-gateway",
        abstract: "Accord gateway: the front door that authenticates, routes and fans out to the services.",
        subcommands: [Serve.self, CreateToken.self, PrintAccessMatrix.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway (the default).",
        discussion: """
            Default RPC port 7400, metrics on 9400, tokens in <data-dir>/gateway/gateway.sqlite (or PostgreSQL with --postgres, shared by every gateway on it). Callers present
            "authorization: Bearer <token>"; create the first operator token with `accord-gateway create-token`.
            Give the services and the gateway the same --internal-credential-file.
            """
    )

    @OptionGroup var options: ServiceOptions

    @OptionGroup var storage: StorageOptions

    @Option(help: "Intake endpoints HOST:PORT[,HOST:PORT…] (ACCORD_INTAKE). Default 127.0.0.1:7401.")
    var intake: String?

    @Option(help: "Qualification endpoints (ACCORD_QUALIFICATION). Default 127.0.0.1:7402.")
    var qualification: String?

    @Option(help: "Supervision endpoints (ACCORD_SUPERVISION). Default 127.0.0.1:7403.")
    var supervision: String?

    @Option(help: "Calls in flight per backend endpoint; beyond it calls get RESOURCE_EXHAUSTED. Default 256.")
    var maxInFlight: Int = 256

    @Option(help: "Seconds between health checks of the backends. Default 2.")
    var healthSeconds: Int = 2

    @Option(help: "Milliseconds each branch of a composite call (dossier, overview) may take. Default 2000.")
    var branchTimeoutMs: Int = 2000

    mutating func run() async throws {
        // The gateway's callers hold bearer tokens: its port asks them for no certificate.
        let resolved = try self.options.resolve(defaultPort: 7400, defaultAdminPort: 9400, clientCertificates: false)
        let (intake, qualification, supervision) = try self.backendEndpoints()
        guard self.maxInFlight > 0 else { throw ValidationError("--max-in-flight must be positive") }
        guard self.healthSeconds > 0 else { throw ValidationError("--health-seconds must be positive") }
        guard self.branchTimeoutMs > 0 else { throw ValidationError("--branch-timeout-ms must be positive") }
        let identity = ServiceRunner.Identity(name: "accord-gateway", version: "0.1.0")
        let maxInFlight = self.maxInFlight
        let health = Duration.seconds(self.healthSeconds)
        let branch = TimeAmount.milliseconds(Int64(self.branchTimeoutMs))
        try await ServiceRunner.run(identity, options: resolved) { router, logger in
            let tokens = try await TokenStore(
                storage: try self.storage.resolve(file: "\(resolved.dataDirectory)/gateway/gateway.sqlite"),
                logger: logger
            )
            func pool(_ service: String, _ endpoints: [Endpoint]) -> BackendPool {
                BackendPool(
                    service: service,
                    endpoints: endpoints,
                    maxInFlight: maxInFlight,
                    tls: resolved.tls?.calling(service),
                    logger: logger
                )
            }
            let gateway = GatewayService(
                backends: .init(
                    intake: pool("intake", intake),
                    qualification: pool("qualification", qualification),
                    supervision: pool("supervision", supervision)
                ),
                tokens: tokens,
                internalCredential: resolved.internalCredential,
                branchTimeout: branch,
                logger: logger
            )
            gateway.register(into: &router)
            if resolved.internalCredential == nil {
                logger.warning("No internal credential is set: the services must run without one too")
            }
            return ServiceRunner.Setup(
                work: [
                    HealthChecker(gateway: gateway, interval: health), TokenRefresher(tokens: tokens, logger: logger),
                ],
                authenticator: BearerAuthenticator(tokens: tokens)
            )
        }
    }
}

extension Serve {
    /// The endpoints of each service, from the flags, the environment or the defaults.
    func backendEndpoints() throws -> (intake: [Endpoint], qualification: [Endpoint], supervision: [Endpoint]) {
        (
            try ServiceOptions.endpoints(
                flag: self.intake,
                option: "intake",
                environment: "ACCORD_INTAKE",
                fallback: "127.0.0.1:7401"
            ),
            try ServiceOptions.endpoints(
                flag: self.qualification,
                option: "qualification",
                environment: "ACCORD_QUALIFICATION",
                fallback: "127.0.0.1:7402"
            ),
            try ServiceOptions.endpoints(
                flag: self.supervision,
                option: "supervision",
                environment: "ACCORD_SUPERVISION",
                fallback: "127.0.0.1:7403"
            )
        )
    }
}

struct PrintAccessMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-matrix",
        abstract: "Print who may call what (role by method) as this build enforces it, as a Markdown table.",
        discussion: "yes: every record the method covers; own: the caller's own agency, or what it supervises."
    )

    func run() {
        print(AccessMatrix.markdown, terminator: "")
    }
}

struct CreateToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-token",
        abstract: "Issue a token directly in the gateway's database (for the first operator token); prints it once.",
        discussion:
            "Run it with the same --data-dir (or --postgres) as the gateway. Later tokens: `accord token create`."
    )

    @Option(help: "agency, program-office, supervisor, auditor or operator.")
    var role: String

    @Option(help: "The agency id (agency role) or supervisor id (supervisor role).")
    var scope: String?

    @Option(help: "Whom the token is for.")
    var name: String

    @Option(help: "How long it lasts: 90d, 12h, 30m, or never. Default 90d.")
    var expiresIn: String?

    @Option(help: "The gateway's data directory (ACCORD_DATA_DIR). Default ./data.")
    var dataDir: String?

    @OptionGroup var storage: StorageOptions

    mutating func run() async throws {
        let lifetime = try self.expiresIn.map { text -> Int64 in
            guard let seconds = Lifetime.seconds(text) else {
                throw ValidationError("--expires-in: \(text) is not a lifetime such as 90d, 12h, 30m or never")
            }
            return seconds
        }
        let directory = self.dataDir ?? ServiceOptions.processEnvironment()["ACCORD_DATA_DIR"] ?? "data"
        var logger = Logger(label: "accord-gateway")
        logger.logLevel = .error
        let tokens = try await TokenStore(
            storage: try self.storage.resolve(file: "\(directory)/gateway/gateway.sqlite"),
            logger: logger
        )
        do {
            let created = try await tokens.create(
                role: self.role,
                scope: self.scope,
                name: self.name,
                expiresInSeconds: lifetime,
                by: "accord-gateway create-token"
            )
            print(created.token!)
            FileHandle.standardError.write(
                "issued \(created.info!.id!) (\(self.role)\(self.scope.map { ":\($0)" } ?? "")) for \(self.name)\n"
                    .data(using: .utf8)!
            )
        } catch let error as RPCError {
            throw ValidationError(error.message)
        }
    }
}
