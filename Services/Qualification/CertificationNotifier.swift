import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordWire
import GRDB
public import NIOCore
public import ServiceLifecycle

/// Notifies supervision of every certified officer (`Supervision/NotifyCertified`), which
/// authorizes the officer when the agency holds an active agreement of the model. Certified
/// officers not yet notified are the outbox: a crash between certification and the notice loses
/// nothing, and supervision takes the same notice twice as once.
public final class CertificationNotifier: Service, Sendable {
    let service: QualificationService
    let delivery: OutboxDelivery
    let pollInterval: Duration
    let maxBackoff: Duration

    public init(
        service: QualificationService,
        supervision: [Endpoint],
        callTimeout: TimeAmount = .seconds(2),
        pollInterval: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        internalCredential: String? = nil
    ) {
        self.service = service
        self.delivery = OutboxDelivery(
            endpoints: supervision,
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
            name: "certifications to supervision",
            pollInterval: self.pollInterval,
            maxBackoff: self.maxBackoff,
            logger: self.service.logger,
            deliver: { try await self.notifyPending() },
            finish: { await self.delivery.client.close() }
        )
        try await loop.run()
    }

    /// Sends the pending notices, oldest first; returns how many it handled.
    func notifyPending() async throws -> Int {
        let pending = try await self.service.store.read { db in
            try Int64.fetchAll(
                db,
                sql:
                    "SELECT rowid FROM officer WHERE status = 2 AND supervision_notified_at_ms IS NULL ORDER BY rowid LIMIT 32"
            ).map { try QualificationService.loadOfficer(db, $0) }
        }
        for officer in pending {
            do {
                let answer = try await self.delivery.unary(
                    SupervisionMethods.notifyCertified,
                    NotifyCertifiedRequest(
                        officerId: officer.id,
                        agencyId: officer.agencyId,
                        model: officer.model,
                        name: officer.name,
                        certifiedOn: officer.certifiedOn,
                        rulesVersion: officer.rulesVersion
                    )
                )
                if let authorization = answer.authorizationId {
                    self.service.logger.info(
                        "Supervision authorized a certified officer",
                        metadata: ["officer": "\(officer.id ?? "")", "authorization": "\(authorization)"]
                    )
                }
            } catch let error as RPCError where error.code == .invalidArgument {
                self.service.logger.error(
                    "Supervision refused a certification notice",
                    metadata: ["officer": "\(officer.id ?? "")", "error": "\(error)"]
                )
            }
            let now = self.service.now()
            let rowid = try QualificationService.officerRowid(officer.id, field: "officer_id")
            try await self.service.store.write { db in
                try db.execute(
                    sql: "UPDATE officer SET supervision_notified_at_ms = ? WHERE rowid = ?",
                    arguments: [now, rowid]
                )
            }
        }
        return pending.count
    }
}
