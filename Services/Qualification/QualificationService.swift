import AccordCalendar
public import AccordMessages
public import AccordRPC
public import AccordServiceKit
public import AccordStorage
import AccordWire
import Foundation
public import Logging
import Synchronization

/// The qualification service, as far as it is built: rule sets, request evaluation with the
/// decision reported back to intake, model recommendation.
public final class QualificationService: Sendable {
    let store: any QualificationStore
    /// The rule set in force and when it was published.
    let rules: Mutex<(set: RuleSet, since: Int64)>
    let clock: ServiceClock
    /// The clock as callers see it (`accord.v1.Clock`), kept with the data when simulated.
    public let clockKeeper: ClockKeeper
    let logger: Logger

    /// An agency's agreements, from supervision: what evaluation checks the agency's standing
    /// against. Throws when supervision cannot answer (the evaluation then fails UNAVAILABLE and
    /// intake's outbox asks again later).
    public typealias AgreementsOf = @Sendable (_ agencyID: String) async throws -> [Agreement]

    /// Absent: evaluations do not check standing (a qualification service on its own, in tests).
    let agreementsOf: AgreementsOf?

    /// An agency as intake has it, nil when intake has none of that id: what a nomination is
    /// checked against (the agency exists, and can hold the model). Throws when intake cannot
    /// answer (the nomination then fails UNAVAILABLE).
    public typealias AgencyOf = @Sendable (_ agencyID: String) async throws -> Agency?

    /// Absent: nominations are not checked with intake (a qualification service on its own, in tests).
    let agencyOf: AgencyOf?

    /// A request and its agency as intake has them, nil when intake has no such request: what an
    /// evaluation preview judges.
    public typealias RequestOf = @Sendable (_ requestID: String) async throws -> (ParticipationRequest, Agency)?

    /// Absent: no previews (a qualification service on its own).
    let requestOf: RequestOf?

    /// Opens (or creates) the database, records `rules` when their
    /// version is new, and puts the rule set published last in force.
    public init(
        storage: StorageLocation,
        rules: RuleSet,
        logger: Logger,
        clock: ServiceClock = .system,
        agreementsOf: AgreementsOf? = nil,
        agencyOf: AgencyOf? = nil,
        requestOf: RequestOf? = nil
    ) async throws {
        self.agreementsOf = agreementsOf
        self.agencyOf = agencyOf
        self.requestOf = requestOf
        let store = try await SQLQualificationStore(storage, logger: logger)
        self.clockKeeper = try await ClockKeeper.open(
            clock,
            database: store.database,
            server: "accord-qualification",
            logger: logger
        )
        let current = try await Self.recordAndSelect(
            rules,
            origin: "files",
            store: store,
            at: clock.now(),
            logger: logger
        )
        self.store = store
        self.rules = Mutex(current)
        self.clock = clock
        self.logger = logger
        logger.info(
            "Rules in force",
            metadata: ["version": "\(current.set.version)", "states": "\(current.set.stateRules.count)"]
        )
    }

    /// Qualification on the SQLite file at `databasePath`.
    public convenience init(
        databasePath: String,
        rules: RuleSet,
        logger: Logger,
        clock: ServiceClock = .system,
        agreementsOf: AgreementsOf? = nil,
        agencyOf: AgencyOf? = nil,
        requestOf: RequestOf? = nil
    ) async throws {
        try await self.init(
            storage: .sqlite(path: databasePath),
            rules: rules,
            logger: logger,
            clock: clock,
            agreementsOf: agreementsOf,
            agencyOf: agencyOf,
            requestOf: requestOf
        )
    }

    var currentRules: RuleSet { self.rules.withLock { $0.set } }

    /// "YYYY-MM-DD" of now, UTC.
    var today: String {
        let milliseconds = self.clock.now()
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        return Day(number: Int(days)).description
    }

    public func register(into router: inout RPCRouter) {
        router.register(QualificationMethods.evaluateRequest) { try await self.evaluateRequest($0, $1) }
        router.register(QualificationMethods.getEvaluation) { try await self.getEvaluation($0, $1) }
        router.register(QualificationMethods.previewEvaluation) { try await self.previewEvaluation($0, $1) }
        router.register(QualificationMethods.recommendModel) { try await self.recommendModel($0, $1) }
        self.registerOfficers(into: &router)
        self.registerCompliance(into: &router)
        self.clockKeeper.register(into: &router)
        router.register(QualificationMethods.getRules) { _, _ in
            var info = self.rules.withLock { Self.info($0.set, since: $0.since) }
            if let record = try await self.store.latestRuleSet(), record.version == info.version {
                info.proposedBy = record.proposedBy ?? record.publishedBy
                info.approvedBy = record.publishedBy
            }
            return info
        }
        router.register(QualificationMethods.publishRules) { try await self.publishRules($0, $1) }
        router.register(QualificationMethods.approveRules) { try await self.approveRules($0, $1) }
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
        guard context.principal != nil else {
            throw RPCError(.unauthenticated, "the call carries no principal")
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
            if try await self.store.hasEvaluation(requestID: id, revision: revision) {
                return EvaluateRequestResponse(queued: false)
            }
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
        let queued = try await self.store.recordEvaluation(
            EvaluationRecord(
                requestID: id,
                revision: revision,
                status: status,
                failed: failed,
                rulesVersion: rules.version,
                decidedOn: today,
                decidedAtMs: self.clock.now()
            )
        )
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
        guard let evaluation = try await self.store.evaluation(requestID: id, revision: request.revision) else {
            throw RPCError(.notFound, "no evaluation of \(id)\(request.revision.map { " revision \($0)" } ?? "")")
        }
        return evaluation
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
