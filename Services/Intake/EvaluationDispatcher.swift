import AccordMessages
public import AccordRPC
import AccordWire
import GRDB
import Logging
public import NIOCore
public import ServiceLifecycle

/// Delivers the evaluations queued in intake's outbox to the qualification service.
///
/// A submitted or amended request writes an `evaluate` row in the same transaction as the
/// request, so nothing is lost to a crash. The dispatcher sends each row (the request at that
/// revision and its agency's facts) with a deadline, marks it delivered when qualification
/// acknowledges it, and moves the request from RECEIVED to UNDER_REVIEW. While qualification is
/// down or slow the rows wait and are sent again with backoff; the request stays RECEIVED.
/// Qualification treats a revision it already has as done, so a row sent twice (a crash between
/// the acknowledgement and the mark) is evaluated once.
public final class EvaluationDispatcher: Service, Sendable {
    let service: IntakeService
    let delivery: OutboxDelivery
    let pollInterval: Duration
    let maxBackoff: Duration

    public init(
        service: IntakeService,
        qualification: [Endpoint],
        callTimeout: TimeAmount = .seconds(2),
        pollInterval: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        internalCredential: String? = nil
    ) {
        self.service = service
        self.delivery = OutboxDelivery(
            endpoints: qualification,
            speakingAs: Principal(role: .operator, name: "intake"),
            internalCredential: internalCredential,
            callTimeout: callTimeout,
            logger: service.logger
        )
        self.pollInterval = pollInterval
        self.maxBackoff = maxBackoff
    }

    public func run() async throws {
        let loop = OutboxLoop(
            name: "evaluations to qualification",
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
        let revision: Int64
        let request: ParticipationRequest
        let agency: Agency
    }

    /// Sends what the outbox holds, oldest first; returns how many rows it handled.
    func deliverPending() async throws -> Int {
        let batch = try await self.service.store.read { db -> [Pending] in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT outbox.rowid AS outbox_rowid, outbox.revision AS outbox_revision, request.*
                    FROM outbox JOIN request ON request.rowid = outbox.subject_rowid
                    WHERE outbox.kind = 'evaluate' AND outbox.delivered_at_ms IS NULL
                    ORDER BY outbox.rowid LIMIT 32
                    """
            )
            return try rows.map { row in
                let request = IntakeRecords.request(row)
                let agency = try Row.fetchOne(
                    db,
                    sql: "SELECT \(IntakeRecords.agencyColumns) FROM agency WHERE rowid = ?",
                    arguments: [row["agency_rowid"] as Int64]
                ).map(IntakeRecords.agency)!
                return Pending(
                    outboxRowid: row["outbox_rowid"],
                    revision: row["outbox_revision"],
                    request: request,
                    agency: agency
                )
            }
        }
        for item in batch {
            // A revision amended since, or a request withdrawn, needs no evaluation.
            let current = Int64(item.request.revision ?? 0) == item.revision && item.request.status == .received
            if current {
                _ = try await self.delivery.unary(
                    QualificationMethods.evaluateRequest,
                    EvaluateRequestRequest(request: item.request, agency: item.agency)
                )
            }
            let now = self.service.now()
            try await self.service.store.write { db in
                try db.execute(
                    sql: "UPDATE outbox SET delivered_at_ms = ? WHERE rowid = ?",
                    arguments: [now, item.outboxRowid]
                )
                guard current else { return }
                try db.execute(
                    sql: """
                        UPDATE request SET status = ?, updated_by = 'intake (hand-off)', updated_at_ms = ?,
                            updated_why = 'sent to qualification'
                        WHERE rowid = ? AND revision = ? AND status = ?
                        """,
                    arguments: [
                        RequestStatus.underReview.rawValue, now, IntakeRecords.rowid(item.request.id!, prefix: "rq"),
                        item.revision, RequestStatus.received.rawValue,
                    ]
                )
            }
        }
        return batch.count
    }
}
