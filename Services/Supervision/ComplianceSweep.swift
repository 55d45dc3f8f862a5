import AccordMessages
import AccordRPC
import AccordServiceKit
public import ServiceLifecycle

/// Suspends the authority of officers whose recurring training is overdue, and lifts that
/// suspension once they are current: every `interval` it asks qualification for the officers
/// that are overdue today (`Qualification/GetCompliance`, exceptions only). While qualification
/// cannot be reached nothing changes and the sweep is retried with backoff.
public struct ComplianceSweep: Service {
    let service: SupervisionService
    let interval: Duration

    public init(service: SupervisionService, interval: Duration = .seconds(900)) {
        self.service = service
        self.interval = interval
    }

    public func run() async throws {
        guard let qualification = self.service.backends.qualification else { return }
        let loop = OutboxLoop(
            name: "training compliance",
            pollInterval: self.interval,
            maxBackoff: self.interval,
            logger: self.service.logger,
            deliver: {
                // One replica sweeps; another takes over when it stops renewing its turn.
                guard try await self.service.takeTurn("training compliance", lease: self.interval * 2 + .seconds(60))
                else { return 0 }
                let compliance = try await qualification.unary(
                    QualificationMethods.getCompliance,
                    GetComplianceRequest(exceptionsOnly: true),
                    options: self.service.backends.callOptions
                )
                let overdue = Set(compliance.officers.filter { $0.status == .overdue }.compactMap(\.officerId))
                let (suspended, lifted) = try await self.service.applyTrainingCompliance(overdue: overdue)
                if suspended + lifted > 0 {
                    self.service.logger.notice(
                        "Training compliance applied",
                        metadata: [
                            "suspended": "\(suspended)", "lifted": "\(lifted)", "as_of": "\(compliance.asOf ?? "")",
                        ]
                    )
                }
                return 0  // wait a full interval before the next sweep
            }
        )
        try await loop.run()
    }
}
