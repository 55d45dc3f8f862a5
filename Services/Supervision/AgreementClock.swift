import AccordRPC
import AccordServiceKit
public import ServiceLifecycle

/// Ends agreements whose 90-day termination notice has run out, as of their effective date,
/// revoking the authorizations under them. Checks every `interval` until the service stops.
public struct AgreementClock: Service {
    let service: SupervisionService
    let interval: Duration

    public init(service: SupervisionService, interval: Duration = .seconds(60)) {
        self.service = service
        self.interval = interval
    }

    public func run() async throws {
        let loop = OutboxLoop(
            name: "termination clock",
            pollInterval: self.interval,
            maxBackoff: self.interval * 4,
            logger: self.service.logger,
            deliver: {
                // One replica keeps the clock; another takes over when it stops renewing its turn.
                guard try await self.service.takeTurn("termination clock", lease: self.interval * 3) else { return 0 }
                let ended = try await self.service.applyDueTerminations()
                if ended > 0 {
                    self.service.logger.notice(
                        "Agreements terminated at the end of their notice",
                        metadata: ["count": "\(ended)"]
                    )
                }
                return ended
            },
            finish: { await self.service.close() }
        )
        try await loop.run()
    }
}
