import AccordMessages
import AccordServiceKit
import AccordStorage

extension SQLIntakeStore {
    func claimEvaluations(limit: Int, now: Int64, lease: Int64) async throws -> [PendingEvaluation] {
        try await self.database.write { db in
            try db.claimRows(
                "outbox",
                pending: "kind = 'evaluate' AND delivered_at_ms IS NULL",
                now: now,
                lease: lease,
                limit: limit
            ) {
                """
                SELECT outbox.rowid AS outbox_rowid, outbox.revision AS outbox_revision, request.*
                FROM outbox JOIN request ON request.rowid = outbox.subject_rowid
                WHERE outbox.rowid IN (\($0)) ORDER BY outbox.rowid
                """
            }
            .map { row in
                PendingEvaluation(
                    outboxRowid: row["outbox_rowid"],
                    revision: row["outbox_revision"],
                    request: IntakeRows.request(row),
                    agency: try Self.loadAgency(db, row["agency_rowid"])!
                )
            }
        }
    }

    func evaluationDelivered(_ item: PendingEvaluation, sent: Bool, at now: Int64) async throws {
        try await self.database.write { db in
            try Self.markDelivered(db, item.outboxRowid, at: now)
            guard sent else { return }
            try db.execute(
                """
                UPDATE request SET status = ?, updated_by = 'intake (hand-off)', updated_at_ms = ?,
                    updated_why = 'sent to qualification'
                WHERE rowid = ? AND revision = ? AND status = ?
                """,
                [
                    RequestStatus.underReview.rawValue, now, RecordID.rowid(of: item.request.id), item.revision,
                    RequestStatus.received.rawValue,
                ]
            )
        }
    }

    func claimAgreements(limit: Int, now: Int64, lease: Int64) async throws -> [PendingAgreement] {
        try await self.database.write { db in
            try db.claimRows(
                "outbox",
                pending: "kind = 'agreement' AND delivered_at_ms IS NULL",
                now: now,
                lease: lease,
                limit: limit
            ) {
                """
                SELECT outbox.rowid AS outbox_rowid, imported_agreement.model, imported_agreement.signed_on,
                    imported_agreement.moa_link, imported_agreement.sheet, agency.rowid AS agency_rowid,
                    agency.name, agency.state
                FROM outbox JOIN imported_agreement ON imported_agreement.rowid = outbox.subject_rowid
                JOIN agency ON agency.rowid = imported_agreement.agency_rowid
                WHERE outbox.rowid IN (\($0)) ORDER BY outbox.rowid
                """
            }
            .map(Self.pendingAgreement)
        }
    }

    private static func pendingAgreement(_ row: SQLRow) -> PendingAgreement {
        PendingAgreement(
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

    func agreementDelivered(_ item: PendingAgreement, at now: Int64) async throws {
        try await self.database.write { db in try Self.markDelivered(db, item.outboxRowid, at: now) }
    }

    func releaseOutbox(_ rowids: [Int64]) async throws {
        try await self.database.write { db in try db.release("outbox", rowids) }
    }

    private static func markDelivered(_ db: any SQLSession, _ rowid: Int64, at now: Int64) throws {
        try db.execute("UPDATE outbox SET delivered_at_ms = ? WHERE rowid = ?", [now, rowid])
    }
}
