public import AccordMessages
import AccordServiceKit

/// Supervision's store. Its rules read many records at the moment of a decision, so a handler
/// works in one transaction (``SupervisionRecords``), through typed operations per aggregate,
/// and the transaction commits (durably) before the answer. SQLite implements it
/// (``SQLSupervisionStore``).
protocol SupervisionStore: Sendable {
    /// Runs `body` over a consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SupervisionRecords) throws -> T) async throws -> T
    /// Runs `body` in a transaction, durable when this returns; if `body` throws, nothing of it
    /// is kept.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SupervisionRecords) throws -> T) async throws -> T
    /// Walks the audit chain and every audited record.
    func verifyAudit() async throws -> AuditTrail.Verdict
    /// Claims undelivered progress for `lease` ms, so that replicas never send a row at once.
    func claimProgress(limit: Int, now: Int64, lease: Int64) async throws -> [PendingProgress]
    func progressDelivered(_ item: PendingProgress, at now: Int64) async throws
    /// Gives back claimed rows that could not be delivered.
    func releaseProgress(_ items: [PendingProgress]) async throws
    /// Takes (or keeps) the turn at periodic work for `lease` ms; false while another replica has it.
    func takeTurn(_ job: String, holder: String, now: Int64, lease: Int64) async throws -> Bool
}

/// Every operation of a supervision transaction.
typealias SupervisionRecords = AgreementRecords & SupervisorRecords & AuthorizationRecords & ActionRecords
    & OversightRecords & SupervisionReports

/// A change as the audit trail records it: who, when it was recorded, why.
typealias Change = ChangeStamp

/// A request's agreement progress, queued for intake.
public struct PendingProgress: Sendable, CustomStringConvertible {
    let rowid: Int64
    let request: RecordAgreementProgressRequest

    public var description: String { "progress of \(self.request.requestId ?? "?")" }
}

// MARK: Agreements

/// A new agreement: offered from a request, or taken active from an ICE sheet.
struct NewAgreement: Sendable {
    var agencyID: String
    var agencyName: String
    var state: String
    var model: Model
    var partner: FederalPartner
    var office: String?
    var status: AgreementStatus
    var requestID: String?
    var source: String
    /// For an imported agreement: both signatures, in force, review due, link and the key
    /// (agency, model, signing date) that makes the import idempotent.
    var signedOn: String?
    var reviewDueOn: String?
    var moaLink: String?
    var importKey: String?
}

/// What a change sets on an agreement; what is nil stays as it is.
struct AgreementUpdate: Sendable {
    var signature: (party: String, by: String, on: String)?
    var effectiveOn: String?
    var reviewDueOn: String?
    var suspension: (reason: String, days: UInt32, response: String)?
    var termination: (reason: String, noticedOn: String, effectiveOn: String)?
    var supervisor: Int64?
    var supersededBy: Int64?
    /// A signed renewal says in its source what it renewed.
    var sourceSuffix: String?
}

struct AgreementFilter: Sendable {
    var agencyID: String?
    var state: String?
    var model: Model?
    var partner: FederalPartner?
    var status: AgreementStatus?
    /// Set for a list as of a past moment: the agreements that existed then, with their status then.
    var asOf: Int64?
}

protocol AgreementRecords {
    /// The agreement with its addenda.
    func agreement(_ rowid: Int64) throws -> Agreement?
    func agreements(_ filter: AgreementFilter, after: Int64, limit: Int) throws -> [Agreement]
    /// An open agreement of the agency and model that is not a pending renewal.
    func openAgreement(agencyID: String, model: Model) throws -> Int64?
    /// The agency's latest active agreement of the model.
    func activeAgreement(agencyID: String, model: Model) throws -> Int64?
    func importedAgreement(key: String) throws -> Int64?
    func insertAgreement(_ agreement: NewAgreement, _ change: Change) throws -> Int64
    /// Offers the renewal of an agreement: a copy of its parties, model and supervisor.
    func insertRenewal(of rowid: Int64, office: String?, _ change: Change) throws -> Int64
    func updateAgreement(_ rowid: Int64, _ update: AgreementUpdate) throws
    /// Moves an agreement to `status` as of `moment`, keeping its status history.
    func setAgreementStatus(_ rowid: Int64, _ status: AgreementStatus, at moment: Int64, _ change: Change) throws
    /// The agreement's status at a moment, nil before it existed. A noticed termination counts
    /// from its effective date even before the clock has applied it.
    func agreementStatus(_ rowid: Int64, at moment: Int64) throws -> AgreementStatus?
    /// The agreement that `rowid` renewed (superseded), if any.
    func agreementRenewed(by rowid: Int64) throws -> Int64?
    /// A renewal of `rowid` still offered.
    func pendingRenewal(of rowid: Int64) throws -> Int64?
    /// Agreements under notice whose termination takes effect on or before `day`.
    func dueTerminations(onOrBefore day: String) throws -> [(rowid: Int64, effectiveOn: String)]
    func insertAddendum(agreement: Int64, title: String, link: String?, signedOn: String, _ change: Change) throws
    /// Queues the request's progress for intake.
    func queueProgress(requestID: String, _ status: RequestStatus, agreement: Int64, at moment: Int64) throws
    /// Appends the audit entry of a change to one row of an audited table.
    func audit(_ table: String, _ rowid: Int64, _ action: String, _ change: Change) throws
    func auditEntries(entity: String?, entityID: String?, after: Int64, limit: Int) throws -> [AuditEntry]
}

// MARK: Supervisors

protocol SupervisorRecords {
    func supervisor(_ rowid: Int64) throws -> Supervisor?
    func supervisors(after: Int64, limit: Int) throws -> [Supervisor]
    func insertSupervisor(name: String, component: FederalPartner, office: String, _ change: Change) throws -> Int64
    /// Adds to the history of who supervised an agreement or an authorization.
    /// Records that `supervisor` supervises from `moment` (the change's own time unless given).
    func recordAssignment(
        agreement: Int64?,
        authorization: Int64?,
        supervisor: Int64,
        from moment: Int64?,
        _ change: Change
    ) throws
    /// The supervisor assigned to an authorization itself at `moment`.
    func assignedSupervisor(authorization: Int64, at moment: Int64) throws -> Int64?
    /// The supervisor assigned to an agreement at `moment`.
    func assignedSupervisor(agreement: Int64, at moment: Int64) throws -> Int64?
}

// MARK: Authorizations

/// An authorization with what the action checks read beside it.
struct AuthorityRecord: Sendable {
    var rowid: Int64
    var agreementRowid: Int64
    var authorization: Authorization
    var revokedAtMs: Int64?
}

struct NewAuthorization: Sendable {
    var officerID: String
    var officerName: String
    var agencyID: String
    var agreement: Int64
    var model: Model
    var authorizedAtMs: Int64
    var expiresAtMs: Int64?
    var credentialSerial: String?
    var categories: [String]
    var supervisor: Int64?
    var certifiedRulesVersion: String?
}

/// What a change sets on an authorization; what is nil stays as it is.
struct AuthorizationUpdate: Sendable {
    var status: AuthorizationStatus?
    var revoked: (atMs: Int64, because: String)?
    /// Set, or cleared (nil inside), when given.
    var suspendedBecause: String??
    var supervisor: Int64?
    var categories: [String]?
    var agreement: Int64?
}

struct AuthorizationFilter: Sendable {
    var agencyID: String?
    var agreement: Int64?
    /// The status as shown: lapsed TFM authority, stored active or suspended, shows as expired.
    var status: AuthorizationStatus?
    /// The moment that decides what has lapsed.
    var now: Int64
    /// Set for a list as of a past moment: only authorizations granted by then, with their status
    /// then (``now`` is that moment).
    var asOf = false
}

protocol AuthorizationRecords {
    func authorization(_ rowid: Int64) throws -> Authorization?
    func authorizations(_ filter: AuthorizationFilter, after: Int64, limit: Int) throws -> [Authorization]
    /// The officer's authorization in force (active or suspended).
    func liveAuthorization(officerID: String) throws -> Int64?
    /// Every authorization in force under an agreement.
    func liveAuthorizations(agreement: Int64) throws -> [Int64]
    /// The officer's latest authorization, of one agency when given.
    func latestAuthorization(officerID: String, agencyID: String?) throws -> Int64?
    /// The officer's authorization in force at `moment`, else their latest.
    func authority(officerID: String, at moment: Int64) throws -> AuthorityRecord?
    /// Whether supervision has heard of the officer: a certification from qualification, or an
    /// authorization.
    func knowsOfficer(_ officerID: String) throws -> Bool
    func insertAuthorization(_ authorization: NewAuthorization) throws -> Int64
    func updateAuthorization(_ rowid: Int64, _ update: AuthorizationUpdate) throws
    /// Records qualification's notice; nil when the officer's notice was recorded before.
    func insertCertification(_ notice: NotifyCertifiedRequest, receivedAt: Int64) throws -> Int64?
    func openSuspension(
        authorization: Int64,
        from: Int64,
        reason: String,
        complaint: Int64?,
        cause: String
    ) throws
        -> Int64
    /// The open suspensions of one cause (and complaint).
    func openSuspensions(authorization: Int64, cause: String, complaint: Int64?) throws -> [Int64]
    func closeSuspension(_ rowid: Int64, at moment: Int64) throws
    func openSuspensionCount(authorization: Int64) throws -> Int
    /// The reason of a suspension in effect at `moment`.
    func suspension(authorization: Int64, at moment: Int64) throws -> String?
    /// The authorizations a complaint keeps suspended.
    func suspendedAuthorizations(complaint: Int64) throws -> [Int64]
    /// Every authorization in force, and whether it is suspended for overdue training.
    func liveAuthorizationsWithTraining() throws -> [(rowid: Int64, officerID: String, training: Bool)]
}

// MARK: Actions

struct NewAction: Sendable {
    var officerID: String
    var agencyID: String?
    var agreement: Int64?
    var authorization: Int64?
    var function: DelegatedFunction
    var performedAtMs: Int64
    var place: ActionPlace
    var location: String?
    var subjectRef: String
    var outcome: String?
    var citizenshipClaimed: Bool
    var detainerCategory: String?
    var decision: ActionDecision
    var rejection: (code: String, reason: String)?
    var recordedAtMs: Int64
    var recordedBy: String
    var notifyByMs: Int64?
    var late: Bool
    var supervisor: Int64?
    var review: ReviewStatus
    var draft: Bool
}

struct ActionFilter: Sendable {
    var agencyID: String?
    var officerID: String?
    var agreement: Int64?
    var supervisor: Int64?
    var decision: ActionDecision?
    /// As of `asOf` when set: a review made later is pending then.
    var review: ReviewStatus?
    var lateOnly = false
    /// Set for a list as of a past moment: the actions recorded by then.
    var asOf: Int64?
}

protocol ActionRecords {
    func action(_ rowid: Int64) throws -> DelegatedAction?
    /// Actions past row id `after` (before it, newest first, when `newestFirst`).
    func actions(_ filter: ActionFilter, after: Int64, newestFirst: Bool, limit: Int) throws -> [DelegatedAction]
    func insertAction(_ action: NewAction) throws -> Int64
    func reviewAction(_ rowid: Int64, review: ReviewStatus, reason: String?, at moment: Int64, by who: String) throws
    func signAction(_ rowid: Int64, by signer: String) throws
}

// MARK: Complaints, inspections, meetings

struct NewComplaint: Sendable {
    var agreement: Int64
    var agencyID: String
    var officerID: String?
    var source: String
    var summary: String
    var receivedAtMs: Int64
    var mayLeadToDiscipline: Bool
    var noticeDueMs: Int64
    var resolutionDueMs: Int64
    var filedBy: String
}

struct ComplaintFilter: Sendable {
    var agreement: Int64?
    /// As of `asOf` when set: open until resolved by then.
    var status: ComplaintStatus?
    var agencyID: String?
    /// Set for a list as of a past moment: the complaints received by then.
    var asOf: Int64?
}

struct InspectionUpdate: Sendable {
    var status: InspectionStatus
    var inspected: (on: String, findings: [String], corrective: [String])?
    var closedOn: String?
}

protocol OversightRecords {
    /// The complaint as stored (its `overdue` list is the caller's to compute).
    func complaint(_ rowid: Int64) throws -> Complaint?
    func complaints(_ filter: ComplaintFilter, after: Int64, limit: Int) throws -> [Complaint]
    func insertComplaint(_ complaint: NewComplaint) throws -> Int64
    func setComplaintNotified(_ rowid: Int64, at moment: Int64) throws
    func resolveComplaint(_ rowid: Int64, at moment: Int64, resolution: String?, reportDueMs: Int64) throws
    func setComplaintOutcomeReported(_ rowid: Int64, at moment: Int64) throws
    func inspection(_ rowid: Int64) throws -> Inspection?
    func inspections(agreement: Int64?, status: InspectionStatus?, after: Int64, limit: Int) throws -> [Inspection]
    func insertInspection(agreement: Int64, scheduledOn: String) throws -> Int64
    func updateInspection(_ rowid: Int64, _ update: InspectionUpdate) throws
    func insertMeeting(agreement: Int64, kind: MeetingKind, heldOn: String, notes: String?) throws -> Int64
}

// MARK: Reports

/// What the program report counts as of a moment, read in one snapshot.
struct ReportFacts: Sendable {
    struct AgreementAt: Sendable {
        var rowid: Int64
        var state: String
        var model: Model
        var partner: FederalPartner
        var status: AgreementStatus
        var effectiveOn: String?
    }
    var agreements: [AgreementAt] = []
    var officersAuthorized = 0
    var officersSuspended = 0
    /// The agreements (as they stood then) of the authorizations in force.
    var agreementsWithOfficers: Set<Int64> = []
    var actions: [ActionCount] = []
    var notificationsLate: Int64 = 0
    var awaitingReview: Int64 = 0
    var oldestReviewRecordedAt: Int64?
    /// Complaints received by then, with what was known of them then.
    var complaints: [Complaint] = []
}

protocol SupervisionReports {
    /// The agreement an authorization was held under at `moment`, and its status then: its
    /// current agreement or, when that is a renewal not yet in force then, the one it renewed
    /// (and so on back). A nil status: the agreement did not exist yet.
    func agreementInForce(
        current agreement: Int64,
        at moment: Int64
    ) throws
        -> (agreement: Int64, status: AgreementStatus?)
    func reportFacts(asOf moment: Int64) throws -> ReportFacts
    /// Authorizations in force at `now` whose authority lapses by `moment`, and agreements under
    /// notice at `now` whose termination takes effect by then (public ids).
    func projection(from now: Int64, to moment: Int64) throws -> Projection
    /// Which agreements had a supervisor, meetings and inspections as of `moment` (`today` is its
    /// day), each a set over every agreement: a few queries, whatever the number of agreements.
    func oversightFacts(
        asOf moment: Int64,
        today: String,
        meetingsAfter: String,
        inspectedAfter: String
    ) throws
        -> OversightFacts
}

/// The oversight the program report checks, by agreement row.
struct OversightFacts: Sendable {
    /// Agreements assigned a supervisor by then.
    var supervised: Set<Int64> = []
    /// Agreements with a meeting of any kind after `meetingsAfter`, up to the day.
    var metRecently: Set<Int64> = []
    /// Agreements whose first review was held by the day.
    var firstReviewed: Set<Int64> = []
    /// Agreements inspected after `inspectedAfter`, up to the day.
    var inspected: Set<Int64> = []
}

/// What a report ahead of now carries forward from the record.
struct Projection: Sendable {
    /// Authorizations in force now whose TFM authority lapses by then.
    var lapsing: [String]
    /// Agreements under notice whose termination takes effect by then.
    var terminating: [String]
    /// Authorizations that would be in force then under those agreements: they end with them.
    var authorizationsEnding: Int
}
