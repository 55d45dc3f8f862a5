import AccordMessages
import AccordServiceKit
import AccordStorage

extension SQLIntakeStore {
    func submitRequest(
        _ fields: RequestFields,
        idempotencyKey: String?,
        _ change: ChangeStamp
    ) async throws -> ParticipationRequest {
        try await self.database.write { db in
            if let idempotencyKey, let earlier = try Self.requestForKey(db, idempotencyKey) { return earlier }
            let rowid: Int64
            do {
                rowid = try Self.insertRequest(db, fields, source: "api", change)
            } catch let refusal as IntakeStoreError {
                // Another replica may have committed this key's request since the look-up above
                // (the request and its key together): the caller gets that first result.
                guard case .openRequestExists = refusal, let idempotencyKey,
                    let earlier = try Self.requestForKey(db, idempotencyKey)
                else { throw refusal }
                return earlier
            }
            if let idempotencyKey {
                try db.execute("INSERT INTO idempotency (key, request_rowid) VALUES (?, ?)", [idempotencyKey, rowid])
            }
            return try Self.loadRequest(db, rowid)!
        }
    }

    private static func requestForKey(_ db: any SQLSession, _ key: String) throws -> ParticipationRequest? {
        try db.row(
            "SELECT request.* FROM idempotency JOIN request ON request.rowid = idempotency.request_rowid WHERE key = ?",
            [key]
        ).map(IntakeRows.request)
    }

    /// Inserts a RECEIVED request after checking its agency exists and no open request of the same
    /// agency, model and partner does; queues its evaluation. Returns the row id.
    static func insertRequest(
        _ db: any SQLSession,
        _ fields: RequestFields,
        source: String,
        _ change: ChangeStamp
    ) throws
        -> Int64
    {
        guard try self.loadAgency(db, fields.agencyRowid) != nil else {
            throw IntakeStoreError.agencyNotFound(IntakeRecords.agencyID(fields.agencyRowid))
        }
        try self.refuseOpenRequest(db, fields)
        let rowid = try db.value(
            Int64.self,
            """
            INSERT INTO request (agency_rowid, model, partner, consent_name, consent_office, consent_signed_on,
                expected_encounters, detention_capacity, officers_proposed, status, revision, source,
                created_by, created_at_ms, created_why, updated_by, updated_at_ms, updated_why)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?) RETURNING rowid
            """,
            [fields.agencyRowid, fields.model.rawValue, fields.partner.rawValue]
                + self.consentArguments(fields.consent) + self.needsArguments(fields.needs)
                + [
                    RequestStatus.received.rawValue, source, change.who, change.at, change.why, change.who, change.at,
                    change.why,
                ]
        )!
        try self.queueEvaluation(db, rowid: rowid, revision: 1, at: change.at)
        try self.recordStatus(db, rowid, .received, at: change.at)
        try self.appendChange(db, entity: "request", id: IntakeRecords.requestID(rowid), action: "submit", change)
        return rowid
    }

    private static func consentArguments(_ consent: ConsentFields?) -> SQLArguments {
        [consent?.officialName, consent?.office, consent?.signedOn]
    }

    private static func needsArguments(_ needs: NeedsFields?) -> SQLArguments {
        [needs.map { Int64($0.encounters) }, needs.map { Int64($0.capacity) }, needs.map { Int64($0.officers) }]
    }

    private static func refuseOpenRequest(_ db: any SQLSession, _ fields: RequestFields) throws {
        let open = RequestStateMachine.open.map { Int64($0.rawValue) }
        guard
            let row = try db.row(
                """
                SELECT rowid, status FROM request WHERE agency_rowid = ? AND model = ? AND partner = ?
                AND status IN (\(open.map { _ in "?" }.joined(separator: ",")))
                """,
                SQLArguments([
                    fields.agencyRowid, Int64(fields.model.rawValue), Int64(fields.partner.rawValue),
                ])
                    + SQLArguments(open)
            )
        else { return }
        throw IntakeStoreError.openRequestExists(
            id: IntakeRecords.requestID(row["rowid"]),
            status: RequestStatus(rawValue: row["status"]),
            model: fields.model,
            partner: fields.partner
        )
    }

    /// Queues the evaluation of one revision for delivery to the qualification service.
    static func queueEvaluation(_ db: any SQLSession, rowid: Int64, revision: Int64, at now: Int64) throws {
        try db.execute(
            "INSERT INTO outbox (kind, subject_rowid, revision, created_at_ms) VALUES ('evaluate', ?, ?, ?)",
            [rowid, revision, now]
        )
    }

    static func loadRequest(_ db: any SQLSession, _ rowid: Int64) throws -> ParticipationRequest? {
        try db.row("SELECT * FROM request WHERE rowid = ?", [rowid])
            .map(IntakeRows.request)
    }

    func request(rowid: Int64) async throws -> ParticipationRequest? {
        try await self.database.read { db in try Self.loadRequest(db, rowid) }
    }

    func changeRequest(
        rowid: Int64,
        _ change: ChangeStamp,
        _ decide: @escaping @Sendable (ParticipationRequest) throws -> RequestChange?
    ) async throws -> ParticipationRequest {
        try await self.database.write { db in
            try db.lockRow("request", rowid)
            guard let current = try Self.loadRequest(db, rowid) else {
                throw IntakeStoreError.requestNotFound(IntakeRecords.requestID(rowid))
            }
            guard let update = try decide(current) else { return current }
            try Self.apply(db, update, to: rowid, change)
            if update.status != current.status { try Self.recordStatus(db, rowid, update.status, at: change.at) }
            if update.newRevision {
                try Self.queueEvaluation(db, rowid: rowid, revision: Int64(current.revision ?? 0) + 1, at: change.at)
            }
            try Self.appendChange(
                db,
                entity: "request",
                id: current.id!,
                action: update.action,
                change.because(update.logWhy ?? change.why)
            )
            return try Self.loadRequest(db, rowid)!
        }
    }

    /// Appends to the request's status history.
    static func recordStatus(_ db: any SQLSession, _ rowid: Int64, _ status: RequestStatus, at moment: Int64) throws {
        try db.execute(
            "INSERT INTO request_status_history (request_rowid, status, at_ms) VALUES (?, ?, ?)",
            [rowid, status.rawValue, moment]
        )
    }

    private static func apply(
        _ db: any SQLSession,
        _ update: RequestChange,
        to rowid: Int64,
        _ change: ChangeStamp
    ) throws {
        var sets = ["status = ?", "updated_by = ?", "updated_at_ms = ?", "updated_why = ?"]
        var arguments: SQLArguments = [update.status.rawValue, change.who, change.at, change.why]
        if update.newRevision { sets += ["revision = revision + 1", "deficiencies = ''"] }
        if let consent = update.consent {
            sets += ["consent_name = ?", "consent_office = ?", "consent_signed_on = ?"]
            arguments += self.consentArguments(consent)
        }
        if let needs = update.needs {
            sets += ["expected_encounters = ?", "detention_capacity = ?", "officers_proposed = ?"]
            arguments += self.needsArguments(needs)
        }
        if let deficiencies = update.deficiencies {
            sets.append("deficiencies = ?")
            arguments += [IntakeRows.deficiencies(encoding: deficiencies)]
        }
        if let version = update.rulesVersion {
            sets.append("rules_version = ?")
            arguments += [version]
        }
        try db.execute("UPDATE request SET \(sets.joined(separator: ", ")) WHERE rowid = ?", arguments + [rowid])
    }

    func requests(_ filter: RequestFilter, after: Int64, limit: Int) async throws -> [ParticipationRequest] {
        var conditions = SQLFilter()
        for rowid in filter.agencyRowids { conditions.add("request.agency_rowid = ?", [rowid]) }
        conditions.equal("agency.state", filter.state)
        conditions.equal("request.status", filter.status?.rawValue)
        conditions.equal("request.model", filter.model?.rawValue)
        conditions.equal("request.partner", filter.partner?.rawValue)
        if let moment = filter.createdAtOrBefore { conditions.add("request.created_at_ms <= ?", [moment]) }
        conditions.add("request.rowid > ?", [after])
        return try await self.database.read { [conditions] db in
            try db.rows(
                """
                SELECT request.* FROM request JOIN agency ON agency.rowid = request.agency_rowid
                WHERE \(conditions.sql) ORDER BY request.rowid LIMIT ?
                """,
                conditions.arguments + [limit]
            ).map(IntakeRows.request)
        }
    }

    func requestCounts(asOf moment: Int64?) async throws -> [RequestCount] {
        // Now: the requests' statuses; as of a moment: the statuses their history had then.
        let sql =
            moment == nil
            ? """
            SELECT agency.state, request.model, request.partner, request.status, count(*) AS n
            FROM request JOIN agency ON agency.rowid = request.agency_rowid
            GROUP BY agency.state, request.model, request.partner, request.status
            ORDER BY agency.state, request.model, request.partner, request.status
            """
            : """
            SELECT state, model, partner, status, count(*) AS n FROM (
                SELECT agency.state, request.model, request.partner,
                    (SELECT s.status FROM request_status_history s WHERE s.request_rowid = request.rowid AND s.at_ms <= ?1
                     ORDER BY s.at_ms DESC, s.rowid DESC LIMIT 1) AS status
                FROM request JOIN agency ON agency.rowid = request.agency_rowid WHERE request.created_at_ms <= ?1
            ) AS counted WHERE status IS NOT NULL
            GROUP BY state, model, partner, status ORDER BY state, model, partner, status
            """
        return try await self.database.read { db in
            try db.rows(sql, moment.map { [$0] } ?? []).map {
                RequestCount(
                    state: $0["state"],
                    model: Model(rawValue: $0["model"]),
                    partner: FederalPartner(rawValue: $0["partner"]),
                    status: RequestStatus(rawValue: $0["status"]),
                    count: UInt32(clamping: $0["n"] as Int64)
                )
            }
        }
    }

    func daysToFirstDecision(asOf moment: Int64?) async throws -> [Int64] {
        try await self.database.read { db in
            try db.values(
                Int64.self,
                """
                SELECT (min(change_log.at_ms) - request.created_at_ms) / 86400000 AS days
                FROM request JOIN change_log ON change_log.entity = 'request'
                    AND change_log.entity_id = 'rq_' || request.rowid AND change_log.action LIKE 'decide:%'
                WHERE change_log.at_ms <= ?
                GROUP BY request.rowid ORDER BY days
                """,
                [moment ?? Int64.max]
            )
        }
    }
}
