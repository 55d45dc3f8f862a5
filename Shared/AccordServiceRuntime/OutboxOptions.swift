public import AccordServiceKit
public import ArgumentParser

/// How a service's outbox senders share their rows with other replicas of the service.
public struct OutboxOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "Seconds an outbox sender holds the rows it took; a replica that dies holding them gives them up to the others after this (ACCORD_OUTBOX_LEASE_SECONDS). Default 120.",
            valueName: "seconds"
        )
    )
    public var outboxLeaseSeconds: Int?

    public init() {}

    /// The outbox settings the flags and environment choose.
    public func resolve(environment: [String: String] = ServiceOptions.processEnvironment()) throws -> OutboxSettings {
        let text = self.outboxLeaseSeconds.map(String.init) ?? environment["ACCORD_OUTBOX_LEASE_SECONDS"] ?? "120"
        guard let seconds = Int(text), (1...86_400).contains(seconds) else {
            throw ValidationError("outbox lease \(text) is not a number of seconds between 1 and 86400")
        }
        var settings = OutboxSettings.defaults
        settings.claimLease = .seconds(seconds)
        return settings
    }
}
