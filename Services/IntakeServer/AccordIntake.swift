import AccordRPC
import AccordServiceRuntime
import ArgumentParser
import Intake
import Logging

/// The intake service: agencies, participation requests and ICE sheet import.
@main
struct AccordIntake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-intake",
        abstract: "Accord intake service: agencies, participation requests, ICE sheet import.",
        discussion: """
            Default RPC port 7401, metrics on 9401, data in <data-dir>/intake/intake.sqlite, or in PostgreSQL with --postgres.
            Requests go to qualification for evaluation; agreements from ICE sheets go to supervision.
            Stop it with SIGTERM or Ctrl-C; in-flight calls finish first.
            """
    )

    @OptionGroup var options: ServiceOptions

    @OptionGroup var storage: StorageOptions
    @OptionGroup var outbox: OutboxOptions

    @Option(
        help:
            "Qualification endpoints HOST:PORT[,HOST:PORT…] for request evaluation (ACCORD_QUALIFICATION). Default 127.0.0.1:7402."
    )
    var qualification: String?

    @Option(
        help:
            "Supervision endpoints HOST:PORT[,HOST:PORT…] for handing over imported agreements (ACCORD_SUPERVISION). Default 127.0.0.1:7403."
    )
    var supervision: String?

    @Option(help: "On a new database, import the ICE sheets (*.csv) in this directory first (ACCORD_SEED_ICE_DIR).")
    var seedIceDir: String?

    mutating func run() async throws {
        let resolved = try self.options.resolve(defaultPort: 7401, defaultAdminPort: 9401)
        let identity = ServiceRunner.Identity(name: "accord-intake", version: "0.1.0")
        let qualification = try ServiceOptions.endpoints(
            flag: self.qualification,
            option: "qualification",
            environment: "ACCORD_QUALIFICATION",
            fallback: "127.0.0.1:7402"
        )
        let supervision = try ServiceOptions.endpoints(
            flag: self.supervision,
            option: "supervision",
            environment: "ACCORD_SUPERVISION",
            fallback: "127.0.0.1:7403"
        )
        let outbox = try self.outbox.resolve()
        try await ServiceRunner.run(identity, options: resolved) { router, logger in
            let service = try await IntakeService(
                storage: try self.storage.resolve(file: "\(resolved.dataDirectory)/intake/intake.sqlite"),
                logger: logger,
                clock: resolved.clock
            )
            if let directory = self.seedIceDir ?? ServiceOptions.processEnvironment()["ACCORD_SEED_ICE_DIR"] {
                try await service.importSeedsIfNew(directory: directory)
            }
            service.register(into: &router)
            return [
                EvaluationDispatcher(
                    service: service,
                    qualification: qualification,
                    settings: outbox,
                    internalCredential: resolved.internalCredential,
                    tls: resolved.tls?.calling("qualification")
                ),
                AgreementDispatcher(
                    service: service,
                    supervision: supervision,
                    settings: outbox,
                    internalCredential: resolved.internalCredential,
                    tls: resolved.tls?.calling("supervision")
                ),
            ] + [service.clockKeeper.follower].compactMap { $0 }
        }
    }
}
