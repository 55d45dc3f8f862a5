public import AccordMessages
import Foundation

/// What supervision applies as data (seeds/rules/supervision.json): the delegated functions of
/// each model and where they may be performed, notification deadlines, and the program's clocks.
public struct SupervisionRules: Sendable {
    public struct Permission: Sendable, Equatable {
        public var places: Set<ActionPlace>
        /// TFM detainers: only for the categories the supervisors set on the authorization.
        public var requiresCategory: Bool
        public var notifyWithinMinutes: Int?
    }

    public let version: String
    public let functions: [Model: [DelegatedFunction: Permission]]
    public let citizenshipClaimNotifyMinutes: Int
    /// Recording takes a moment: a deadline of 0 minutes ("at once") is met within this many minutes.
    public let atOnceMinutes: Int
    public let tfmAuthorityDays: Int
    public let terminationNoticeDays: Int
    public let reviewEveryYears: Int
    public let firstReviewWithinDays: Int
    public let yearlyMeetingWithinDays: Int
    public let complaintNoticeBusinessHours: Int
    public let complaintResolutionDays: Int
    public let complaintOutcomeReportDays: Int

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    private struct File: Decodable {
        struct Entry: Decodable {
            let places: [String]
            let requiresCategory: Bool?
            let notifyWithinMinutes: Int?
            enum CodingKeys: String, CodingKey {
                case places
                case requiresCategory = "requires_category"
                case notifyWithinMinutes = "notify_within_minutes"
            }
        }
        let version: String
        let functions: [String: [String: Entry]]
        let citizenshipClaimNotifyWithinMinutes: Int
        let atOnceMinutes: Int
        let tfmAuthorityDays: Int
        let terminationNoticeDays: Int
        let reviewEveryYears: Int
        let firstReviewWithinDays: Int
        let yearlyMeetingWithinDays: Int
        let complaintNoticeBusinessHours: Int
        let complaintResolutionDays: Int
        let complaintOutcomeReportDays: Int
        enum CodingKeys: String, CodingKey {
            case version, functions
            case citizenshipClaimNotifyWithinMinutes = "citizenship_claim_notify_within_minutes"
            case atOnceMinutes = "at_once_minutes"
            case tfmAuthorityDays = "tfm_authority_days"
            case terminationNoticeDays = "termination_notice_days"
            case reviewEveryYears = "review_every_years"
            case firstReviewWithinDays = "first_review_within_days"
            case yearlyMeetingWithinDays = "yearly_meeting_within_days"
            case complaintNoticeBusinessHours = "complaint_notice_business_hours"
            case complaintResolutionDays = "complaint_resolution_days"
            case complaintOutcomeReportDays = "complaint_outcome_report_days"
        }
    }

    /// One function's entry of a model in supervision.json, checked.
    private static func permission(
        _ modelName: String,
        _ functionName: String,
        _ entry: File.Entry
    ) throws -> (DelegatedFunction, Permission) {
        guard let function = DelegatedFunction(protoName: "DELEGATED_FUNCTION_\(functionName)"),
            function.isKnownAndSpecified
        else {
            throw LoadError(description: "supervision.json: \(modelName).\(functionName) is not a function")
        }
        let places = try entry.places.map { name -> ActionPlace in
            guard let place = ActionPlace(protoName: "ACTION_PLACE_\(name)"), place.isKnownAndSpecified else {
                throw LoadError(description: "supervision.json: \(modelName).\(functionName): \(name) is not a place")
            }
            return place
        }
        guard !places.isEmpty else {
            throw LoadError(description: "supervision.json: \(modelName).\(functionName) has no places")
        }
        if let minutes = entry.notifyWithinMinutes, minutes < 0 {
            throw LoadError(description: "supervision.json: \(modelName).\(functionName): negative deadline")
        }
        let permission = Permission(
            places: Set(places),
            requiresCategory: entry.requiresCategory ?? false,
            notifyWithinMinutes: entry.notifyWithinMinutes
        )
        return (function, permission)
    }

    /// Parses the JSON text of supervision.json; every unknown model, function or place is an error.
    public init(json: String) throws {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(json.utf8))
        } catch {
            throw LoadError(description: "supervision.json: \(error)")
        }
        var functions: [Model: [DelegatedFunction: Permission]] = [:]
        for (modelName, entries) in file.functions {
            guard let model = Model(protoName: "MODEL_\(modelName)"), model.isKnownAndSpecified else {
                throw LoadError(description: "supervision.json: \(modelName) is not a model (JEM, WSO or TFM)")
            }
            functions[model] = try entries.reduce(into: [:]) { table, item in
                let (function, permission) = try Self.permission(modelName, item.key, item.value)
                table[function] = permission
            }
        }
        for model in [Model.jem, .wso, .tfm] where functions[model] == nil {
            throw LoadError(description: "supervision.json: no functions for \(model.protoName)")
        }
        let counts = [
            ("tfm_authority_days", file.tfmAuthorityDays), ("termination_notice_days", file.terminationNoticeDays),
            ("review_every_years", file.reviewEveryYears), ("first_review_within_days", file.firstReviewWithinDays),
            ("yearly_meeting_within_days", file.yearlyMeetingWithinDays),
            ("complaint_notice_business_hours", file.complaintNoticeBusinessHours),
            ("complaint_resolution_days", file.complaintResolutionDays),
            ("complaint_outcome_report_days", file.complaintOutcomeReportDays),
        ]
        for (name, value) in counts where value <= 0 {
            throw LoadError(description: "supervision.json: \(name) must be positive")
        }
        guard !file.version.isEmpty else { throw LoadError(description: "supervision.json: version is empty") }
        self.version = file.version
        self.functions = functions
        self.citizenshipClaimNotifyMinutes = file.citizenshipClaimNotifyWithinMinutes
        self.atOnceMinutes = max(0, file.atOnceMinutes)
        self.tfmAuthorityDays = file.tfmAuthorityDays
        self.terminationNoticeDays = file.terminationNoticeDays
        self.reviewEveryYears = file.reviewEveryYears
        self.firstReviewWithinDays = file.firstReviewWithinDays
        self.yearlyMeetingWithinDays = file.yearlyMeetingWithinDays
        self.complaintNoticeBusinessHours = file.complaintNoticeBusinessHours
        self.complaintResolutionDays = file.complaintResolutionDays
        self.complaintOutcomeReportDays = file.complaintOutcomeReportDays
    }

    /// Loads `supervision.json` from a rules directory.
    public static func load(directory: String) throws -> SupervisionRules {
        let path = "\(directory)/supervision.json"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw LoadError(description: "cannot read \(path)")
        }
        return try SupervisionRules(json: text)
    }

    /// The functions a model delegates, in the order of the enum.
    public func functions(of model: Model) -> [DelegatedFunction] {
        (self.functions[model] ?? [:]).keys.sorted { $0.rawValue < $1.rawValue }
    }

    /// Why `function` at `place` is outside the model's delegation, or nil when it is inside.
    public func refusal(
        model: Model,
        function: DelegatedFunction,
        place: ActionPlace,
        category: String?,
        allowedCategories: [String]
    ) -> String? {
        guard let permission = self.functions[model]?[function] else {
            return "\(model.shortName) does not delegate \(function.shortName)"
        }
        guard permission.places.contains(place) else {
            let allowed = permission.places.sorted { $0.rawValue < $1.rawValue }.map(\.phrase)
            return "\(model.shortName) delegates \(function.shortName) only \(allowed.joined(separator: " or "))"
                + ", not \(place.phrase)"
        }
        if permission.requiresCategory {
            guard let category, allowedCategories.contains(category) else {
                return "\(model.shortName) \(function.shortName) only for the categories the supervisors set"
                    + " (\(allowedCategories.isEmpty ? "none set" : allowedCategories.joined(separator: ", ")))"
            }
        }
        return nil
    }

    /// Minutes within which the federal side must hear of the action, or nil when no deadline
    /// applies. "At once" (0) is given `atOnceMinutes` for the recording itself.
    public func notifyWithinMinutes(model: Model, function: DelegatedFunction, citizenshipClaimed: Bool) -> Int? {
        let byFunction = self.functions[model]?[function]?.notifyWithinMinutes
        let byClaim = citizenshipClaimed ? self.citizenshipClaimNotifyMinutes : nil
        let minutes: Int
        switch (byFunction, byClaim) {
        case (let a?, let b?): minutes = min(a, b)
        case (let a?, nil): minutes = a
        case (nil, let b?): minutes = b
        case (nil, nil): return nil
        }
        return minutes == 0 ? self.atOnceMinutes : minutes
    }
}

extension ActionPlace {
    /// "in jail", "at release", "in the field".
    var phrase: String {
        switch self {
        case .jail: "in jail"
        case .release: "at release"
        case .field: "in the field"
        default: self.protoName
        }
    }
}
