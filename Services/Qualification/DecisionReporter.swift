import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordWire
import GRDB
public import NIOCore
public import ServiceLifecycle

/// Reports each evaluation to intake (`Intake/RecordDecision`) until intake has recorded it.
/// The evaluation rows not yet reported are the outbox: a crash between the decision and the
/// report loses nothing, and intake takes the same decision twice as once.
public final class DecisionReporter: Service, Sendable {
    let service: QualificationService
    let delivery: OutboxDelivery
    let pollInterval: Duration
    let maxBackoff: Duration

    public init(
        service: QualificationService,
        intake: [Endpoint],
        callTimeout: TimeAmount = .seconds(2),
        pollInterval: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        internalCredential: String? = nil
    ) {
        self.service = service
        self.delivery = OutboxDelivery(
            endpoints: intake,
            speakingAs: Principal(role: .programOffice, name: "qualification"),
            internalCredential: internalCredential,
            callTimeout: callTimeout,
            logger: service.logger
        )
        self.pollInterval = pollInterval
        self.maxBackoff = maxBackoff
    }

    public func run() async throws {
        let loop = OutboxLoop(
            name: "decisions to intake",
            pollInterval: self.pollInterval,
            maxBackoff: self.maxBackoff,
            logger: self.service.logger,
            deliver: { try await self.reportPending() },
            finish: { await self.delivery.client.close() }
        )
        try await loop.run()
    }

    /// Sends the unreported decisions, oldest first; returns how many it handled.
    func reportPending() async throws -> Int {
        let pending = try await self.service.store.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM evaluation WHERE reported_at_ms IS NULL ORDER BY decided_at_ms LIMIT 32"
            ).map(QualificationService.evaluation)
        }
        for evaluation in pending {
            do {
                _ = try await self.delivery.unary(
                    IntakeMethods.recordDecision,
                    RecordDecisionRequest(
                        requestId: evaluation.requestId,
                        revision: evaluation.revision,
                        status: evaluation.status,
                        deficiencies: evaluation.failed.map { Deficiency(code: $0.code, message: $0.message) },
                        rulesVersion: evaluation.rulesVersion
                    )
                )
            } catch let error as RPCError
                where error.code == .failedPrecondition || error.code == .notFound || error.code == .invalidArgument
            {
                // The request moved on (amended, withdrawn) or is gone: nothing to record.
                self.service.logger.notice(
                    "Intake did not take a decision",
                    metadata: ["request": "\(evaluation.requestId ?? "")", "error": "\(error)"]
                )
            }
            let now = self.service.now()
            try await self.service.store.write { db in
                try db.execute(
                    sql: "UPDATE evaluation SET reported_at_ms = ? WHERE request_id = ? AND revision = ?",
                    arguments: [now, evaluation.requestId, Int64(evaluation.revision ?? 0)]
                )
            }
        }
        return pending.count
    }
}
