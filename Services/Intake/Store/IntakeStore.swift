public import AccordMessages
import AccordServiceKit

/// Everything intake keeps, by aggregate. The handlers validate and authorize, then call one of
/// these; each call is one transaction, durable before it returns. SQLite implements them
/// (``SQLIntakeStore``).
typealias IntakeStore = AgencyStore & RequestStore & SheetImportStore & EngagementStore & IntakeOutboxStore

/// A checked agency, ready to store.
struct AgencyFields: Sendable {
    var state: String
    var name: String
    var type: AgencyType
    var county: String?
    var ori: String?
    var hasJail: Bool?
    var jailCapacity: UInt32?
}

/// Which agencies a list takes; every filter given narrows it.
struct AgencyFilter: Sendable {
    var state: String?
    var type: AgencyType?
    /// Compared without regard to case.
    var county: String?
    /// A prefix of the normalized name (``Normalize/key(_:)``).
    var nameKeyPrefix: String?
    var onlyRowid: Int64?
}

protocol AgencyStore: Sendable {
    /// Registers an agency; ``IntakeStoreError/duplicateAgency(_:sameORI:)`` when its state and
    /// name, or its ORI, are another's.
    func registerAgency(_ fields: AgencyFields, _ change: ChangeStamp) async throws -> Agency
    /// Replaces an agency's fields with what `edit` makes of the current ones, in one
    /// transaction; ``IntakeStoreError/agencyNotFound(_:)`` when there is no such agency.
    func updateAgency(
        rowid: Int64,
        _ change: ChangeStamp,
        _ edit: @escaping @Sendable (Agency) throws -> AgencyFields
    ) async throws -> Agency
    func agency(rowid: Int64) async throws -> Agency?
    func agency(ori: String) async throws -> Agency?
    /// Agencies after row id `after`, in row order.
    func agencies(_ filter: AgencyFilter, after: Int64, limit: Int) async throws -> [Agency]
    func agencyCount() async throws -> Int
}

/// A checked participation request, ready to store. Requests from ICE's pending sheets have no
/// consent and no needs assessment yet: those parts are nil.
struct RequestFields: Sendable {
    var agencyRowid: Int64
    var model: Model
    var partner: FederalPartner
    var consent: ConsentFields?
    var needs: NeedsFields?
}

struct ConsentFields: Sendable {
    var officialName: String
    var office: String
    var signedOn: String
}

struct NeedsFields: Sendable {
    var encounters: UInt32
    var capacity: UInt32
    var officers: UInt32
}

/// What a change does to a request: its new status, and what else it replaces.
struct RequestChange: Sendable {
    var status: RequestStatus
    /// For the change log: what was done (`amend`, `decide:…`).
    var action: String
    /// For the change log, when it says something other than the request's `updated_why`.
    var logWhy: String?
    var consent: ConsentFields?
    var needs: NeedsFields?
    /// A new revision: the deficiencies are cleared and the new revision's evaluation is queued.
    var newRevision = false
    var deficiencies: [Deficiency]?
    var rulesVersion: String?
}

/// Which requests a list takes.
struct RequestFilter: Sendable {
    var agencyRowids: [Int64] = []
    var state: String?
    var status: RequestStatus?
    var model: Model?
    var partner: FederalPartner?
    /// Submitted at or before this moment (Unix ms).
    var createdAtOrBefore: Int64?
}

protocol RequestStore: Sendable {
    /// Submits a request and queues its evaluation. With an idempotency key a call already used,
    /// returns that call's request and changes nothing.
    func submitRequest(
        _ fields: RequestFields,
        idempotencyKey: String?,
        _ change: ChangeStamp
    ) async throws -> ParticipationRequest
    func request(rowid: Int64) async throws -> ParticipationRequest?
    /// Changes a request as `decide` says, given the current one, in one transaction; `decide`
    /// returning nil leaves it as it is. ``IntakeStoreError/requestNotFound(_:)`` when there is
    /// no such request.
    func changeRequest(
        rowid: Int64,
        _ change: ChangeStamp,
        _ decide: @escaping @Sendable (ParticipationRequest) throws -> RequestChange?
    ) async throws -> ParticipationRequest
    func requests(_ filter: RequestFilter, after: Int64, limit: Int) async throws -> [ParticipationRequest]
    /// Requests counted by state, model, partner and status.
    func requestCounts(asOf moment: Int64?) async throws -> [RequestCount]
    /// For each decided request, whole days from its submission to its first decision, ascending.
    func daysToFirstDecision(asOf moment: Int64?) async throws -> [Int64]
}

/// A sheet row after normalization, or why it cannot be taken.
enum ParsedSheetRow: Sendable {
    case participating(AgencyFields, Model, signedOn: CalendarDate, moa: String?)
    case pending(AgencyFields, Model)
    case rejected(String)
}

protocol SheetImportStore: Sendable {
    /// Takes one chunk of an ICE sheet in one transaction: agencies matched by state and name or
    /// created, participating rows' agreements recorded (and queued for supervision), pending
    /// rows' requests submitted. Rows already taken are counted as unchanged.
    func importRows(
        _ rows: [(line: UInt32, row: ParsedSheetRow)],
        sheet: String,
        _ change: ChangeStamp
    ) async throws -> ImportSheetResponse
    /// Agreements taken from participating sheets after row id `after`, with their row ids.
    func importedAgreements(
        agencyRowid: Int64?,
        after: Int64,
        limit: Int
    ) async throws -> [(rowid: Int64, agreement: ImportedAgreement)]
}

/// A checked engagement with an official, ready to store.
struct EngagementFields: Sendable {
    var state: String
    var officialName: String
    var office: String
    var agencyRowid: Int64?
    var contactedOn: String
    var channel: EngagementChannel
    var outcome: EngagementOutcome
    var followUpOn: String?
    var notes: String?
}

struct EngagementFilter: Sendable {
    var state: String?
    var outcome: EngagementOutcome?
    /// Follow-ups due before this day (YYYY-MM-DD).
    var followUpBefore: String?
}

protocol EngagementStore: Sendable {
    /// Records an engagement; ``IntakeStoreError/agencyNotFound(_:)`` when it names an agency
    /// intake does not know.
    func recordEngagement(_ fields: EngagementFields, _ change: ChangeStamp) async throws -> Engagement
    func engagements(_ filter: EngagementFilter, after: Int64, limit: Int) async throws -> [Engagement]
}

/// A queued evaluation: the request at the revision it was queued for, and its agency.
public struct PendingEvaluation: Sendable, CustomStringConvertible {
    let outboxRowid: Int64
    let revision: Int64
    let request: ParticipationRequest
    let agency: Agency

    public var description: String { "evaluate \(self.request.id ?? "?")@\(self.revision)" }
}

/// A queued hand-over of an agreement from a participating sheet.
public struct PendingAgreement: Sendable, CustomStringConvertible {
    let outboxRowid: Int64
    let request: ImportAgreementRequest

    public var description: String { "agreement of \(self.request.agencyId ?? "?")" }
}

/// The outbox's senders claim rows (``AccordStorage/SQLSession/claim(_:pending:_:now:lease:limit:)``)
/// for `lease` ms, so that several replicas never send the same row at once.
protocol IntakeOutboxStore: Sendable {
    func claimEvaluations(limit: Int, now: Int64, lease: Int64) async throws -> [PendingEvaluation]
    /// Marks an evaluation delivered; when it was sent, its request moves from RECEIVED to
    /// UNDER_REVIEW (if it is still at that revision and status).
    func evaluationDelivered(_ item: PendingEvaluation, sent: Bool, at now: Int64) async throws
    func claimAgreements(limit: Int, now: Int64, lease: Int64) async throws -> [PendingAgreement]
    func agreementDelivered(_ item: PendingAgreement, at now: Int64) async throws
    /// Gives back claimed outbox rows that could not be delivered.
    func releaseOutbox(_ rowids: [Int64]) async throws
}
