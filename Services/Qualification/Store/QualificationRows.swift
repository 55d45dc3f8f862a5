import AccordMessages
import AccordStorage

/// Maps qualification's SQLite rows to messages.
enum QualificationRows {
    static func officer(_ row: SQLRow, attempts: [ExamAttempt]) -> Officer {
        Officer(
            id: QualificationRecords.officerID(row["rowid"]),
            agencyId: row["agency_id"],
            model: Model(rawValue: row["model"]),
            name: row["name"],
            usCitizen: (row["us_citizen"] as Int64) != 0,
            swornSince: row["sworn_since"],
            securityClearance: (row["security_clearance"] as Int64) != 0,
            background: BackgroundResult(rawValue: row["background"]),
            backgroundOn: row["background_on"],
            disqualifyingFindings: (row["findings"] as String).split(separator: "\n").map(String.init),
            pendingComplaint: (row["pending_complaint"] as Int64) != 0,
            enrolled: (row["enrolled"] as Int64) != 0,
            attempts: attempts,
            status: OfficerStatus(rawValue: row["status"]),
            certifiedOn: row["certified_on"],
            rulesVersion: row["rules_version"],
            disqualifiedBecause: row["disqualified_because"],
            courseCompletedOn: row["course_completed_on"],
            courseHours: (row["course_hours"] as Int64?).map { UInt32(clamping: $0) }
        )
    }

    static func attempt(_ row: SQLRow, from column: Int) -> ExamAttempt {
        ExamAttempt(
            exam: row[column],
            score: UInt32(clamping: row[column + 1] as Int64),
            takenOn: row[column + 2]
        )
    }

    static func evaluation(_ row: SQLRow) -> Evaluation {
        Evaluation(
            requestId: row["request_id"],
            revision: UInt32(clamping: row["revision"] as Int64),
            status: RequestStatus(rawValue: row["status"]),
            failed: Self.decode(row["failed"]),
            rulesVersion: row["rules_version"],
            decidedOn: row["decided_on"],
            decidedAtMs: row["decided_at_ms"],
            reported: (row["reported_at_ms"] as Int64?) != nil
        )
    }

    static func ruleSet(_ row: SQLRow) -> RuleSetRecord {
        RuleSetRecord(
            version: row["version"],
            programJSON: row["program_json"],
            stateLawCSV: row["state_law_csv"],
            publishedBy: row["published_by"],
            publishedAtMs: row["published_at_ms"],
            reason: row["reason"],
            proposedBy: row["proposed_by"],
            proposedAtMs: row["proposed_at_ms"]
        )
    }

    /// Failed requirements stored one per line: code, tab, message, tab, source.
    static func encode(_ failed: [Requirement]) -> String {
        failed.map { [$0.code ?? "", $0.message ?? "", $0.source ?? ""].map(Self.clean).joined(separator: "\t") }
            .joined(separator: "\n")
    }

    static func decode(_ text: String) -> [Requirement] {
        text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Requirement(
                code: parts[0],
                message: parts.count > 1 ? parts[1] : "",
                source: parts.count > 2 ? parts[2] : ""
            )
        }
    }

    private static func clean(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }
}
