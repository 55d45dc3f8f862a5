public import AccordRPC

/// Who may call what: the role × method matrix of docs/OPERATIONS.md ("Who may do what"),
/// enforced by every service and by the gateway for its own methods, before a handler runs.
///
/// A cell says whether a role may call a method at all. Where it says ``Reach/own``, the
/// handler limits the call further to the caller's scope: an agency to its own records, a
/// supervisor to the agreements it is assigned to. A method missing from the table is refused
/// to everyone, so a method added to a `.proto` file is closed until someone decides its row.
public enum AccessPolicy {
    /// How far a role reaches in a method it may call.
    public enum Reach: Sendable, Hashable {
        /// Every record the method covers.
        case all
        /// Only the caller's own: its agency, or the agreements it supervises.
        case own
    }

    /// Methods that need no principal at all (liveness and the wire test), on every server.
    public static let open: Set<String> = ["/accord.v1.Health/Check"]

    public typealias Row = [Principal.Role: Reach]

    private static let everyone: Row = [
        .agency: .all, .programOffice: .all, .supervisor: .all, .auditor: .all, .operator: .all,
    ]
    private static let everyoneButOperator: Row = [
        .agency: .all, .programOffice: .all, .supervisor: .all, .auditor: .all,
    ]
    private static let office: Row = [.programOffice: .all]
    private static let operators: Row = [.operator: .all]
    /// Reads of agencies' records: an agency its own; the program office, supervisors and
    /// auditors every agency's.
    private static let reads: Row = [.agency: .own, .programOffice: .all, .supervisor: .all, .auditor: .all]
    /// The same, with a supervisor limited to the agreements and officers it supervises.
    private static let supervisedReads: Row = [.agency: .own, .programOffice: .all, .supervisor: .own, .auditor: .all]
    /// Program-wide reads: the program office and auditors.
    private static let programReads: Row = [.programOffice: .all, .auditor: .all]
    /// Federal oversight of officers and agreements: the program office and supervisors.
    private static let federal: Row = [.programOffice: .all, .supervisor: .all]
    /// The same, with a supervisor limited to the officers it supervises.
    private static let supervising: Row = [.programOffice: .all, .supervisor: .own]
    /// What an agency does for itself and the program office may record from a signed paper.
    private static let agencyOrOffice: Row = [.agency: .own, .programOffice: .all]
    /// Complaints: an agency about its own officers; the program office; supervisors.
    private static let complaints: Row = [.agency: .own, .programOffice: .all, .supervisor: .all]

    /// The matrix, by method path.
    public static let matrix: [String: Row] = [
        // Echo answers any signed-in caller (at a service: any caller the gateway vouches for).
        "/accord.v1.Echo/Unary": everyone,
        "/accord.v1.Echo/Stream": everyone,
        "/accord.v1.Clock/GetClock": everyone,
        "/accord.v1.Clock/AdvanceClock": operators,

        "/accord.v1.Gateway/CreateToken": operators,
        "/accord.v1.Gateway/ListTokens": [.operator: .all, .auditor: .all],
        "/accord.v1.Gateway/RevokeToken": operators,
        "/accord.v1.Gateway/GetDossier": supervisedReads,
        "/accord.v1.Gateway/GetProgramOverview": programReads,
        "/accord.v1.Gateway/GetBackends": [.operator: .all, .auditor: .all],
        "/accord.v1.Gateway/GetClocks": everyone,
        "/accord.v1.Gateway/AdvanceClocks": operators,

        "/accord.v1.Intake/RecordEngagement": office,
        "/accord.v1.Intake/ListEngagements": programReads,
        "/accord.v1.Intake/RegisterAgency": office,
        "/accord.v1.Intake/UpdateAgency": agencyOrOffice,
        "/accord.v1.Intake/GetAgency": reads,
        "/accord.v1.Intake/ListAgencies": reads,
        "/accord.v1.Intake/ExportAgencies": programReads,
        "/accord.v1.Intake/SubmitRequest": agencyOrOffice,
        "/accord.v1.Intake/AmendRequest": agencyOrOffice,
        "/accord.v1.Intake/WithdrawRequest": agencyOrOffice,
        "/accord.v1.Intake/GetRequest": reads,
        "/accord.v1.Intake/ListRequests": reads,
        "/accord.v1.Intake/RecordDecision": office,
        "/accord.v1.Intake/GetRequestReport": programReads,
        "/accord.v1.Intake/RecordAgreementProgress": office,
        "/accord.v1.Intake/ImportSheet": office,
        "/accord.v1.Intake/ListImportedAgreements": programReads,

        "/accord.v1.Qualification/EvaluateRequest": office,
        "/accord.v1.Qualification/GetEvaluation": programReads,
        "/accord.v1.Qualification/PreviewEvaluation": agencyOrOffice,
        "/accord.v1.Qualification/RecommendModel": [.agency: .all, .programOffice: .all],
        "/accord.v1.Qualification/GetRules": everyone,
        "/accord.v1.Qualification/PublishRules": office,
        "/accord.v1.Qualification/ApproveRules": office,
        "/accord.v1.Qualification/NominateOfficer": [.agency: .own],
        "/accord.v1.Qualification/RecordBackground": office,
        "/accord.v1.Qualification/SetComplaintFlag": federal,
        "/accord.v1.Qualification/EnrollOfficer": office,
        "/accord.v1.Qualification/RecordExamAttempt": office,
        "/accord.v1.Qualification/CompleteCourse": office,
        "/accord.v1.Qualification/CertifyOfficer": office,
        "/accord.v1.Qualification/GetOfficer": reads,
        "/accord.v1.Qualification/ListOfficers": reads,
        "/accord.v1.Qualification/RecordRecurringTraining": office,
        "/accord.v1.Qualification/GetCompliance": reads,

        "/accord.v1.Supervision/OfferAgreement": office,
        "/accord.v1.Supervision/SignAgreement": agencyOrOffice,
        "/accord.v1.Supervision/SuspendAgreement": office,
        "/accord.v1.Supervision/ReinstateAgreement": office,
        "/accord.v1.Supervision/NoticeTermination": office,
        "/accord.v1.Supervision/RenewAgreement": office,
        "/accord.v1.Supervision/AddAddendum": office,
        "/accord.v1.Supervision/RecordReview": office,
        "/accord.v1.Supervision/GetAgreement": reads,
        "/accord.v1.Supervision/ListAgreements": reads,
        "/accord.v1.Supervision/ImportAgreement": office,
        "/accord.v1.Supervision/CreateSupervisor": office,
        "/accord.v1.Supervision/AssignSupervisor": office,
        "/accord.v1.Supervision/GetSupervisor": everyoneButOperator,
        "/accord.v1.Supervision/ListSupervisors": everyoneButOperator,
        "/accord.v1.Supervision/AuthorizeOfficer": federal,
        "/accord.v1.Supervision/NotifyCertified": office,
        "/accord.v1.Supervision/RevokeAuthorization": supervising,
        "/accord.v1.Supervision/SuspendAuthorization": federal,
        "/accord.v1.Supervision/SetDetainerCategories": federal,
        "/accord.v1.Supervision/GetAuthorization": reads,
        "/accord.v1.Supervision/ListAuthorizations": reads,
        "/accord.v1.Supervision/RecordAction": [.agency: .own],
        "/accord.v1.Supervision/ReviewAction": [.supervisor: .own],
        "/accord.v1.Supervision/SignChargingDocument": supervising,
        "/accord.v1.Supervision/GetAction": supervisedReads,
        "/accord.v1.Supervision/ListActions": supervisedReads,
        "/accord.v1.Supervision/ExportActions": programReads,
        "/accord.v1.Supervision/FileComplaint": complaints,
        "/accord.v1.Supervision/UpdateComplaint": complaints,
        "/accord.v1.Supervision/ListComplaints": reads,
        "/accord.v1.Supervision/ScheduleInspection": federal,
        "/accord.v1.Supervision/RecordInspection": federal,
        "/accord.v1.Supervision/CloseInspection": federal,
        "/accord.v1.Supervision/ListInspections": [.programOffice: .all, .supervisor: .all, .auditor: .all],
        "/accord.v1.Supervision/RecordMeeting": federal,
        "/accord.v1.Supervision/GetProgramReport": programReads,
        "/accord.v1.Supervision/ListAudit": programReads,
        "/accord.v1.Supervision/VerifyAudit": programReads,
    ]

    /// The roles that may call `method`, in the order of ``Principal/Role/allCases``.
    public static func roles(for method: String) -> [Principal.Role] {
        guard let row = self.matrix[method] else { return [] }
        return Principal.Role.allCases.filter { row[$0] != nil }
    }

    /// Nil when `role` may call `method`; otherwise the refusal, PERMISSION_DENIED naming the
    /// method and who may call it.
    public static func refusal(_ role: Principal.Role, calling method: String) -> RPCError? {
        if self.open.contains(method) || self.matrix[method]?[role] != nil { return nil }
        let name = method.hasPrefix("/accord.v1.") ? String(method.dropFirst("/accord.v1.".count)) : method
        let allowed = self.roles(for: method)
        let who =
            allowed.isEmpty
            ? "no role may call it"
            : "only \(allowed.map(\.rawValue).joined(separator: ", ")) may"
        return RPCError(.permissionDenied, "the \(role.rawValue) role may not call \(name): \(who)")
    }

    /// The matrix as the Markdown table of docs/OPERATIONS.md, a row per method of `methods` (in
    /// that order): `yes` for every record the method covers, `own` for the caller's own.
    public static func markdown(methods: [String]) -> String {
        let roles = Principal.Role.allCases
        var lines = [
            "| method | " + roles.map(\.rawValue).joined(separator: " | ") + " |",
            "|---|" + String(repeating: "---|", count: roles.count),
        ]
        for method in methods {
            let name = method.hasPrefix("/accord.v1.") ? String(method.dropFirst("/accord.v1.".count)) : method
            let cells = roles.map { role -> String in
                if self.open.contains(method) { return "open" }
                switch self.matrix[method]?[role] {
                case .all: return "yes"
                case .own: return "own"
                case nil: return ""
                }
            }
            lines.append("| \(name) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Throws the refusal when `principal` may not call `method`.
    public static func require(_ principal: Principal, calling method: String) throws {
        if let refusal = self.refusal(principal.role, calling: method) { throw refusal }
    }
}
