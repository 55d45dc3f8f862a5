import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit
import AccordStorage
import GRDB

/// Officers: nomination, vetting, training under the course's attempt rules, certification.
extension QualificationService {
    static let officerMigration = Migration("2026-11-30-qualification-v2-officers") { db in
        try db.execute(
            sql: """
                CREATE TABLE officer (
                    rowid INTEGER PRIMARY KEY,
                    agency_id TEXT NOT NULL,
                    model INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    us_citizen INTEGER NOT NULL,
                    sworn_since TEXT,
                    security_clearance INTEGER NOT NULL,
                    background INTEGER NOT NULL DEFAULT 0,
                    background_on TEXT,
                    findings TEXT NOT NULL DEFAULT '',
                    pending_complaint INTEGER NOT NULL DEFAULT 0,
                    enrolled INTEGER NOT NULL DEFAULT 0,
                    status INTEGER NOT NULL,
                    certified_on TEXT,
                    rules_version TEXT,
                    disqualified_because TEXT
                );
                CREATE INDEX officer_agency ON officer (agency_id);
                CREATE TABLE exam_attempt (
                    rowid INTEGER PRIMARY KEY,
                    officer_rowid INTEGER NOT NULL REFERENCES officer (rowid),
                    exam TEXT NOT NULL,
                    score INTEGER NOT NULL,
                    taken_on TEXT NOT NULL
                );
                CREATE INDEX exam_attempt_officer ON exam_attempt (officer_rowid);
                CREATE TABLE officer_change (
                    rowid INTEGER PRIMARY KEY,
                    officer_rowid INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    who TEXT NOT NULL,
                    at_ms INTEGER NOT NULL,
                    why TEXT
                );
                """
        )
    }

    func registerOfficers(into router: inout RPCRouter) {
        router.register(QualificationMethods.nominateOfficer) { try await self.nominate($0, $1) }
        router.register(QualificationMethods.recordBackground) { try await self.recordBackground($0, $1) }
        router.register(QualificationMethods.setComplaintFlag) { try await self.setComplaintFlag($0, $1) }
        router.register(QualificationMethods.enrollOfficer) { try await self.enroll($0, $1) }
        router.register(QualificationMethods.recordExamAttempt) { try await self.recordExam($0, $1) }
        router.register(QualificationMethods.completeCourse) { try await self.completeCourse($0, $1) }
        router.register(QualificationMethods.certifyOfficer) { try await self.certify($0, $1) }
        router.register(QualificationMethods.getOfficer) { try await self.getOfficer($0, $1) }
        router.register(QualificationMethods.listOfficers) { try await self.listOfficers($0, $1) }
    }

    // MARK: Access

    func caller(_ context: ServerContext) throws -> Principal {
        guard let principal = context.principal else {
            throw RPCError(.unauthenticated, "the call carries no principal")
        }
        return principal
    }

    /// Vetting and training are recorded by the program office and supervisors.
    func requireVetting(_ principal: Principal, _ action: String) throws {
        guard [.programOffice, .supervisor, .operator].contains(principal.role) else {
            throw RPCError(.permissionDenied, "\(principal.header) may not \(action)")
        }
    }

    func requireSees(_ principal: Principal, agencyID: String, write: Bool) throws {
        if principal.role == .agency && principal.scope != agencyID {
            throw RPCError(
                .permissionDenied,
                "\(principal.header) may not \(write ? "change" : "see") officers of \(agencyID)"
            )
        }
        if write && principal.role == .auditor {
            throw RPCError(.permissionDenied, "\(principal.header) may only read")
        }
    }

    // MARK: Records

    static func officerID(_ rowid: Int64) -> String { "of_\(rowid)" }

    static func officerRowid(_ id: String?, field: String) throws -> Int64 {
        guard let id, id.hasPrefix("of_"), let rowid = Int64(id.dropFirst(3)), rowid > 0 else {
            throw RPCError.invalidArgument(field: field, "\(id ?? "nothing") is not an officer id")
        }
        return rowid
    }

    static func loadOfficer(_ db: Database, _ rowid: Int64) throws -> Officer {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM officer WHERE rowid = ?", arguments: [rowid]) else {
            throw RPCError(.notFound, "officer \(self.officerID(rowid)) not found")
        }
        let attempts = try Row.fetchAll(
            db,
            sql: "SELECT exam, score, taken_on FROM exam_attempt WHERE officer_rowid = ? ORDER BY rowid",
            arguments: [rowid]
        ).map { ExamAttempt(exam: $0[0], score: UInt32(clamping: $0[1] as Int64), takenOn: $0[2]) }
        return Self.officer(row, attempts: attempts)
    }

    /// Officers of a page in two queries (the rows, then every exam attempt of them), in order.
    static func loadOfficers(_ db: Database, _ rowids: [Int64]) throws -> [Officer] {
        guard !rowids.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: rowids.count).joined(separator: ",")
        let arguments = StatementArguments(rowids)
        var attempts: [Int64: [ExamAttempt]] = [:]
        for row in try Row.fetchAll(
            db,
            sql:
                "SELECT officer_rowid, exam, score, taken_on FROM exam_attempt WHERE officer_rowid IN (\(marks)) ORDER BY rowid",
            arguments: arguments
        ) {
            attempts[row[0], default: []].append(
                ExamAttempt(exam: row[1], score: UInt32(clamping: row[2] as Int64), takenOn: row[3])
            )
        }
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM officer WHERE rowid IN (\(marks))", arguments: arguments)
        var byRowid: [Int64: Officer] = [:]
        for row in rows {
            let rowid: Int64 = row["rowid"]
            byRowid[rowid] = Self.officer(row, attempts: attempts[rowid] ?? [])
        }
        return rowids.compactMap { byRowid[$0] }
    }

    static func officer(_ row: Row, attempts: [ExamAttempt]) -> Officer {
        let rowid: Int64 = row["rowid"]
        return Officer(
            id: self.officerID(rowid),
            agencyId: row["agency_id"],
            model: Model(rawValue: row["model"]),
            name: row["name"],
            usCitizen: (row["us_citizen"] as Int64) != 0,
            swornSince: row["sworn_since"],
            securityClearance: (row["security_clearance"] as Int64) != 0,
            background: BackgroundResult(rawValue: row["background"]),
            backgroundOn: row["background_on"],
            disqualifyingFindings: (row["findings"] as String).split(separator: "\n").map(String.init),
            pendingComplaint: (row["pending_complaint"] as Int64) != 0,
            enrolled: (row["enrolled"] as Int64) != 0,
            attempts: attempts,
            status: OfficerStatus(rawValue: row["status"]),
            certifiedOn: row["certified_on"],
            rulesVersion: row["rules_version"],
            disqualifiedBecause: row["disqualified_because"],
            courseCompletedOn: row["course_completed_on"],
            courseHours: (row["course_hours"] as Int64?).map { UInt32(clamping: $0) }
        )
    }

    /// Vetting, training and certification apply to a nominee still in the process.
    static func requireNominated(_ officer: Officer) throws {
        guard officer.status == .nominated else {
            throw RPCError(
                .failedPrecondition,
                "officer \(officer.id ?? "?") is \(officer.status?.protoName ?? "in no status")"
            )
        }
    }

    static func logChange(_ db: Database, _ rowid: Int64, _ action: String, who: String, at: Int64, why: String?) throws
    {
        try db.execute(
            sql: "INSERT INTO officer_change (officer_rowid, action, who, at_ms, why) VALUES (?, ?, ?, ?, ?)",
            arguments: [rowid, action, who, at, why]
        )
    }

    static func text(_ value: String?, field: String, max: Int = 200) throws -> String {
        let trimmed = value?.split(whereSeparator: \.isWhitespace).joined(separator: " ") ?? ""
        guard !trimmed.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
        guard trimmed.count <= max else {
            throw RPCError.invalidArgument(field: field, "is longer than \(max) characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RPCError.invalidArgument(field: field, "must not contain control characters")
        }
        return trimmed
    }

    /// A "YYYY-MM-DD" date not after today.
    func pastDate(_ value: String?, field: String) throws -> String {
        let text = try Self.text(value, field: field, max: 10)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1900...2999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { throw RPCError.invalidArgument(field: field, "\(text) is not a date as YYYY-MM-DD") }
        guard text <= self.today else { throw RPCError.invalidArgument(field: field, "\(text) is in the future") }
        return text
    }

    // MARK: Handlers

    func nominate(_ request: NominateOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        guard let officer = request.officer else { throw RPCError.invalidArgument(field: "officer", "is required") }
        let agencyID = try Self.text(officer.agencyId, field: "officer.agency_id", max: 40)
        guard agencyID.hasPrefix("ag_"), Int64(agencyID.dropFirst(3)) != nil else {
            throw RPCError.invalidArgument(field: "officer.agency_id", "\(agencyID) is not an agency id")
        }
        try self.requireSees(principal, agencyID: agencyID, write: true)
        guard principal.role != .supervisor else {
            throw RPCError(.permissionDenied, "supervisors do not nominate officers")
        }
        guard let model = officer.model, model.isKnownAndSpecified else {
            throw RPCError.invalidArgument(
                field: "officer.model",
                "\(officer.model?.protoName ?? "nothing") is not a model"
            )
        }
        let name = try Self.text(officer.name, field: "officer.name")
        guard let citizen = officer.usCitizen else {
            throw RPCError.invalidArgument(field: "officer.us_citizen", "is required")
        }
        let sworn = try self.pastDate(officer.swornSince, field: "officer.sworn_since")
        let substitutes = try request.substitutes.map { try Self.officerRowid($0, field: "substitutes") }
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            if let substitutes {
                let replaced = try Self.loadOfficer(db, substitutes)
                guard replaced.agencyId == agencyID, replaced.model == model else {
                    throw RPCError.invalidArgument(
                        field: "substitutes",
                        "\(replaced.id!) is not a nominee of this agency and model"
                    )
                }
                guard replaced.status == .disqualified || replaced.background == .unfavorable else {
                    throw RPCError(
                        .failedPrecondition,
                        "\(replaced.id!) is \(replaced.status!.protoName): only a rejected nominee is substituted"
                    )
                }
                try db.execute(
                    sql: "UPDATE officer SET status = ? WHERE rowid = ?",
                    arguments: [OfficerStatus.substituted.rawValue, substitutes]
                )
                try Self.logChange(db, substitutes, "substituted", who: who, at: now, why: "replaced by a new nominee")
            }
            try db.execute(
                sql: """
                    INSERT INTO officer (agency_id, model, name, us_citizen, sworn_since, security_clearance, status)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    agencyID, model.rawValue, name, citizen ? 1 : 0, sworn, officer.securityClearance == true ? 1 : 0,
                    OfficerStatus.nominated.rawValue,
                ]
            )
            let rowid = db.lastInsertedRowID
            try Self.logChange(db, rowid, "nominate", who: who, at: now, why: nil)
            return try Self.loadOfficer(db, rowid)
        }
    }

    func recordBackground(_ request: RecordBackgroundRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        try self.requireVetting(principal, "record background investigations")
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        guard let result = request.result, result.isKnownAndSpecified else {
            throw RPCError.invalidArgument(field: "result", "is FAVORABLE or UNFAVORABLE")
        }
        let completed = try self.pastDate(request.completedOn, field: "completed_on")
        guard request.disqualifyingFindings.count <= 20 else {
            throw RPCError.invalidArgument(field: "disqualifying_findings", "at most 20")
        }
        let findings = try request.disqualifyingFindings.enumerated().map {
            try Self.text($0.element, field: "disqualifying_findings[\($0.offset)]", max: 500)
        }
        guard result == .unfavorable || findings.isEmpty else {
            throw RPCError.invalidArgument(field: "disqualifying_findings", "a favorable result has none")
        }
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let officer = try Self.loadOfficer(db, rowid)
            try Self.requireNominated(officer)
            let disqualified = result == .unfavorable
            try db.execute(
                sql: """
                    UPDATE officer SET background = ?, background_on = ?, findings = ?, status = ?,
                        disqualified_because = ? WHERE rowid = ?
                    """,
                arguments: [
                    result.rawValue, completed, findings.joined(separator: "\n"),
                    (disqualified ? OfficerStatus.disqualified : .nominated).rawValue,
                    disqualified ? "unfavorable background investigation" : nil, rowid,
                ]
            )
            try Self.logChange(db, rowid, "background:\(result.protoName)", who: who, at: now, why: nil)
            return try Self.loadOfficer(db, rowid)
        }
    }

    func setComplaintFlag(_ request: SetComplaintFlagRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        try self.requireVetting(principal, "flag complaints")
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        guard let pending = request.pending else { throw RPCError.invalidArgument(field: "pending", "is required") }
        let reason = try Self.text(request.reason, field: "reason", max: 1000)
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            _ = try Self.loadOfficer(db, rowid)
            try db.execute(
                sql: "UPDATE officer SET pending_complaint = ? WHERE rowid = ?",
                arguments: [pending ? 1 : 0, rowid]
            )
            try Self.logChange(
                db,
                rowid,
                pending ? "complaint-pending" : "complaint-cleared",
                who: who,
                at: now,
                why: reason
            )
            return try Self.loadOfficer(db, rowid)
        }
    }

    func enroll(_ request: EnrollOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        try self.requireVetting(principal, "enroll officers")
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let officer = try Self.loadOfficer(db, rowid)
            try Self.requireNominated(officer)
            guard officer.enrolled != true else { return officer }
            try db.execute(sql: "UPDATE officer SET enrolled = 1 WHERE rowid = ?", arguments: [rowid])
            try Self.logChange(db, rowid, "enroll", who: who, at: now, why: nil)
            return try Self.loadOfficer(db, rowid)
        }
    }

    func recordExam(_ request: RecordExamAttemptRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        try self.requireVetting(principal, "record exams")
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let exam = try Self.text(request.exam, field: "exam", max: 64)
        guard let score = request.score, score <= 100 else {
            throw RPCError.invalidArgument(field: "score", "is a percentage from 0 to 100")
        }
        let taken = try self.pastDate(request.takenOn, field: "taken_on")
        let rules = self.currentRules
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let officer = try Self.loadOfficer(db, rowid)
            try Self.requireNominated(officer)
            guard officer.enrolled == true else {
                throw RPCError(.failedPrecondition, "officer \(officer.id!) is not enrolled in training")
            }
            guard let course = rules.courses[officer.model!] else {
                throw RPCError(.internal, "no course for \(officer.model!.protoName)")
            }
            guard course.exams.contains(exam) else {
                throw RPCError.invalidArgument(
                    field: "exam",
                    "\(exam) is not an exam of \(course.course): \(course.exams.joined(separator: ", "))"
                )
            }
            if officer.attempts.contains(where: { $0.exam == exam && ($0.score ?? 0) >= course.passMark }) {
                throw RPCError(.failedPrecondition, "officer \(officer.id!) has passed \(exam) already")
            }
            try db.execute(
                sql: "INSERT INTO exam_attempt (officer_rowid, exam, score, taken_on) VALUES (?, ?, ?, ?)",
                arguments: [rowid, exam, Int64(score), taken]
            )
            let attempts = officer.attempts + [ExamAttempt(exam: exam, score: score, takenOn: taken)]
            let state = OfficerRules.training(attempts, course: course)
            if let reason = state.disqualifiedBecause {
                try db.execute(
                    sql: "UPDATE officer SET status = ?, disqualified_because = ?, rules_version = ? WHERE rowid = ?",
                    arguments: [OfficerStatus.disqualified.rawValue, reason, rules.version, rowid]
                )
            }
            try Self.logChange(db, rowid, "exam:\(exam):\(score)", who: who, at: now, why: nil)
            return try Self.loadOfficer(db, rowid)
        }
    }

    func completeCourse(_ request: CompleteCourseRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        try self.requireVetting(principal, "record training")
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let completed = try self.pastDate(request.completedOn, field: "completed_on")
        guard let hours = request.hours, hours <= 2000 else {
            throw RPCError.invalidArgument(field: "hours", "is required: the hours attended, at most 2000")
        }
        let rules = self.currentRules
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let officer = try Self.loadOfficer(db, rowid)
            try Self.requireNominated(officer)
            if let done = officer.courseCompletedOn {
                throw RPCError(.failedPrecondition, "officer \(officer.id!) completed the course on \(done)")
            }
            guard let course = rules.courses[officer.model ?? .unspecified] else {
                throw RPCError(.internal, "no course for \(officer.model?.protoName ?? "this model")")
            }
            let missing = OfficerRules.courseMissing(
                for: officer,
                course: course,
                hours: Int(hours),
                completedOn: completed
            )
            guard missing.isEmpty else {
                throw RPCError(
                    .failedPrecondition,
                    "officer \(officer.id!) has not completed \(course.course): \(missing.joined(separator: "; "))",
                    details: ErrorDetails(
                        reason: "COURSE_INCOMPLETE",
                        metadata: missing.map { KeyValue(key: "missing", value: $0) }
                    )
                )
            }
            try db.execute(
                sql: "UPDATE officer SET course_completed_on = ?, course_hours = ? WHERE rowid = ?",
                arguments: [completed, Int64(hours), rowid]
            )
            try Self.logChange(db, rowid, "complete-course", who: who, at: now, why: "\(hours) hours, \(completed)")
            return try Self.loadOfficer(db, rowid)
        }
    }

    func certify(_ request: CertifyOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        guard principal.role == .programOffice || principal.role == .operator else {
            throw RPCError(.permissionDenied, "\(principal.header) may not certify officers")
        }
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let rules = self.currentRules
        let today = self.today
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let officer = try Self.loadOfficer(db, rowid)
            try Self.requireNominated(officer)
            let missing = OfficerRules.missing(for: officer, rules: rules, today: today)
            guard missing.isEmpty else {
                throw RPCError(
                    .failedPrecondition,
                    "officer \(officer.id!) cannot be certified: missing \(missing.joined(separator: "; "))",
                    details: ErrorDetails(
                        reason: "CERTIFICATION_REQUIREMENTS",
                        metadata: missing.map { KeyValue(key: "missing", value: $0) }
                    )
                )
            }
            try db.execute(
                sql: "UPDATE officer SET status = ?, certified_on = ?, rules_version = ? WHERE rowid = ?",
                arguments: [OfficerStatus.certified.rawValue, today, rules.version, rowid]
            )
            try Self.logChange(db, rowid, "certify", who: who, at: now, why: "rules \(rules.version)")
            return try Self.loadOfficer(db, rowid)
        }
    }

    func getOfficer(_ request: GetOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let officer = try await self.store.read { db in try Self.loadOfficer(db, rowid) }
        try self.requireSees(principal, agencyID: officer.agencyId ?? "", write: false)
        return officer
    }

    func listOfficers(_ request: ListOfficersRequest, _ context: ServerContext) async throws -> ListOfficersResponse {
        let principal = try self.caller(context)
        var agencyID = request.agencyId
        if principal.role == .agency {
            guard agencyID == nil || agencyID == principal.scope else {
                throw RPCError(.permissionDenied, "an agency sees only its own officers")
            }
            agencyID = principal.scope
        }
        let status = try request.status.map { status -> Int32 in
            guard status.isKnownAndSpecified else {
                throw RPCError.invalidArgument(field: "status", "\(status.protoName) is not a status")
            }
            return status.rawValue
        }
        let filters = ["agency=\(agencyID ?? "")", "status=\(status.map(String.init) ?? "")"]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let filterAgency = agencyID
        return try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("agency_id", filterAgency)
            filter.equal("status", status)
            filter.add("rowid > ?", [start])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid FROM officer WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                arguments: filter.arguments + [size + 1]
            )
            let (page, next) = PageToken.split(rows, size: size, filters: filters)
            return ListOfficersResponse(officers: try Self.loadOfficers(db, page.map { $0["rowid"] }), page: next)
        }
    }
}
