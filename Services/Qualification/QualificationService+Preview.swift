import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit
import Foundation

/// What the rules in force on a date decide for a request, changing nothing: the request and
/// its agency as intake has them now, judged by the rule set that was in force on that date.
extension QualificationService {
    func previewEvaluation(
        _ call: PreviewEvaluationRequest,
        _ context: ServerContext
    ) async throws
        -> EvaluationPreview
    {
        let principal = try self.caller(context)
        let requestID = try Self.text(call.requestId, field: "request_id", max: 40)
        guard requestID.hasPrefix("rq_"), Int64(requestID.dropFirst(3)) != nil else {
            throw RPCError.invalidArgument(field: "request_id", "\(requestID) is not a request id (rq_…)")
        }
        let today = self.today
        let asOf =
            try call.asOf.map { text in
                guard Day(text) != nil else {
                    throw RPCError.invalidArgument(field: "as_of", "\(text) is not a date as YYYY-MM-DD")
                }
                return text
            } ?? today
        let (request, agency) = try await self.requestAndAgency(requestID)
        try self.requireSees(principal, agencyID: agency.id ?? "", write: false)
        let (rules, publishedAtMs, earliest) = try await self.rules(inForceOn: asOf)
        let failed = Evaluator.evaluate(request: request, agency: agency, rules: rules, on: asOf)
        var notes = [
            "the agency's agreements with ICE or CBP (its standing) are not judged: they are facts in supervision, not rules"
        ]
        if earliest {
            notes.append(
                "no rule set was recorded before \(Day(unixMilliseconds: publishedAtMs)): the first one recorded (\(rules.version)) is applied, each State law from its own effective date"
            )
        }
        let projection = asOf > today
        if projection {
            notes.append("a projection: the rules known today, each State law from its own effective date")
        }
        return EvaluationPreview(
            requestId: requestID,
            revision: request.revision,
            asOf: asOf,
            status: failed.isEmpty ? .qualified : .deficient,
            failed: failed,
            rulesVersion: rules.version,
            rulesPublishedAtMs: publishedAtMs,
            stateLaws: Self.stateLaws(of: agency, model: request.model ?? .unspecified, rules: rules, on: asOf),
            projection: projection,
            notes: notes
        )
    }

    /// The request and its agency, from intake.
    func requestAndAgency(_ requestID: String) async throws -> (ParticipationRequest, Agency) {
        guard let requestOf = self.requestOf else {
            throw RPCError(.failedPrecondition, "this qualification service runs without intake: no request to preview")
        }
        let found: (ParticipationRequest, Agency)?
        do {
            found = try await requestOf(requestID)
        } catch {
            throw RPCError(.unavailable, "intake cannot be asked for request \(requestID) now: \(error)")
        }
        guard let found else {
            throw RPCError(
                .notFound,
                "intake has no request \(requestID)",
                details: ErrorDetails(reason: "REQUEST_NOT_FOUND")
            )
        }
        return found
    }

    /// The rule set in force at the end of `date` (or the earliest recorded), parsed, with when it
    /// was published. From today on that is the one in force now: no later one is known.
    func rules(inForceOn date: String) async throws -> (set: RuleSet, publishedAtMs: Int64, earliest: Bool) {
        if date >= self.today {
            let current = self.rules.withLock { $0 }
            return (current.set, current.since, false)
        }
        let endOfDay = Day(date)!.startMilliseconds + 86_399_999
        guard let (record, earliest) = try await self.store.ruleSet(inForceAt: endOfDay) else {
            throw RPCError(.failedPrecondition, "no rule set has been recorded")
        }
        let current = self.currentRules
        if record.version == current.version { return (current, record.publishedAtMs, earliest) }
        let parsed = try RuleSet.parse(
            programJSON: Data(record.programJSON.utf8),
            stateLawCSV: record.stateLawCSV,
            origin: "published \(record.version)"
        )
        return (parsed, record.publishedAtMs, earliest)
    }

    /// The State-law entries of the agency's State that concern the model, each with whether it
    /// is in force on `date`.
    static func stateLaws(of agency: Agency, model: Model, rules: RuleSet, on date: String) -> [StateLawConsidered] {
        rules.stateRules[agency.state ?? "", default: []]
            .filter { $0.models?.contains(model) ?? true }
            .map { rule in
                StateLawConsidered(
                    state: rule.state,
                    stance: rule.stance.rawValue.lowercased(),
                    effectiveOn: rule.effective,
                    citation: rule.citation,
                    inForce: rule.effective.map { $0 <= date } ?? true,
                    note: rule.note
                )
            }
    }
}
