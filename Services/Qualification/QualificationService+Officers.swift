import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// Officers: nomination, vetting, training under the course's attempt rules, certification.
extension QualificationService {

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

    static func officerRowid(_ id: String?, field: String) throws -> Int64 {
        guard let id, id.hasPrefix("of_"), let rowid = Int64(id.dropFirst(3)), rowid > 0 else {
            throw RPCError.invalidArgument(field: field, "\(id ?? "nothing") is not an officer id")
        }
        return rowid
    }

    /// What the officer's change log records of a change the caller makes now.
    func stamp(_ principal: Principal, why: String? = nil) -> ChangeStamp {
        ChangeStamp(who: principal.description, at: self.clock.now(), why: why)
    }

    /// Vetting, training and certification apply to a nominee still in the process.
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
        guard let day = Day(text), day.components.year >= 1900 else {
            throw RPCError.invalidArgument(field: field, "\(text) is not a date as YYYY-MM-DD")
        }
        guard text <= self.today else { throw RPCError.invalidArgument(field: field, "\(text) is in the future") }
        return text
    }

    // MARK: Handlers

    func nominate(_ request: NominateOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        guard let officer = request.officer else { throw RPCError.invalidArgument(field: "officer", "is required") }
        let nominee = try self.validateNominee(officer)
        try self.requireSees(principal, agencyID: nominee.agencyID, write: true)
        let substitutes = try request.substitutes.map { try Self.officerRowid($0, field: "substitutes") }
        try await self.requireAgencyHolds(nominee)
        return try await self.store.nominate(nominee, substituting: substitutes, self.stamp(principal)) { replaced in
            guard replaced.agencyId == nominee.agencyID, replaced.model == nominee.model else {
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
        }
    }

    /// A nomination's officer, checked.
    func validateNominee(_ officer: Officer) throws -> NewOfficer {
        let agencyID = try Self.text(officer.agencyId, field: "officer.agency_id", max: 40)
        guard agencyID.hasPrefix("ag_"), Int64(agencyID.dropFirst(3)) != nil else {
            throw RPCError.invalidArgument(field: "officer.agency_id", "\(agencyID) is not an agency id")
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
        return NewOfficer(
            agencyID: agencyID,
            model: model,
            name: name,
            usCitizen: citizen,
            swornSince: try self.pastDate(officer.swornSince, field: "officer.sworn_since"),
            securityClearance: officer.securityClearance == true
        )
    }

    func recordBackground(_ request: RecordBackgroundRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        guard let result = request.result, result.isKnownAndSpecified else {
            throw RPCError.invalidArgument(field: "result", "is FAVORABLE or UNFAVORABLE")
        }
        let completed = try self.pastDate(request.completedOn, field: "completed_on")
        let findings = try Self.validateFindings(request.disqualifyingFindings, result: result)
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal)) { officer in
            try Self.requireNominated(officer)
            let disqualified = result == .unfavorable
            var change = OfficerChange(action: "background:\(result.protoName)")
            change.background = (result, completed, findings)
            change.status = disqualified ? .disqualified : .nominated
            change.disqualifiedBecause = .some(disqualified ? "unfavorable background investigation" : nil)
            return change
        }
    }

    static func validateFindings(_ findings: [String], result: BackgroundResult) throws -> [String] {
        guard findings.count <= 20 else {
            throw RPCError.invalidArgument(field: "disqualifying_findings", "at most 20")
        }
        let checked = try findings.enumerated().map {
            try Self.text($0.element, field: "disqualifying_findings[\($0.offset)]", max: 500)
        }
        guard result == .unfavorable || checked.isEmpty else {
            throw RPCError.invalidArgument(field: "disqualifying_findings", "a favorable result has none")
        }
        return checked
    }

    func setComplaintFlag(_ request: SetComplaintFlagRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        guard let pending = request.pending else { throw RPCError.invalidArgument(field: "pending", "is required") }
        let reason = try Self.text(request.reason, field: "reason", max: 1000)
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal)) { _ in
            var change = OfficerChange(action: pending ? "complaint-pending" : "complaint-cleared", logWhy: reason)
            change.pendingComplaint = pending
            return change
        }
    }

    func enroll(_ request: EnrollOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal)) { officer in
            try Self.requireNominated(officer)
            guard officer.enrolled != true else { return nil }
            var change = OfficerChange(action: "enroll")
            change.enrolled = true
            return change
        }
    }

    func recordExam(_ request: RecordExamAttemptRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let exam = try Self.text(request.exam, field: "exam", max: 64)
        guard let score = request.score, score <= 100 else {
            throw RPCError.invalidArgument(field: "score", "is a percentage from 0 to 100")
        }
        let attempt = ExamAttempt(
            exam: exam,
            score: score,
            takenOn: try self.pastDate(request.takenOn, field: "taken_on")
        )
        let rules = self.currentRules
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal)) { officer in
            try Self.examChange(officer, attempt, rules: rules)
        }
    }

    /// An exam attempt under the course's rules: refused for an exam not of the course or passed
    /// already; a disqualifying attempt disqualifies the officer.
    static func examChange(_ officer: Officer, _ attempt: ExamAttempt, rules: RuleSet) throws -> OfficerChange {
        try Self.requireNominated(officer)
        guard officer.enrolled == true else {
            throw RPCError(.failedPrecondition, "officer \(officer.id!) is not enrolled in training")
        }
        let course = try Self.course(of: officer, rules: rules)
        let exam = attempt.exam ?? ""
        guard course.exams.contains(exam) else {
            throw RPCError.invalidArgument(
                field: "exam",
                "\(exam) is not an exam of \(course.course): \(course.exams.joined(separator: ", "))"
            )
        }
        if officer.attempts.contains(where: { $0.exam == exam && ($0.score ?? 0) >= course.passMark }) {
            throw RPCError(.failedPrecondition, "officer \(officer.id!) has passed \(exam) already")
        }
        var change = OfficerChange(action: "exam:\(exam):\(attempt.score ?? 0)")
        change.attempt = attempt
        if let reason = OfficerRules.training(officer.attempts + [attempt], course: course).disqualifiedBecause {
            change.status = .disqualified
            change.disqualifiedBecause = .some(reason)
            change.rulesVersion = rules.version
        }
        return change
    }

    static func course(of officer: Officer, rules: RuleSet) throws -> RuleSet.Course {
        guard let course = rules.courses[officer.model ?? .unspecified] else {
            throw RPCError(.internal, "no course for \(officer.model?.protoName ?? "this model")")
        }
        return course
    }

    func completeCourse(_ request: CompleteCourseRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let completed = try self.pastDate(request.completedOn, field: "completed_on")
        guard let hours = request.hours, hours <= 2000 else {
            throw RPCError.invalidArgument(field: "hours", "is required: the hours attended, at most 2000")
        }
        let rules = self.currentRules
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal)) { officer in
            try Self.requireNominated(officer)
            if let done = officer.courseCompletedOn {
                throw RPCError(.failedPrecondition, "officer \(officer.id!) completed the course on \(done)")
            }
            let course = try Self.course(of: officer, rules: rules)
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
            var change = OfficerChange(action: "complete-course", logWhy: "\(hours) hours, \(completed)")
            change.course = (completed, hours)
            return change
        }
    }

    func getOfficer(_ request: GetOfficerRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        guard let officer = try await self.store.officer(rowid: rowid) else {
            throw QualificationStoreError.officerNotFound(QualificationRecords.officerID(rowid))
        }
        try self.requireSees(principal, agencyID: officer.agencyId ?? "", write: false)
        return officer
    }

    /// The agency a list is for: the caller's own for an agency, else the one asked for (if any).
    func listedAgency(_ asked: String?, _ principal: Principal) throws -> String? {
        guard principal.role == .agency else { return asked }
        guard asked == nil || asked == principal.scope else {
            throw RPCError(.permissionDenied, "an agency sees only its own officers")
        }
        return principal.scope
    }

    func listOfficers(_ request: ListOfficersRequest, _ context: ServerContext) async throws -> ListOfficersResponse {
        let agencyID = try self.listedAgency(request.agencyId, try self.caller(context))
        let status = try request.status.map { status -> OfficerStatus in
            guard status.isKnownAndSpecified else {
                throw RPCError.invalidArgument(field: "status", "\(status.protoName) is not a status")
            }
            return status
        }
        let filters = ["agency=\(agencyID ?? "")", "status=\(status.map { String($0.rawValue) } ?? "")"]
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: filters).afterRowid
        let officers = try await self.store.officers(agencyID: agencyID, status: status, after: start, limit: size + 1)
        let (page, next) = PageToken.split(officers, size: size, filters: filters) {
            RecordID.rowid(of: $0.id)
        }
        return ListOfficersResponse(officers: Array(page), page: next)
    }
}
