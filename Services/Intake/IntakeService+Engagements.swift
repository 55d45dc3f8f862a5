import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

extension IntakeService {
    func recordEngagement(_ request: RecordEngagementRequest, _ context: ServerContext) async throws -> Engagement {
        guard let body = request.engagement else { throw RPCError.invalidArgument(field: "engagement", "is required") }
        let today = self.today
        let state = try IntakeValidation.state(body.state, field: "engagement.state")
        let official = try IntakeValidation.text(body.officialName, field: "engagement.official_name")
        let office = try IntakeValidation.text(body.office, field: "engagement.office", maxLength: 100)
        let contacted = try IntakeValidation.pastDate(body.contactedOn, field: "engagement.contacted_on", today: today)
        let channel = try IntakeValidation.known(body.channel, field: "engagement.channel")
        let outcome = try IntakeValidation.known(body.outcome, field: "engagement.outcome")
        var followUp: CalendarDate?
        if let text = try IntakeValidation.optionalText(
            body.followUpOn,
            field: "engagement.follow_up_on",
            maxLength: 10
        ) {
            guard let date = CalendarDate(iso: text) else {
                throw RPCError.invalidArgument(field: "engagement.follow_up_on", "\(text) is not a date as YYYY-MM-DD")
            }
            guard date >= contacted else {
                throw RPCError.invalidArgument(field: "engagement.follow_up_on", "\(text) is before the contact")
            }
            followUp = date
        }
        let notes = try IntakeValidation.optionalText(body.notes, field: "engagement.notes", maxLength: 4000)
        var agencyRowid: Int64?
        if let id = body.agencyId {
            guard let rowid = IntakeRecords.rowid(id, prefix: "ag") else {
                throw RPCError.invalidArgument(field: "engagement.agency_id", "\(id) is not an agency id")
            }
            agencyRowid = rowid
        }
        let fields = EngagementFields(
            state: state,
            officialName: official,
            office: office,
            agencyRowid: agencyRowid,
            contactedOn: contacted.description,
            channel: channel,
            outcome: outcome,
            followUpOn: followUp?.description,
            notes: notes
        )
        return try await self.store.recordEngagement(fields, self.stamp(context, why: nil))
    }

    func listEngagements(
        _ request: ListEngagementsRequest,
        _ context: ServerContext
    ) async throws -> ListEngagementsResponse {
        _ = try self.principal(context)
        var filter = EngagementFilter()
        filter.state = try request.state.map { try IntakeValidation.state($0, field: "state") }
        filter.outcome = try request.outcome.map { try IntakeValidation.known($0, field: "outcome") }
        if request.overdueFollowUp == true { filter.followUpBefore = self.today.description }
        let fingerprint = [
            filter.state.map { "state=\($0)" }, filter.outcome.map { "outcome=\($0.rawValue)" },
            filter.followUpBefore.map { "overdue=\($0)" },
        ].compactMap { $0 }
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: fingerprint)
        let found = try await self.store.engagements(filter, after: after.afterRowid, limit: size + 1)
        let (page, next) = PageToken.split(found, size: size, filters: fingerprint) { RecordID.rowid(of: $0.id) }
        return ListEngagementsResponse(engagements: Array(page), page: next)
    }
}
