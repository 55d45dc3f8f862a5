import AccordMessages
import AccordServiceKit
import AccordStorage
import Logging

/// Qualification's store, written once over the SQL both engines run (``SQLDatabase``): SQLite or PostgreSQL.
final class SQLQualificationStore: QualificationStore {
    let database: any SQLDatabase

    /// Opens (or creates) the database and migrates it.
    init(_ location: StorageLocation, logger: Logger) async throws {
        self.database = try await location.open(QualificationSchema.migrations, logger: logger)
    }

    // MARK: Evaluations

    func hasEvaluation(requestID: String, revision: UInt32) async throws -> Bool {
        try await self.database.read { db in
            try db.value(
                Bool.self,
                "SELECT EXISTS (SELECT 1 FROM evaluation WHERE request_id = ? AND revision = ?)",
                [requestID, Int64(revision)]
            ) ?? false
        }
    }

    func recordEvaluation(_ evaluation: EvaluationRecord) async throws -> Bool {
        try await self.database.write { db in
            try db.execute(
                """
                INSERT INTO evaluation (request_id, revision, status, failed, rules_version, decided_on, decided_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
                [
                    evaluation.requestID, Int64(evaluation.revision), evaluation.status.rawValue,
                    QualificationRows.encode(evaluation.failed), evaluation.rulesVersion, evaluation.decidedOn,
                    evaluation.decidedAtMs,
                ]
            ) > 0
        }
    }

    func evaluation(requestID: String, revision: UInt32?) async throws -> Evaluation? {
        try await self.database.read { db in
            if let revision {
                return try db.row(
                    "SELECT * FROM evaluation WHERE request_id = ? AND revision = ?",
                    [requestID, Int64(revision)]
                ).map(QualificationRows.evaluation)
            }
            return try db.row(
                "SELECT * FROM evaluation WHERE request_id = ? ORDER BY revision DESC LIMIT 1",
                [requestID]
            ).map(QualificationRows.evaluation)
        }
    }

    // MARK: Rule sets

    func recordRuleSet(_ record: RuleSetRecord, ifNew: Bool) async throws {
        try await self.database.write { db in
            let known = try db.value(String.self, "SELECT version FROM rule_set WHERE version = ?", [record.version])
            if known != nil {
                if ifNew { return }
                throw QualificationStoreError.ruleSetExists(record.version)
            }
            try db.execute(
                """
                INSERT INTO rule_set (version, program_json, state_law_csv, published_by, published_at_ms, reason)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [
                    record.version, record.programJSON, record.stateLawCSV, record.publishedBy, record.publishedAtMs,
                    record.reason,
                ]
            )
        }
    }

    func proposeRuleSet(_ record: RuleSetRecord) async throws {
        try await self.database.write { db in
            if try db.value(String.self, "SELECT version FROM rule_set WHERE version = ?", [record.version]) != nil {
                throw QualificationStoreError.ruleSetExists(record.version)
            }
            let inserted = try db.execute(
                """
                INSERT INTO rule_set_proposal (version, program_json, state_law_csv, proposed_by, proposed_at_ms, reason)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
                [
                    record.version, record.programJSON, record.stateLawCSV, record.publishedBy, record.publishedAtMs,
                    record.reason,
                ]
            )
            if inserted == 0 { throw QualificationStoreError.proposalExists(record.version) }
        }
    }

    func approveRuleSet(
        version: String,
        by approver: String,
        at moment: Int64,
        reason: String?
    ) async throws
        -> RuleSetRecord
    {
        try await self.database.write { db in
            if try db.value(String.self, "SELECT version FROM rule_set WHERE version = ?", [version]) != nil {
                throw QualificationStoreError.ruleSetExists(version)
            }
            guard
                let row = try db.row(
                    "SELECT * FROM rule_set_proposal WHERE version = ? AND approved_by IS NULL",
                    [version]
                )
            else { throw QualificationStoreError.proposalNotFound(version) }
            let proposer: String = row["proposed_by"]
            guard proposer != approver else { throw QualificationStoreError.sameApprover(proposer) }
            let record = RuleSetRecord(
                version: version,
                programJSON: row["program_json"],
                stateLawCSV: row["state_law_csv"],
                publishedBy: approver,
                publishedAtMs: moment,
                reason: [row["reason"] as String?, reason].compactMap { $0 }.joined(separator: "; approved: "),
                proposedBy: proposer,
                proposedAtMs: row["proposed_at_ms"]
            )
            try db.execute(
                """
                INSERT INTO rule_set (version, program_json, state_law_csv, published_by, published_at_ms, reason,
                    proposed_by, proposed_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    record.version, record.programJSON, record.stateLawCSV, approver, moment, record.reason,
                    proposer, record.proposedAtMs,
                ]
            )
            try db.execute(
                "UPDATE rule_set_proposal SET approved_by = ?, approved_at_ms = ? WHERE version = ?",
                [approver, moment, version]
            )
            return record
        }
    }

    func latestRuleSet() async throws -> RuleSetRecord? {
        try await self.database.read { db in
            try db.row("SELECT * FROM rule_set ORDER BY published_at_ms DESC, rowid DESC LIMIT 1")
                .map(QualificationRows.ruleSet)
        }
    }

    func ruleSet(inForceAt milliseconds: Int64) async throws -> (record: RuleSetRecord, earliest: Bool)? {
        try await self.database.read { db in
            if let row = try db.row(
                "SELECT * FROM rule_set WHERE published_at_ms <= ? ORDER BY published_at_ms DESC, rowid DESC LIMIT 1",
                [milliseconds]
            ) {
                return (QualificationRows.ruleSet(row), false)
            }
            return try db.row("SELECT * FROM rule_set ORDER BY published_at_ms, rowid LIMIT 1")
                .map { (QualificationRows.ruleSet($0), true) }
        }
    }

    // MARK: Outbox

    func claimDecisions(limit: Int, now: Int64, lease: Int64) async throws -> [PendingDecision] {
        try await self.database.write { db in
            try db.claimRows("evaluation", pending: "reported_at_ms IS NULL", now: now, lease: lease, limit: limit) {
                "SELECT rowid AS claim_rowid, * FROM evaluation WHERE rowid IN (\($0)) ORDER BY rowid"
            }
            .map { PendingDecision(rowid: $0["claim_rowid"], evaluation: QualificationRows.evaluation($0)) }
        }
    }

    func decisionReported(_ item: PendingDecision, at now: Int64) async throws {
        try await self.database.write { db in
            try db.execute(
                "UPDATE evaluation SET reported_at_ms = ? WHERE request_id = ? AND revision = ?",
                [now, item.evaluation.requestId, Int64(item.evaluation.revision ?? 0)]
            )
        }
    }

    func claimCertifications(limit: Int, now: Int64, lease: Int64) async throws -> [PendingCertification] {
        try await self.database.write { db in
            let rowids = try db.claim(
                "officer",
                pending: "status = ? AND supervision_notified_at_ms IS NULL",
                [OfficerStatus.certified.rawValue],
                now: now,
                lease: lease,
                limit: limit
            )
            return try zip(rowids, Self.loadOfficers(db, rowids)).map {
                PendingCertification(rowid: $0, officer: $1)
            }
        }
    }

    func certificationNotified(_ item: PendingCertification, at now: Int64) async throws {
        try await self.database.write { db in
            try db.execute("UPDATE officer SET supervision_notified_at_ms = ? WHERE rowid = ?", [now, item.rowid])
        }
    }

    func releaseDecisions(_ items: [PendingDecision]) async throws {
        try await self.database.write { db in try db.release("evaluation", items.map(\.rowid)) }
    }

    func releaseCertifications(_ items: [PendingCertification]) async throws {
        try await self.database.write { db in try db.release("officer", items.map(\.rowid)) }
    }
}
