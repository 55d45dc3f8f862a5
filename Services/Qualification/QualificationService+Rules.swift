import AccordMessages
import AccordRPC
import AccordServiceKit
import Foundation
import Logging

/// Rule sets: the one read from files at start is recorded like a published one; at run time a
/// program-office principal proposes a new one and another approves it; the most recently
/// published is in force.
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

    /// Proposes a rule set: it is checked now and kept until another principal approves it.
    func publishRules(_ request: PublishRulesRequest, _ context: ServerContext) async throws -> RuleSetInfo {
        let who = try Self.namedPrincipal(context, "propose a rule set")
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
        try await self.store.proposeRuleSet(
            RuleSetRecord(
                version: rules.version,
                programJSON: program,
                stateLawCSV: table,
                publishedBy: who,
                publishedAtMs: now,
                reason: request.reason
            )
        )
        context.logger.notice("Rule set proposed", metadata: ["version": "\(rules.version)", "by": "\(who)"])
        var info = Self.info(rules, since: now)
        info.proposedBy = who
        info.pending = true
        return info
    }

    /// Puts a proposed rule set in force, approved by another principal than its proposer.
    func approveRules(_ request: ApproveRulesRequest, _ context: ServerContext) async throws -> RuleSetInfo {
        let who = try Self.namedPrincipal(context, "approve a rule set")
        guard let version = request.version, !version.isEmpty else {
            throw RPCError.invalidArgument(field: "version", "is required: the version PublishRules proposed")
        }
        let now = self.clock.now()
        let record = try await self.store.approveRuleSet(version: version, by: who, at: now, reason: request.reason)
        let rules = try RuleSet.parse(
            programJSON: Data(record.programJSON.utf8),
            stateLawCSV: record.stateLawCSV,
            origin: "published"
        )
        self.rules.withLock { $0 = (rules, now) }
        context.logger.notice(
            "Rule set published",
            metadata: ["version": "\(version)", "proposed by": "\(record.proposedBy ?? "")", "approved by": "\(who)"]
        )
        var info = Self.info(rules, since: now)
        info.proposedBy = record.proposedBy
        info.approvedBy = who
        return info
    }

    /// Who proposes or approves a rule set: a principal with a name, since the two must differ.
    static func namedPrincipal(_ context: ServerContext, _ action: String) throws -> String {
        guard let principal = context.principal else {
            throw RPCError(.unauthenticated, "the call carries no principal")
        }
        guard let name = principal.name, !name.isEmpty else {
            throw RPCError(
                .permissionDenied,
                "\(principal.header) may not \(action) without a name: a rule set takes two named people"
            )
        }
        return principal.description
    }
}
