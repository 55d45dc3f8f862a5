import AccordCalendar
import AccordMessages
import ArgumentParser

/// The services' clocks: real time, or on a staging or training deployment a simulated clock
/// that operators move forward.
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "What time it is for each service; move a simulated clock forward.",
        discussion: """
            A deployment started with --simulated-clock (and --non-production) runs on a simulated clock: every rule \
            that depends on time (authority lapsing, training falling due, notices taking effect, deadlines) reads it. \
            It never goes back.
            """,
        subcommands: [Show.self, Advance.self],
        defaultSubcommand: Show.self
    )

    struct Show: GatewayCommand {
        static let configuration = CommandConfiguration(abstract: "The clock of every service endpoint.")
        @OptionGroup var gateway: GatewayOptions

        func run(_ gateway: Gateway) async throws {
            let clocks = try await gateway.call(GatewayMethods.getClocks, GetClockRequest()).clocks
            if !self.gateway.json, let simulated = clocks.first(where: { $0.simulated == true }) {
                print(Output.simulatedBanner(now: simulated.nowMs))
            }
            Output.table(
                clocks,
                columns: ["server", "simulated", "now_ms", "moved_at_ms", "moved_by", "reason"],
                json: self.gateway.json
            )
        }
    }

    struct Advance: GatewayCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the simulated clock of every service forward (operators only).",
            discussion: """
                Give the time to move to (--to) or how far to move (--days). Every endpoint of every service moves; \
                when one cannot be reached the command fails naming it, and running it again with the same --to is \
                safe. Authority, training and notices are re-checked by the services' periodic sweeps \
                (supervision's --clock-seconds and --compliance-seconds) soon after.
                """
        )
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "The time to move to: YYYY-MM-DD (midnight UTC) or an ISO 8601 time.") var to: String?
        @Option(help: "Move this many days forward from the clock's reading now.") var days: Int?
        @Option(help: "Why, for the record.") var reason: String

        func validate() throws {
            guard (self.to == nil) != (self.days == nil) else {
                throw ValidationError("give either --to or --days")
            }
            if let days, days <= 0 { throw ValidationError("--days must be positive") }
        }

        func run(_ gateway: Gateway) async throws {
            let target: Int64
            if let to = self.to {
                target = try await gateway.moment(to, option: "--to")
            } else {
                let clocks = try await gateway.call(GatewayMethods.getClocks, GetClockRequest()).clocks
                guard let now = clocks.compactMap(\.nowMs).max() else {
                    throw ValidationError("no service answered with its clock")
                }
                target = now + Int64(self.days ?? 0) * 86_400_000
            }
            let clocks = try await gateway.call(
                GatewayMethods.advanceClocks,
                AdvanceClockRequest(toMs: target, reason: self.reason)
            ).clocks
            if !self.gateway.json { print("moved every service's clock to \(Moment.text(target))") }
            Output.table(clocks, columns: ["server", "now_ms", "moved_by", "reason"], json: self.gateway.json)
        }
    }
}
