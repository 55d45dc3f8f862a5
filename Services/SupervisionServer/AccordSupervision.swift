import AccordRPC
import AccordServiceRuntime
import ArgumentParser
import Logging
import Supervision

/// The supervision service, and an offline verifier of its audit trail.
@main
struct AccordSupervision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-supervision",
        abstract: "Accord supervision service: agreements, authorization, delegated actions, oversight, audit trail.",
        subcommands: [Serve.self, VerifyAudit.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service (the default).",
        discussion: """
            Default RPC port 7403, metrics on 9403, data in <data-dir>/supervision/supervision.sqlite, or in PostgreSQL with --postgres.
            Officers are checked with qualification (default 127.0.0.1:7402) when authorized; requests with
            intake (default 127.0.0.1:7401) when an agreement is offered. Stop it with SIGTERM or Ctrl-C.
            """
    )

    @OptionGroup var options: ServiceOptions

    @OptionGroup var storage: StorageOptions
    @OptionGroup var outbox: OutboxOptions

    @Option(help: "Directory holding supervision.json (ACCORD_RULES_DIR). Default seeds/rules.")
    var rulesDir: String?

    @Option(help: "Qualification endpoints HOST:PORT[,HOST:PORT…] (ACCORD_QUALIFICATION). Default 127.0.0.1:7402.")
    var qualification: String?

    @Option(help: "Intake endpoints HOST:PORT[,HOST:PORT…] (ACCORD_INTAKE). Default 127.0.0.1:7401.")
    var intake: String?

    @Option(help: "Seconds between checks for agreements whose termination notice has run out. Default 60.")
    var clockSeconds: Int = 60

    @Option(
        help:
            "Seconds between sweeps of qualification's training compliance (overdue officers are suspended). Default 900."
    )
    var complianceSeconds: Int = 900

    mutating func run() async throws {
        let resolved = try self.options.resolve(defaultPort: 7403, defaultAdminPort: 9403)
        let rulesDirectory = self.rulesDir ?? ServiceOptions.processEnvironment()["ACCORD_RULES_DIR"] ?? "seeds/rules"
        let qualification = try ServiceOptions.endpoints(
            flag: self.qualification,
            option: "qualification",
            environment: "ACCORD_QUALIFICATION",
            fallback: "127.0.0.1:7402"
        )
        let intake = try ServiceOptions.endpoints(
            flag: self.intake,
            option: "intake",
            environment: "ACCORD_INTAKE",
            fallback: "127.0.0.1:7401"
        )
        guard self.clockSeconds > 0 else { throw ValidationError("--clock-seconds must be positive") }
        guard self.complianceSeconds > 0 else { throw ValidationError("--compliance-seconds must be positive") }
        let sweep = Duration.seconds(self.complianceSeconds)
        let rules: SupervisionRules
        do {
            rules = try SupervisionRules.load(directory: rulesDirectory)
        } catch {
            throw ValidationError("cannot load the supervision rules: \(error)")
        }
        let clock = Duration.seconds(self.clockSeconds)
        let identity = ServiceRunner.Identity(name: "accord-supervision", version: "0.1.0")
        let outbox = try self.outbox.resolve()
        try await ServiceRunner.run(identity, options: resolved) { router, logger in
            func configuration(calling service: String) -> ClientConfiguration {
                var configuration = resolved.clientConfiguration(calling: service)
                configuration.retry.maxAttempts = 2
                return configuration
            }
            let backends = SupervisionService.Backends(
                qualification: RPCClient(
                    endpoints: qualification,
                    configuration: configuration(calling: "qualification"),
                    logger: logger
                ),
                intake: RPCClient(endpoints: intake, configuration: configuration(calling: "intake"), logger: logger),
                internalCredential: resolved.internalCredential
            )
            let service = try await SupervisionService(
                storage: try self.storage.resolve(file: "\(resolved.dataDirectory)/supervision/supervision.sqlite"),
                rules: rules,
                backends: backends,
                logger: logger,
                clock: resolved.clock
            )
            service.register(into: &router)
            logger.info("Supervision rules in force", metadata: ["version": "\(rules.version)"])
            return [
                AgreementClock(service: service, interval: clock),
                ComplianceSweep(service: service, interval: sweep),
                RequestProgressReporter(service: service, settings: outbox),
            ] + [service.clockKeeper.follower].compactMap { $0 }
        }
    }
}

struct VerifyAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-audit",
        abstract: "Verify the audit trail of a supervision database (a copy will do); exit 1 when it is broken.",
        discussion: """
            Walks the hash chain from the first entry and recomputes the hash of every audited record, then
            names the first entry or record that does not match. Opens the database read-only.
            """
    )

    @Argument(help: "Path of supervision.sqlite.")
    var database: String

    func run() throws {
        let verdict: AuditTrail.Verdict
        do {
            verdict = try AuditTrail.verify(databaseAt: self.database)
        } catch let error as AuditTrail.FileError {
            throw ValidationError(error.description)
        }
        print("entries checked: \(verdict.entriesChecked)")
        print("records checked: \(verdict.recordsChecked)")
        print("head hash: \(verdict.headHash)")
        if verdict.intact {
            print("intact")
        } else {
            print("BROKEN at \(verdict.firstBad ?? "?"): \(verdict.problem ?? "")")
            throw ExitCode(1)
        }
    }
}
