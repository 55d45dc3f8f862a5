import AccordRPC
import AccordServiceRuntime
import ArgumentParser
import Logging
import Qualification

/// The qualification service: program requirements as data, request evaluation, model
/// recommendation.
@main
struct AccordQualification: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-qualification",
        abstract: "Accord qualification service: rules as data, request evaluation, model recommendation.",
        discussion: """
            Default RPC port 7402, metrics on 9402, data in <data-dir>/qualification/qualification.sqlite.
            Decisions are reported to intake (default 127.0.0.1:7401) until intake has recorded them.
            """
    )

    @OptionGroup var options: ServiceOptions

    @Option(
        help: "Directory of the rule set: program.json and state-law-287g.csv (ACCORD_RULES_DIR). Default seeds/rules."
    )
    var rulesDir: String?

    @Option(
        help: "Intake endpoints HOST:PORT[,HOST:PORT…] for reporting decisions (ACCORD_INTAKE). Default 127.0.0.1:7401."
    )
    var intake: String?

    mutating func run() async throws {
        let resolved = try self.options.resolve(defaultPort: 7402, defaultAdminPort: 9402)
        let environment = ServiceOptions.processEnvironment()
        let rulesDirectory = self.rulesDir ?? environment["ACCORD_RULES_DIR"] ?? "seeds/rules"
        let intakeText = self.intake ?? environment["ACCORD_INTAKE"] ?? "127.0.0.1:7401"
        let intake = try intakeText.split(separator: ",").map { text in
            guard let endpoint = Endpoint(String(text)) else {
                throw ValidationError("--intake: \(text) is not HOST:PORT")
            }
            return endpoint
        }
        let rules: RuleSet
        do {
            rules = try RuleSet.load(directory: rulesDirectory)
        } catch {
            throw ValidationError("cannot load the rule set: \(error)")
        }
        let identity = ServiceRunner.Identity(name: "accord-qualification", version: "0.1.0")
        try await ServiceRunner.run(identity, options: resolved) { router, logger in
            let service = try QualificationService(
                databasePath: "\(resolved.dataDirectory)/qualification/qualification.sqlite",
                rules: rules,
                logger: logger
            )
            service.register(into: &router)
            return [DecisionReporter(service: service, intake: intake, internalCredential: resolved.internalCredential)]
        }
    }
}
