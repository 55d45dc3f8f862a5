import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordStorage
import GRDB

/// Recurring training: completions are recorded; compliance is computed as of any date.
extension QualificationService {
    static let recurringMigration = Migration("2026-11-30-qualification-v3-recurring") { db in
        try db.execute(
            sql: """
                CREATE TABLE recurring_completion (
                    rowid INTEGER PRIMARY KEY,
                    officer_rowid INTEGER NOT NULL REFERENCES officer (rowid),
                    course TEXT NOT NULL,
                    completed_on TEXT NOT NULL
                );
                CREATE INDEX recurring_completion_officer ON recurring_completion (officer_rowid, course);
                CREATE INDEX officer_status ON officer (status);
                """
        )
    }

    func registerCompliance(into router: inout RPCRouter) {
        router.register(QualificationMethods.recordRecurringTraining) { try await self.recordRecurring($0, $1) }
        router.register(QualificationMethods.getCompliance) { try await self.compliance($0, $1) }
    }

    func recordRecurring(_ request: RecordRecurringTrainingRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        try self.requireVetting(principal, "record training")
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let course = try Self.text(request.course, field: "course", max: 100)
        let completed = try self.pastDate(request.completedOn, field: "completed_on")
        let rules = self.currentRules
        let who = principal.description
        let now = self.now()
        return try await self.store.write { db in
            let officer = try Self.loadOfficer(db, rowid)
            let courses = rules.recurring.courses(for: officer.model ?? .unspecified).map(\.course)
            guard courses.contains(course) else {
                throw RPCError.invalidArgument(
                    field: "course",
                    "\(course) is not recurring training of \(officer.model?.protoName ?? "this model"): \(courses.joined(separator: ", "))"
                )
            }
            guard officer.status == .certified else {
                throw RPCError(
                    .failedPrecondition,
                    "officer \(officer.id!) is \(officer.status!.protoName), not certified"
                )
            }
            try db.execute(
                sql: "INSERT INTO recurring_completion (officer_rowid, course, completed_on) VALUES (?, ?, ?)",
                arguments: [rowid, course, completed]
            )
            try Self.logChange(db, rowid, "recurring:\(course)", who: who, at: now, why: completed)
            return officer
        }
    }

    func compliance(_ request: GetComplianceRequest, _ context: ServerContext) async throws -> GetComplianceResponse {
        let principal = try self.caller(context)
        var agencyID = request.agencyId
        if principal.role == .agency {
            guard agencyID == nil || agencyID == principal.scope else {
                throw RPCError(.permissionDenied, "an agency sees only its own officers")
            }
            agencyID = principal.scope
        }
        let asOf =
            try request.asOf.map { text -> String in
                guard Day(text) != nil, text.count == 10 else {
                    throw RPCError.invalidArgument(field: "as_of", "\(text) is not a date as YYYY-MM-DD")
                }
                return text
            } ?? self.today
        let rules = self.currentRules
        let filterAgency = agencyID
        let (officers, completions) = try await self.store.read { db in
            var filter = SQLFilter()
            filter.equal("agency_id", filterAgency)
            filter.add("status = ? AND certified_on <= ?", [OfficerStatus.certified.rawValue, asOf])
            let officers = try Row.fetchAll(
                db,
                sql: "SELECT rowid, agency_id, model, certified_on FROM officer WHERE \(filter.sql) ORDER BY rowid",
                arguments: filter.arguments
            ).map {
                (
                    rowid: $0[0] as Int64, agency: $0[1] as String, model: Model(rawValue: $0[2]),
                    certified: $0[3] as String
                )
            }
            var completions: [Int64: [String: String]] = [:]
            // One agency's completions through the officer index; the whole program's by a scan.
            let ofAgency =
                filterAgency == nil ? "" : "AND officer_rowid IN (SELECT rowid FROM officer WHERE agency_id = ?)"
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT officer_rowid, course, MAX(completed_on) FROM recurring_completion
                    WHERE completed_on <= ? \(ofAgency)
                    GROUP BY officer_rowid, course
                    """,
                arguments: StatementArguments([asOf] + (filterAgency.map { [$0] } ?? []))
            ) {
                completions[row[0], default: [:]][row[1]] = row[2]
            }
            return (officers, completions)
        }
        var response = GetComplianceResponse(
            asOf: asOf,
            certifiedOfficers: UInt32(officers.count),
            current: 0,
            dueSoon: 0,
            overdue: 0,
            rulesVersion: rules.version
        )
        var exceptions: [String: (overdue: UInt32, dueSoon: UInt32)] = [:]
        for officer in officers {
            let result = Compliance.officer(
                id: Self.officerID(officer.rowid),
                agencyID: officer.agency,
                model: officer.model,
                certifiedOn: officer.certified,
                completions: completions[officer.rowid] ?? [:],
                rules: rules,
                asOf: asOf
            )
            switch result.status {
            case .overdue:
                response.overdue! += 1
                exceptions[officer.agency, default: (0, 0)].overdue += 1
            case .dueSoon:
                response.dueSoon! += 1
                exceptions[officer.agency, default: (0, 0)].dueSoon += 1
            default:
                response.current! += 1
            }
            if request.exceptionsOnly != true || result.status != .current {
                response.officers.append(result)
            }
        }
        response.exceptions = exceptions.sorted { $0.key < $1.key }.map {
            AgencyExceptions(agencyId: $0.key, overdue: $0.value.overdue, dueSoon: $0.value.dueSoon)
        }
        return response
    }
}
