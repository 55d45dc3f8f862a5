public import AccordMessages
import AccordServiceKit

/// Everything qualification keeps, by aggregate. Each call is one transaction, durable before it
/// returns. SQLite implements them (``SQLQualificationStore``).
typealias QualificationStore = EvaluationStore & OfficerStore & RuleSetStore & QualificationOutboxStore

/// One decision on one request revision, as recorded.
struct EvaluationRecord: Sendable {
    var requestID: String
    var revision: UInt32
    var status: RequestStatus
    var failed: [Requirement]
    var rulesVersion: String
    var decidedOn: String
    var decidedAtMs: Int64
}

protocol EvaluationStore: Sendable {
    func hasEvaluation(requestID: String, revision: UInt32) async throws -> Bool
    /// Records the decision unless that revision has one; returns whether it was recorded.
    func recordEvaluation(_ evaluation: EvaluationRecord) async throws -> Bool
    /// The evaluation of that revision, or of the latest revision when `revision` is nil.
    func evaluation(requestID: String, revision: UInt32?) async throws -> Evaluation?
}

/// A checked nomination, ready to store.
struct NewOfficer: Sendable {
    var agencyID: String
    var model: Model
    var name: String
    var usCitizen: Bool
    var swornSince: String
    var securityClearance: Bool
}

/// What a change does to an officer; what is nil stays as it is.
struct OfficerChange: Sendable {
    /// For the officer's change log.
    var action: String
    var logWhy: String?
    var status: OfficerStatus?
    var background: (result: BackgroundResult, on: String, findings: [String])?
    /// Set (a reason) or cleared (nil inside) when given.
    var disqualifiedBecause: String??
    var pendingComplaint: Bool?
    var enrolled: Bool?
    var attempt: ExamAttempt?
    var course: (completedOn: String, hours: UInt32)?
    var certifiedOn: String?
    var rulesVersion: String?
    var recurring: (course: String, completedOn: String)?

    init(action: String, logWhy: String? = nil) {
        self.action = action
        self.logWhy = logWhy
    }
}

/// A certified officer as compliance reads it.
struct CertifiedOfficer: Sendable {
    var rowid: Int64
    var agencyID: String
    var model: Model
    var certifiedOn: String
}

protocol OfficerStore: Sendable {
    /// Nominates an officer; with `substituting`, that nominee (which `check` must accept) is
    /// marked substituted in the same transaction.
    func nominate(
        _ officer: NewOfficer,
        substituting: Int64?,
        _ change: ChangeStamp,
        check: @escaping @Sendable (Officer) throws -> Void
    ) async throws -> Officer
    func officer(rowid: Int64) async throws -> Officer?
    /// Changes an officer as `decide` says given the current one, in one transaction; nil from
    /// `decide` changes nothing. ``QualificationStoreError/officerNotFound(_:)`` when there is none.
    func changeOfficer(
        rowid: Int64,
        _ change: ChangeStamp,
        _ decide: @escaping @Sendable (Officer) throws -> OfficerChange?
    ) async throws -> Officer
    /// Officers after row id `after`, in row order.
    func officers(agencyID: String?, status: OfficerStatus?, after: Int64, limit: Int) async throws -> [Officer]
    /// Officers certified on or before `asOf`, and the last completion of each recurring course
    /// on or before it, by officer row id.
    func complianceFacts(
        agencyID: String?,
        asOf: String
    ) async throws -> (officers: [CertifiedOfficer], completions: [Int64: [String: String]])
}

/// A rule set as recorded.
struct RuleSetRecord: Sendable {
    var version: String
    var programJSON: String
    var stateLawCSV: String
    var publishedBy: String
    var publishedAtMs: Int64
    var reason: String?
    /// Who proposed it, and when (nil for a rule set read from files at start-up).
    var proposedBy: String? = nil
    var proposedAtMs: Int64? = nil
}

protocol RuleSetStore: Sendable {
    /// Keeps `record` as a proposal (its `publishedBy` and `publishedAtMs` are the proposer and
    /// the moment); ``QualificationStoreError/ruleSetExists(_:)`` when its version was published,
    /// ``QualificationStoreError/proposalExists(_:)`` when it is proposed already.
    func proposeRuleSet(_ record: RuleSetRecord) async throws
    /// Publishes the proposal of `version`, approved by `approver` at `moment`, and returns the
    /// record published. Refused when none awaits (``QualificationStoreError/proposalNotFound(_:)``),
    /// or when `approver` proposed it (``QualificationStoreError/sameApprover(_:)``).
    func approveRuleSet(
        version: String,
        by approver: String,
        at moment: Int64,
        reason: String?
    ) async throws
        -> RuleSetRecord
    /// Records a rule set; ``QualificationStoreError/ruleSetExists(_:)`` when its version was
    /// published before, unless `ifNew`, which then changes nothing.
    func recordRuleSet(_ record: RuleSetRecord, ifNew: Bool) async throws
    /// The rule set published last.
    func latestRuleSet() async throws -> RuleSetRecord?
    /// The rule set in force at `milliseconds` (the last published by then); for a moment before
    /// the first was recorded, that first one, with `earliest` set. Nil when none was ever recorded.
    func ruleSet(inForceAt milliseconds: Int64) async throws -> (record: RuleSetRecord, earliest: Bool)?
}

/// An officer certified but not yet notified to supervision.
public struct PendingCertification: Sendable, CustomStringConvertible {
    let rowid: Int64
    let officer: Officer

    public var description: String { "certification of \(self.officer.id ?? "?")" }
}

/// A decision not yet reported to intake.
public struct PendingDecision: Sendable, CustomStringConvertible {
    let rowid: Int64
    let evaluation: Evaluation

    public var description: String {
        "decision on \(self.evaluation.requestId ?? "?")@\(self.evaluation.revision ?? 0)"
    }
}

protocol QualificationOutboxStore: Sendable {
    /// Claims unreported decisions for `lease` ms, so that replicas never report one at once.
    func claimDecisions(limit: Int, now: Int64, lease: Int64) async throws -> [PendingDecision]
    func decisionReported(_ item: PendingDecision, at now: Int64) async throws
    /// Claims certifications not yet notified, for `lease` ms.
    func claimCertifications(limit: Int, now: Int64, lease: Int64) async throws -> [PendingCertification]
    func certificationNotified(_ item: PendingCertification, at now: Int64) async throws
    /// Gives back claimed rows that could not be delivered.
    func releaseDecisions(_ items: [PendingDecision]) async throws
    func releaseCertifications(_ items: [PendingCertification]) async throws
}
