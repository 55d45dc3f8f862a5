import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordStorage
import Foundation
import GRDB
import Logging

/// Rule sets: the one read from files at start is recorded like a published one; an operator
/// may publish a new one at run time; the most recently published is in force.
extension QualificationService {
    static func info(_ rules: RuleSet, since: Int64) -> RuleSetInfo {
        RuleSetInfo(
            version: rules.version,
            stateRules: UInt32(rules.stateRules.values.reduce(0) { $0 + $1.count }),
            source: rules.source,
            loadedAtMs: since
        )
    }

    /// Records the file rule set when its version is new, then returns the one in force.
    static func recordAndSelect(
        _ files: RuleSet,
        origin: String,
        store: SQLiteStore,
        at now: Int64,
        logger: Logger
    )
        throws -> (set: RuleSet, since: Int64)
    {
        try store.writeAtStartUp { db in
            if try String.fetchOne(
                db,
                sql: "SELECT version FROM rule_set WHERE version = ?",
                arguments: [files.version]
            ) == nil {
                try db.execute(
                    sql: """
                        INSERT INTO rule_set (version, program_json, state_law_csv, published_by, published_at_ms, reason)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [files.version, files.programText, files.stateLawText, origin, now, "read at start-up"]
                )
            }
            let row = try Row.fetchOne(
                db,
                sql: "SELECT * FROM rule_set ORDER BY published_at_ms DESC, rowid DESC LIMIT 1"
            )!
            let version: String = row["version"]
            if version == files.version { return (files, row["published_at_ms"]) }
            let published = try RuleSet.parse(
                programJSON: Data((row["program_json"] as String).utf8),
                stateLawCSV: row["state_law_csv"],
                origin: "published \(version)"
            )
            logger.notice("A published rule set is newer than the files", metadata: ["version": "\(version)"])
            return (published, row["published_at_ms"])
        }
    }

    func publishRules(_ request: PublishRulesRequest, _ context: ServerContext) async throws -> RuleSetInfo {
        guard let principal = context.principal, principal.role == .operator else {
            throw RPCError(.permissionDenied, "only an operator publishes rule sets")
        }
        guard let program = request.programJson, !program.isEmpty else {
            throw RPCError.invalidArgument(field: "program_json", "is required")
        }
        guard let table = request.stateLawCsv, !table.isEmpty else {
            throw RPCError.invalidArgument(field: "state_law_csv", "is required")
        }
        let rules: RuleSet
        do {
            rules = try RuleSet.parse(programJSON: Data(program.utf8), stateLawCSV: table, origin: "published")
        } catch let error as RuleSet.Failure {
            throw RPCError.invalidArgument(
                field: error.description.contains("State-law") ? "state_law_csv" : "program_json",
                error.description
            )
        }
        let now = self.now()
        let who = principal.description
        try await self.store.write { db in
            if try String.fetchOne(
                db,
                sql: "SELECT version FROM rule_set WHERE version = ?",
                arguments: [rules.version]
            ) != nil {
                throw RPCError(.alreadyExists, "rule set \(rules.version) was published before; give a new version")
            }
            try db.execute(
                sql: """
                    INSERT INTO rule_set (version, program_json, state_law_csv, published_by, published_at_ms, reason)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [rules.version, program, table, who, now, request.reason]
            )
        }
        self.rules.withLock { $0 = (rules, now) }
        context.logger.notice("Rule set published", metadata: ["version": "\(rules.version)", "by": "\(who)"])
        return Self.info(rules, since: now)
    }
}
