import AccordMessages
import AccordRPC
import AccordServiceKit
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
            Default RPC port 7402, metrics on 9402, data in <data-dir>/qualification/qualification.sqlite, or in PostgreSQL with --postgres.
            Decisions are reported to intake (default 127.0.0.1:7401) until intake has recorded them;
            certified officers are notified to supervision (default 127.0.0.1:7403) until it has them.
            An evaluation asks supervision for the agency's agreements (its standing); while supervision
            cannot answer, evaluations fail UNAVAILABLE and intake asks again later. A nomination asks
            intake for the agency (it must exist, and have a jail for a jail model); while intake cannot
            answer, nominations fail UNAVAILABLE.
            """
    )

    @OptionGroup var options: ServiceOptions

    @OptionGroup var storage: StorageOptions
    @OptionGroup var outbox: OutboxOptions

    @Option(
        help: "Directory of the rule set: program.json and state-law-287g.csv (ACCORD_RULES_DIR). Default seeds/rules."
    )
    var rulesDir: String?

    @Option(
        help: "Intake endpoints HOST:PORT[,HOST:PORT…] for reporting decisions (ACCORD_INTAKE). Default 127.0.0.1:7401."
    )
    var intake: String?

    @Option(
        help:
            "Supervision endpoints HOST:PORT[,HOST:PORT…] for certification notices and agency standing (ACCORD_SUPERVISION). Default 127.0.0.1:7403."
    )
    var supervision: String?

    mutating func run() async throws {
        let resolved = try self.options.resolve(defaultPort: 7402, defaultAdminPort: 9402)
        let environment = ServiceOptions.processEnvironment()
        let rulesDirectory = self.rulesDir ?? environment["ACCORD_RULES_DIR"] ?? "seeds/rules"
        let intake = try ServiceOptions.endpoints(
            flag: self.intake,
            option: "intake",
            environment: "ACCORD_INTAKE",
            fallback: "127.0.0.1:7401"
        )
        let supervision = try ServiceOptions.endpoints(
            flag: self.supervision,
            option: "supervision",
            environment: "ACCORD_SUPERVISION",
            fallback: "127.0.0.1:7403"
        )
        let rules = try Self.rules(rulesDirectory)
        let outbox = try self.outbox.resolve()
        let identity = ServiceRunner.Identity(name: "accord-qualification", version: "0.1.0")
        try await ServiceRunner.run(identity, options: resolved) { router, logger in
            let service = try await QualificationService(
                storage: try self.storage.resolve(file: "\(resolved.dataDirectory)/qualification/qualification.sqlite"),
                rules: rules,
                logger: logger,
                clock: resolved.clock,
                agreementsOf: Self.standing(Self.asker(supervision, "supervision", resolved, logger)),
                agencyOf: Self.agencies(Self.asker(intake, "intake", resolved, logger)),
                requestOf: Self.requests(Self.asker(intake, "intake", resolved, logger))
            )
            service.register(into: &router)
            return [
                DecisionReporter(
                    service: service,
                    intake: intake,
                    settings: outbox,
                    internalCredential: resolved.internalCredential,
                    tls: resolved.tls?.calling("intake")
                ),
                CertificationNotifier(
                    service: service,
                    supervision: supervision,
                    settings: outbox,
                    internalCredential: resolved.internalCredential,
                    tls: resolved.tls?.calling("supervision")
                ),
            ] + [service.clockKeeper.follower].compactMap { $0 }
        }
    }

    /// Calls to `service`, as the program office, two seconds each.
    static func asker(
        _ endpoints: [Endpoint],
        _ service: String,
        _ options: ServiceOptions.Resolved,
        _ logger: Logger
    ) -> OutboxDelivery {
        OutboxDelivery(
            endpoints: endpoints,
            speakingAs: Principal(role: .programOffice, name: "qualification"),
            internalCredential: options.internalCredential,
            callTimeout: .seconds(2),
            tls: options.tls?.calling(service),
            logger: logger
        )
    }

    /// Evaluations check the agency's standing with supervision at that moment.
    static func standing(_ delivery: OutboxDelivery) -> QualificationService.AgreementsOf {
        { agencyID in
            try await delivery.unary(
                SupervisionMethods.listAgreements,
                ListAgreementsRequest(agencyId: agencyID, page: PageRequest(pageSize: 1000))
            ).agreements
        }
    }

    /// Nominations are checked against intake's agencies: nil for one intake does not have.
    static func agencies(_ delivery: OutboxDelivery) -> QualificationService.AgencyOf {
        { agencyID in
            do {
                return try await delivery.unary(IntakeMethods.getAgency, GetAgencyRequest(agency: agencyID))
            } catch let error as RPCError where error.code == .notFound {
                return nil
            }
        }
    }

    /// Evaluation previews read the request and its agency from intake: nil for a request intake
    /// does not have.
    static func requests(_ delivery: OutboxDelivery) -> QualificationService.RequestOf {
        { requestID in
            do {
                let request = try await delivery.unary(
                    IntakeMethods.getRequest,
                    GetRequestRequest(requestId: requestID)
                )
                let agency = try await delivery.unary(
                    IntakeMethods.getAgency,
                    GetAgencyRequest(agency: request.agencyId)
                )
                return (request, agency)
            } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
                return nil
            }
        }
    }

    /// The rule set in `directory`, or an error saying why it cannot be used.
    static func rules(_ directory: String) throws -> RuleSet {
        do {
            return try RuleSet.load(directory: directory)
        } catch {
            throw ValidationError("cannot load the rule set: \(error)")
        }
    }
}
