import AccordMessages
import AccordRPC
import AccordServiceKit
import Foundation
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
        store: any RuleSetStore,
        at now: Int64,
        logger: Logger
    ) async throws -> (set: RuleSet, since: Int64) {
        let record = RuleSetRecord(
            version: files.version,
            programJSON: files.programText,
            stateLawCSV: files.stateLawText,
            publishedBy: origin,
            publishedAtMs: now,
            reason: "read at start-up"
        )
        try await store.recordRuleSet(record, ifNew: true)
        let latest = try await store.latestRuleSet() ?? record
        if latest.version == files.version { return (files, latest.publishedAtMs) }
        let published = try RuleSet.parse(
            programJSON: Data(latest.programJSON.utf8),
            stateLawCSV: latest.stateLawCSV,
            origin: "published \(latest.version)"
        )
        logger.notice("A published rule set is newer than the files", metadata: ["version": "\(latest.version)"])
        return (published, latest.publishedAtMs)
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
        let now = self.clock.now()
        let who = principal.description
        try await self.store.recordRuleSet(
            RuleSetRecord(
                version: rules.version,
                programJSON: program,
                stateLawCSV: table,
                publishedBy: who,
                publishedAtMs: now,
                reason: request.reason
            ),
            ifNew: false
        )
        self.rules.withLock { $0 = (rules, now) }
        context.logger.notice("Rule set published", metadata: ["version": "\(rules.version)", "by": "\(who)"])
        return Self.info(rules, since: now)
    }
}
