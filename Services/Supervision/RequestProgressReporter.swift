import AccordMessages
import AccordRPC
import AccordServiceKit
import GRDB
public import ServiceLifecycle

/// Tells intake that an agreement was offered from a request, or signed
/// (`Intake/RecordAgreementProgress`), from supervision's outbox, until intake has it. Intake
/// takes the same progress twice as once, so a crash between the answer and the mark is harmless.
public struct RequestProgressReporter: Service {
    let service: SupervisionService

    public init(service: SupervisionService) {
        self.service = service
    }

    public func run() async throws {
        guard let intake = self.service.backends.intake else { return }
        let loop = OutboxLoop(
            name: "request progress to intake",
            logger: self.service.logger,
            deliver: { try await self.deliverPending(intake) }
        )
        try await loop.run()
    }

    func deliverPending(_ intake: RPCClient) async throws -> Int {
        let pending = try await self.service.store.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT rowid, request_id, status, agreement_rowid FROM outbox WHERE delivered_at_ms IS NULL ORDER BY rowid LIMIT 32"
            ).map {
                (
                    rowid: $0["rowid"] as Int64,
                    request: RecordAgreementProgressRequest(
                        requestId: $0["request_id"],
                        status: RequestStatus(rawValue: $0["status"]),
                        agreementId: SupervisionService.id("mo", $0["agreement_rowid"])
                    )
                )
            }
        }
        for item in pending {
            do {
                _ = try await intake.unary(
                    IntakeMethods.recordAgreementProgress,
                    item.request,
                    options: self.service.backends.callOptions
                )
            } catch let error as RPCError
                where [.failedPrecondition, .notFound, .invalidArgument].contains(error.code)
            {
                // The request moved on (withdrawn, say) or is unknown: nothing more to tell.
                self.service.logger.notice(
                    "Intake did not take agreement progress",
                    metadata: ["request": "\(item.request.requestId ?? "")", "error": "\(error)"]
                )
            }
            let now = self.service.now()
            try await self.service.store.write { db in
                try db.execute(
                    sql: "UPDATE outbox SET delivered_at_ms = ? WHERE rowid = ?",
                    arguments: [now, item.rowid]
                )
            }
        }
        return pending.count
    }
}
