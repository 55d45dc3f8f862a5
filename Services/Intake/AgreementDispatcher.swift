import AccordMessages
public import AccordRPC
import AccordWire
import GRDB
import Logging
public import NIOCore
public import ServiceLifecycle

/// Hands the agreements found on participating ICE sheets to the supervision service.
///
/// Importing a participating row writes an `agreement` row in intake's outbox in the same
/// transaction. The dispatcher sends each one (`Supervision/ImportAgreement`, idempotent per
/// agency, model and signed date) with a deadline and marks it delivered when supervision has
/// it. While supervision is down the rows wait and are retried with backoff; a row sent twice
/// (a crash between the answer and the mark) makes one agreement.
public final class AgreementDispatcher: Service, Sendable {
    let service: IntakeService
    let delivery: OutboxDelivery
    let pollInterval: Duration
    let maxBackoff: Duration

    public init(
        service: IntakeService,
        supervision: [Endpoint],
        callTimeout: TimeAmount = .seconds(2),
        pollInterval: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        internalCredential: String? = nil
    ) {
        self.service = service
        self.delivery = OutboxDelivery(
            endpoints: supervision,
            speakingAs: Principal(role: .programOffice, name: "intake"),
            internalCredential: internalCredential,
            callTimeout: callTimeout,
            logger: service.logger
        )
        self.pollInterval = pollInterval
        self.maxBackoff = maxBackoff
    }

    public func run() async throws {
        let loop = OutboxLoop(
            name: "agreements to supervision",
            pollInterval: self.pollInterval,
            maxBackoff: self.maxBackoff,
            logger: self.service.logger,
            deliver: { try await self.deliverPending() },
            finish: { await self.delivery.client.close() }
        )
        try await loop.run()
    }

    private struct Pending: Sendable {
        let outboxRowid: Int64
        let request: ImportAgreementRequest
    }

    /// Sends what the outbox holds, oldest first; returns how many rows it handled.
    func deliverPending() async throws -> Int {
        let batch = try await self.service.store.read { db -> [Pending] in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT outbox.rowid AS outbox_rowid, imported_agreement.model, imported_agreement.signed_on,
                        imported_agreement.moa_link, imported_agreement.sheet, agency.rowid AS agency_rowid,
                        agency.name, agency.state
                    FROM outbox JOIN imported_agreement ON imported_agreement.rowid = outbox.subject_rowid
                    JOIN agency ON agency.rowid = imported_agreement.agency_rowid
                    WHERE outbox.kind = 'agreement' AND outbox.delivered_at_ms IS NULL
                    ORDER BY outbox.rowid LIMIT 64
                    """
            ).map { row in
                Pending(
                    outboxRowid: row["outbox_rowid"],
                    request: ImportAgreementRequest(
                        agencyId: IntakeRecords.agencyID(row["agency_rowid"]),
                        agencyName: row["name"],
                        state: row["state"],
                        model: Model(rawValue: row["model"]),
                        signedOn: row["signed_on"],
                        moaLink: row["moa_link"],
                        sheet: row["sheet"]
                    )
                )
            }
        }
        for item in batch {
            do {
                _ = try await self.delivery.unary(SupervisionMethods.importAgreement, item.request)
            } catch let error as RPCError where error.code == .invalidArgument {
                // Supervision will never take this row; say so and do not send it again.
                self.service.logger.error(
                    "Supervision refused an imported agreement",
                    metadata: ["agency": "\(item.request.agencyId ?? "")", "error": "\(error)"]
                )
            }
            let now = self.service.now()
            try await self.service.store.write { db in
                try db.execute(
                    sql: "UPDATE outbox SET delivered_at_ms = ? WHERE rowid = ?",
                    arguments: [now, item.outboxRowid]
                )
            }
        }
        return batch.count
    }
}
