import AccordCalendar
import AccordMessages
import ArgumentParser

/// The Accord command-line client: every workflow of the services, through the gateway.
@main
struct Accord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord",
        abstract: "Run the 287(g) program through the Accord gateway.",
        discussion: """
            Every command talks to the gateway (--gateway, ACCORD_GATEWAY; default 127.0.0.1:7400) with a bearer
            token (--token, ACCORD_TOKEN). Results print as tables; --json prints JSON for scripts. Lists return
            everything, paging behind the scenes; --limit N cuts them. A failed call prints its status and message
            on standard error and exits 1.
            """,
        subcommands: [
            Health.self, TokenCommand.self, AgencyCommand.self, EngagementCommand.self, RequestCommand.self,
            Evaluation.self, Recommend.self, RulesCommand.self, OfficerCommand.self, Compliance.self,
            AgreementCommand.self, SupervisorCommand.self, Authorize.self, AuthorizationCommand.self,
            ActionCommand.self, ComplaintCommand.self, InspectionCommand.self, MeetingCommand.self, Dossier.self,
            Report.self, AuditCommand.self, ImportCommand.self, ClockCommand.self,
        ]
    )
}

struct Health: GatewayCommand {
    static let configuration = CommandConfiguration(abstract: "Every backend behind the gateway and its state.")
    @OptionGroup var gateway: GatewayOptions

    func run(_ gateway: Gateway) async throws {
        let backends = try await gateway.call(GatewayMethods.getBackends, GetBackendsRequest()).backends
        if !self.gateway.json, let simulated = backends.first(where: { $0.simulatedNowMs != nil }) {
            print(Output.simulatedBanner(now: simulated.simulatedNowMs))
        }
        Output.table(
            backends,
            columns: [
                "service", "endpoint", "state", "in_flight", "simulated_now_ms", "out_since_ms", "last_error",
                "degraded",
            ],
            json: self.gateway.json
        )
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Bearer tokens (operators only).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token; it is shown once.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "agency, program-office, supervisor, auditor or operator.") var role: String
        @Option(help: "The agency id (agency role) or supervisor id (supervisor role).") var scope: String?
        @Option(help: "Whom it is for.") var name: String
        @Option(help: "How long it lasts: 90d, 12h, 30m, or never. Default 90d.") var expiresIn: String?

        func validate() throws {
            if let expiresIn, Lifetime.seconds(expiresIn) == nil {
                throw ValidationError("--expires-in: \(expiresIn) is not a lifetime such as 90d, 12h, 30m or never")
            }
        }

        func run(_ gateway: Gateway) async throws {
            let created = try await gateway.call(
                GatewayMethods.createToken,
                CreateTokenRequest(
                    role: self.role,
                    scope: self.scope,
                    name: self.name,
                    expiresInSeconds: self.expiresIn.flatMap(Lifetime.seconds)
                )
            )
            if self.gateway.json {
                Output.record(created, json: true)
            } else {
                print(
                    "token \(created.info?.id ?? "") for \(self.name) (\(self.role)\(self.scope.map { ":\($0)" } ?? "")):"
                )
                print(created.token ?? "")
                print("It is not stored anywhere: keep it now.")
            }
        }
    }

    struct List: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Tokens issued (not their secrets).")
        @OptionGroup var gateway: GatewayOptions
        @Flag(help: "Include revoked tokens.") var all = false

        func run(_ gateway: Gateway) async throws {
            let tokens = try await gateway.call(GatewayMethods.listTokens, ListTokensRequest(includeRevoked: self.all))
                .tokens
            Output.table(
                tokens,
                columns: ["id", "role", "scope", "name", "expires_at_ms", "last_used_at_ms", "revoked_at_ms"],
                json: self.gateway.json
            )
        }
    }

    struct Revoke: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token at once.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The token id, e.g. tk_3.") var id: String

        func run(_ gateway: Gateway) async throws {
            Output.record(
                try await gateway.call(GatewayMethods.revokeToken, RevokeTokenRequest(tokenId: self.id)),
                json: self.gateway.json
            )
        }
    }
}
