import AccordCSV
public import AccordMessages
public import Foundation

/// Program requirements as data: the State-law table and the model prerequisites, loaded from a
/// directory (`state-law-287g.csv` and `program.json`) and identified by a version that every
/// decision records.
public struct RuleSet: Sendable {
    public enum Stance: String, Sendable {
        case prohibited = "PROHIBITED"
        case restricted = "RESTRICTED"
        case required = "REQUIRED"
        case permitted = "PERMITTED"
    }

    /// One row of the State-law table.
    public struct StateRule: Sendable {
        public let state: String
        public let stance: Stance
        /// Nil: every model.
        public let models: Set<Model>?
        /// Nil: in force for as long as the table knows.
        public let effective: String?
        public let citation: String?
        public let note: String?

        /// Whether the rule applies to `model` on `date` ("YYYY-MM-DD").
        public func applies(to model: Model, on date: String) -> Bool {
            (self.models?.contains(model) ?? true) && (self.effective.map { $0 <= date } ?? true)
        }
    }

    public struct ModelRule: Sendable, Decodable {
        public let needsJail: Bool
        public let minDetentionCapacity: UInt32
        public let note: String?

        enum CodingKeys: String, CodingKey {
            case needsJail = "needs_jail"
            case minDetentionCapacity = "min_detention_capacity"
            case note
        }
    }

    /// Who may be certified (DOMAIN.md, "Officer").
    public struct Eligibility: Sendable, Decodable {
        public let usCitizen: Bool
        public let favorableBackground: Bool
        public let noPendingComplaint: Bool
        public let tfmMinSwornYears: Int
        public let tfmNeedsClearance: Bool

        enum CodingKeys: String, CodingKey {
            case usCitizen = "us_citizen"
            case favorableBackground = "favorable_background"
            case noPendingComplaint = "no_pending_complaint"
            case tfmMinSwornYears = "tfm_min_sworn_years"
            case tfmNeedsClearance = "tfm_needs_clearance"
        }
    }

    /// A model's course: its exams, the pass mark, and how many failures it forgives.
    public struct Course: Sendable, Decodable {
        public let course: String
        public let hours: Int
        public let passMark: UInt32
        public let exams: [String]
        /// Failures over the whole course; one more disqualifies.
        public let maxFailuresTotal: Int
        /// Failed attempts of one exam that may be retaken; one more disqualifies.
        public let retakesPerExam: Int
        public let note: String?

        enum CodingKeys: String, CodingKey {
            case course, hours, exams, note
            case passMark = "pass_mark"
            case maxFailuresTotal = "max_failures_total"
            case retakesPerExam = "retakes_per_exam"
        }
    }

    /// Recurring training: each course, the models it binds and how often.
    public struct Recurring: Sendable, Decodable {
        public struct Course: Sendable, Decodable {
            public let course: String
            public let models: [String]
            public let everyDays: Int
            public let note: String?

            enum CodingKeys: String, CodingKey {
                case course, models, note
                case everyDays = "every_days"
            }
        }

        public let dueSoonDays: Int
        public let courses: [Course]

        enum CodingKeys: String, CodingKey {
            case courses
            case dueSoonDays = "due_soon_days"
        }

        /// The recurring courses an officer of `model` must keep current.
        public func courses(for model: Model) -> [Course] {
            self.courses.filter { course in course.models.contains { RuleSet.model($0) == model } }
        }
    }

    struct Program: Decodable {
        let version: String
        let source: String
        let consentMaxAgeDays: Int
        let models: [String: ModelRule]
        let minOfficersProposed: UInt32
        let officerEligibility: Eligibility
        let training: [String: Course]
        let recurringTraining: Recurring

        enum CodingKeys: String, CodingKey {
            case version, source, models, training
            case consentMaxAgeDays = "consent_max_age_days"
            case minOfficersProposed = "min_officers_proposed"
            case officerEligibility = "officer_eligibility"
            case recurringTraining = "recurring_training"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let version: String
    public let source: String
    public let consentMaxAgeDays: Int
    public let minOfficersProposed: UInt32
    public let stateRules: [String: [StateRule]]
    public let modelRules: [Model: ModelRule]
    public let eligibility: Eligibility
    public let courses: [Model: Course]
    public let recurring: Recurring
    /// The texts it was built from, kept so that a rule set can be stored and read back whole.
    public let programText: String
    public let stateLawText: String

    /// Reads `program.json` and `state-law-287g.csv` from `directory`.
    public static func load(directory: String) throws -> RuleSet {
        guard let programData = FileManager.default.contents(atPath: "\(directory)/program.json") else {
            throw Failure(description: "no program.json in \(directory)")
        }
        let text = try String(contentsOfFile: "\(directory)/state-law-287g.csv", encoding: .utf8)
        return try self.parse(programJSON: programData, stateLawCSV: text, origin: directory)
    }

    /// Builds a rule set from the two texts (as published at run time or read from files).
    public static func parse(programJSON programData: Data, stateLawCSV text: String, origin: String) throws -> RuleSet
    {
        let program: Program
        do {
            program = try JSONDecoder().decode(Program.self, from: programData)
        } catch {
            throw Failure(description: "\(origin)/program.json: \(error)")
        }
        var modelRules: [Model: ModelRule] = [:]
        for (name, rule) in program.models {
            guard let model = Self.model(name) else {
                throw Failure(description: "program.json: unknown model \(name)")
            }
            modelRules[model] = rule
        }
        guard modelRules.count == 3 else { throw Failure(description: "program.json must give JEM, WSO and TFM") }
        var courses: [Model: Course] = [:]
        for (name, course) in program.training {
            guard let model = Self.model(name) else {
                throw Failure(description: "program.json training: unknown model \(name)")
            }
            guard !course.exams.isEmpty, (1...100).contains(course.passMark) else {
                throw Failure(description: "program.json training.\(name): needs exams and a pass mark from 1 to 100")
            }
            courses[model] = course
        }
        guard courses.count == 3 else { throw Failure(description: "program.json training must give JEM, WSO and TFM") }
        return RuleSet(
            version: program.version,
            source: program.source,
            consentMaxAgeDays: program.consentMaxAgeDays,
            minOfficersProposed: program.minOfficersProposed,
            stateRules: try Self.stateRules(csv: text),
            modelRules: modelRules,
            eligibility: program.officerEligibility,
            courses: courses,
            recurring: program.recurringTraining,
            programText: String(decoding: programData, as: UTF8.self),
            stateLawText: text
        )
    }

    static func model(_ name: String) -> Model? {
        switch name.uppercased() {
        case "JEM": .jem
        case "WSO": .wso
        case "TFM": .tfm
        default: nil
        }
    }

    /// The State-law table: `state_usps, state_name, stance, models, effective_date, citation,
    /// source_url, evidence, note`; models "ALL", empty, or "WSO;JEM".
    static func stateRules(csv text: String) throws -> [String: [StateRule]] {
        var records = CSV.records(text)
        guard !records.isEmpty else { throw Failure(description: "the State-law table is empty") }
        let header = records.removeFirst().fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else {
                throw Failure(description: "the State-law table has no \(name) column")
            }
            return index
        }
        let (state, stance, models, effective, citation, note) = (
            try column("state_usps"), try column("stance"), try column("models"), try column("effective_date"),
            try column("citation"), try column("note")
        )
        var rules: [String: [StateRule]] = [:]
        for record in records where record.fields.count > max(state, stance, models, effective) {
            let fields = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            guard let parsedStance = Stance(rawValue: fields[stance].uppercased()) else {
                throw Failure(description: "State-law table line \(record.line): unknown stance \(fields[stance])")
            }
            var modelSet: Set<Model>?
            let modelText = fields[models].uppercased()
            if !modelText.isEmpty && modelText != "ALL" {
                modelSet = Set(
                    try modelText.split(separator: ";").map { name in
                        guard let model = Self.model(String(name).trimmingCharacters(in: .whitespaces)) else {
                            throw Failure(description: "State-law table line \(record.line): unknown model \(name)")
                        }
                        return model
                    }
                )
            }
            let rule = StateRule(
                state: fields[state].uppercased(),
                stance: parsedStance,
                models: modelSet,
                effective: fields[effective].isEmpty ? nil : fields[effective],
                citation: fields.count > citation && !fields[citation].isEmpty ? fields[citation] : nil,
                note: fields.count > note && !fields[note].isEmpty ? fields[note] : nil
            )
            rules[rule.state, default: []].append(rule)
        }
        return rules
    }
}
