import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit

/// Recurring training: completions are recorded; compliance is computed as of any date.
extension QualificationService {

    func registerCompliance(into router: inout RPCRouter) {
        router.register(QualificationMethods.recordRecurringTraining) { try await self.recordRecurring($0, $1) }
        router.register(QualificationMethods.getCompliance) { try await self.compliance($0, $1) }
    }

    func recordRecurring(_ request: RecordRecurringTrainingRequest, _ context: ServerContext) async throws -> Officer {
        let principal = try self.caller(context)
        let rowid = try Self.officerRowid(request.officerId, field: "officer_id")
        let course = try Self.text(request.course, field: "course", max: 100)
        let completed = try self.pastDate(request.completedOn, field: "completed_on")
        let rules = self.currentRules
        return try await self.store.changeOfficer(rowid: rowid, self.stamp(principal)) { officer in
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
            var change = OfficerChange(action: "recurring:\(course)", logWhy: completed)
            change.recurring = (course, completed)
            return change
        }
    }

    func compliance(_ request: GetComplianceRequest, _ context: ServerContext) async throws -> GetComplianceResponse {
        let agencyID = try self.listedAgency(request.agencyId, try self.caller(context))
        let asOf =
            try request.asOf.map { text -> String in
                guard Day(text) != nil, text.count == 10 else {
                    throw RPCError.invalidArgument(field: "as_of", "\(text) is not a date as YYYY-MM-DD")
                }
                return text
            } ?? self.today
        let rules = self.currentRules
        let (officers, completions) = try await self.store.complianceFacts(agencyID: agencyID, asOf: asOf)
        var response = GetComplianceResponse(
            asOf: asOf,
            certifiedOfficers: UInt32(officers.count),
            current: 0,
            dueSoon: 0,
            overdue: 0,
            rulesVersion: rules.version,
            simulatedClock: self.clock.simulation != nil ? true : nil,
            projection: asOf > self.today ? true : nil
        )
        var exceptions: [String: (overdue: UInt32, dueSoon: UInt32)] = [:]
        for officer in officers {
            let result = Compliance.officer(
                id: QualificationRecords.officerID(officer.rowid),
                agencyID: officer.agencyID,
                model: officer.model,
                certifiedOn: officer.certifiedOn,
                completions: completions[officer.rowid] ?? [:],
                rules: rules,
                asOf: asOf
            )
            switch result.status {
            case .overdue:
                response.overdue! += 1
                exceptions[officer.agencyID, default: (0, 0)].overdue += 1
            case .dueSoon:
                response.dueSoon! += 1
                exceptions[officer.agencyID, default: (0, 0)].dueSoon += 1
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
