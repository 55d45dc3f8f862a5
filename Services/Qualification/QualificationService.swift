import AccordCalendar
public import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordStorage
import AccordWire
import Foundation
import GRDB
public import Logging
import Synchronization

/// The qualification service, as far as it is built: rule sets, request evaluation with the
/// decision reported back to intake, model recommendation.
public final class QualificationService: Sendable {
    let store: SQLiteStore
    /// The rule set in force and when it was published.
    let rules: Mutex<(set: RuleSet, since: Int64)>
    let now: @Sendable () -> Int64
    let logger: Logger

    /// An agency's agreements, from supervision: what evaluation checks the agency's standing
    /// against. Throws when supervision cannot answer (the evaluation then fails UNAVAILABLE and
    /// intake's outbox asks again later).
    public typealias AgreementsOf = @Sendable (_ agencyID: String) async throws -> [Agreement]

    /// Absent: evaluations do not check standing (a qualification service on its own, in tests).
    let agreementsOf: AgreementsOf?

    public init(
        databasePath: String,
        rules: RuleSet,
        logger: Logger,
        now: @escaping @Sendable () -> Int64 = QualificationService.systemNow,
        agreementsOf: AgreementsOf? = nil
    ) throws {
        self.agreementsOf = agreementsOf
        let store = try SQLiteStore(path: databasePath, migrations: Self.migrations, logger: logger)
        let current = try Self.recordAndSelect(rules, origin: "files", store: store, at: now(), logger: logger)
        self.store = store
        self.rules = Mutex(current)
        self.now = now
        self.logger = logger
        logger.info(
            "Rules in force",
            metadata: ["version": "\(current.set.version)", "states": "\(current.set.stateRules.count)"]
        )
    }

    public static let systemNow: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    static let migrations = [
        Migration("2026-11-30-qualification-v1") { db in
            try db.execute(
                sql: """
                    -- One evaluation per request revision; a row not yet reported is the outbox.
                    CREATE TABLE evaluation (
                        request_id TEXT NOT NULL,
                        revision INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        failed TEXT NOT NULL,
                        rules_version TEXT NOT NULL,
                        decided_on TEXT NOT NULL,
                        decided_at_ms INTEGER NOT NULL,
                        reported_at_ms INTEGER,
                        PRIMARY KEY (request_id, revision)
                    );
                    CREATE INDEX evaluation_unreported ON evaluation (decided_at_ms) WHERE reported_at_ms IS NULL;
                    """
            )
        },
        officerMigration,
        recurringMigration,
        Migration("2026-11-30-qualification-v4-rule-sets") { db in
            try db.execute(
                sql: """
                    -- Every rule set ever in force, so that each decision's version can be read back.
                    CREATE TABLE rule_set (
                        version TEXT PRIMARY KEY,
                        program_json TEXT NOT NULL,
                        state_law_csv TEXT NOT NULL,
                        published_by TEXT NOT NULL,
                        published_at_ms INTEGER NOT NULL,
                        reason TEXT
                    );
                    """
            )
        },
        Migration("2026-11-30-qualification-v5-certification-notices") { db in
            try db.execute(
                sql: """
                    -- Certified officers not yet notified to supervision are the outbox of notices.
                    ALTER TABLE officer ADD COLUMN supervision_notified_at_ms INTEGER;
                    CREATE INDEX officer_certified_unnotified ON officer (rowid)
                        WHERE status = 2 AND supervision_notified_at_ms IS NULL;
                    """
            )
        },
        Migration("2026-11-30-qualification-v6-agency-status-index") { db in
            try db.execute(
                sql: """
                    -- An agency's certified officers (compliance, the gateway's dossier): without it the
                    -- planner took the status index and read every certified officer of the program.
                    CREATE INDEX officer_agency_status ON officer (agency_id, status);
                    """
            )
        },
        Migration("2026-11-30-qualification-v7-course-completion") { db in
            try db.execute(
                sql: """
                    -- The course is completed by a step of its own (every exam passed, the hours
                    -- attended); certification requires it.
                    ALTER TABLE officer ADD COLUMN course_completed_on TEXT;
                    ALTER TABLE officer ADD COLUMN course_hours INTEGER;
                    """
            )
        },
    ]

    var currentRules: RuleSet { self.rules.withLock { $0.set } }

    /// "YYYY-MM-DD" of now, UTC.
    var today: String {
        let milliseconds = self.now()
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        return Day(number: Int(days)).description
    }

    public func register(into router: inout RPCRouter) {
        router.register(QualificationMethods.evaluateRequest) { try await self.evaluateRequest($0, $1) }
        router.register(QualificationMethods.getEvaluation) { try await self.getEvaluation($0, $1) }
        router.register(QualificationMethods.recommendModel) { try await self.recommendModel($0, $1) }
        self.registerOfficers(into: &router)
        self.registerCompliance(into: &router)
        router.register(QualificationMethods.getRules) { _, _ in
            self.rules.withLock { Self.info($0.set, since: $0.since) }
        }
        router.register(QualificationMethods.publishRules) { try await self.publishRules($0, $1) }
    }

    // MARK: Evaluation

    /// Evaluates one revision, once: a revision already evaluated is acknowledged with
    /// `queued: false` and keeps its first decision.
    func evaluateRequest(
        _ call: EvaluateRequestRequest,
        _ context: ServerContext
    ) async throws
        -> EvaluateRequestResponse
    {
        guard let principal = context.principal, principal.role == .operator || principal.role == .programOffice else {
            throw RPCError(.permissionDenied, "evaluations are asked for by intake or the program office")
        }
        guard let request = call.request else { throw RPCError.invalidArgument(field: "request", "is required") }
        guard let id = request.id, !id.isEmpty, id.count <= 40 else {
            throw RPCError.invalidArgument(field: "request.id", "is required")
        }
        guard let revision = request.revision, revision > 0 else {
            throw RPCError.invalidArgument(field: "request.revision", "is required")
        }
        guard let agency = call.agency else { throw RPCError.invalidArgument(field: "agency", "is required") }
        guard agency.state != nil else { throw RPCError.invalidArgument(field: "agency.state", "is required") }
        let rules = self.currentRules
        let today = self.today
        var failed = Evaluator.evaluate(request: request, agency: agency, rules: rules, on: today)
        if let agreementsOf = self.agreementsOf, let agencyID = request.agencyId ?? agency.id {
            // A revision already evaluated keeps its decision: nothing to ask supervision again.
            let known = try await self.store.read { db in
                try Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM evaluation WHERE request_id = ? AND revision = ?)",
                    arguments: [id, Int64(revision)]
                ) ?? false
            }
            if known { return EvaluateRequestResponse(queued: false) }
            let agreements: [Agreement]
            do {
                agreements = try await agreementsOf(agencyID)
            } catch {
                throw RPCError(
                    .unavailable,
                    "the agency's standing cannot be checked now: supervision did not answer (\(error))"
                )
            }
            failed += Evaluator.standing(request: request, agreements: agreements)
        }
        let status: RequestStatus = failed.isEmpty ? .qualified : .deficient
        let encoded = Self.encode(failed)
        let now = self.now()
        let queued = try await self.store.write { db in
            try db.execute(
                sql: """
                    INSERT INTO evaluation (request_id, revision, status, failed, rules_version, decided_on, decided_at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                arguments: [id, Int64(revision), status.rawValue, encoded, rules.version, today, now]
            )
            return db.changesCount > 0
        }
        if queued {
            context.logger.info(
                "Request evaluated",
                metadata: [
                    "request": "\(id)", "revision": "\(revision)", "status": "\(status.protoName)",
                    "failed": "\(failed.count)",
                ]
            )
        }
        return EvaluateRequestResponse(queued: queued)
    }

    func getEvaluation(_ request: GetEvaluationRequest, _ context: ServerContext) async throws -> Evaluation {
        guard let id = request.requestId, !id.isEmpty else {
            throw RPCError.invalidArgument(field: "request_id", "is required")
        }
        let revision = request.revision
        return try await self.store.read { db in
            let row: Row?
            if let revision {
                row = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM evaluation WHERE request_id = ? AND revision = ?",
                    arguments: [id, Int64(revision)]
                )
            } else {
                row = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM evaluation WHERE request_id = ? ORDER BY revision DESC LIMIT 1",
                    arguments: [id]
                )
            }
            guard let row else {
                throw RPCError(.notFound, "no evaluation of \(id)\(revision.map { " revision \($0)" } ?? "")")
            }
            return Self.evaluation(row)
        }
    }

    static func evaluation(_ row: Row) -> Evaluation {
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

    // MARK: Recommendation

    func recommendModel(
        _ request: RecommendModelRequest,
        _ context: ServerContext
    ) async throws -> RecommendModelResponse {
        guard let agency = request.agency else { throw RPCError.invalidArgument(field: "agency", "is required") }
        guard let state = agency.state, state.count == 2 else {
            throw RPCError.invalidArgument(field: "agency.state", "is a two-letter USPS code")
        }
        if let requested = request.requested, !requested.isKnownAndSpecified {
            throw RPCError.invalidArgument(field: "requested", "\(requested.protoName) is not a model")
        }
        let rules = self.currentRules
        let ranking = Recommender.rank(agency: agency, needs: request.needs, rules: rules, on: self.today)
        var response = RecommendModelResponse(ranking: ranking, rulesVersion: rules.version)
        if let requested = request.requested, let best = ranking.first, best.model != requested,
            let fit = ranking.first(where: { $0.model == requested })
        {
            response.requestedNote =
                "\(requested.protoName) scores \(fit.score ?? 0) against \(best.model!.protoName) at \(best.score ?? 0): "
                + "it is not the best fit for this jurisdiction"
        }
        return response
    }
}
