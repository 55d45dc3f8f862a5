import AccordCalendar
import AccordMessages
import AccordRPC
import AccordWire
import Testing

@testable import Supervision

@Suite("Lists as of a past moment: what was on record then", .timeLimit(.minutes(1)))
struct AsOfListTests {
    static let day: Int64 = 86_400_000

    @Test("authorizations, agreements, actions and complaints as they stood at each moment")
    func asOf() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let start = h.clock.now
        let world = try await h.world()
        let (jem, wso) = (try #require(world.authorizations[.jem]), try #require(world.authorizations[.wso]))
        let tfmAgreement = try #require(world.agreements[.tfm])
        h.clock.advance(days: 10)
        let action = try await h.act(world.officers[.jem]!, .detainer, .jail)
        let complaint = try await h.call(
            SupervisionMethods.fileComplaint,
            FileComplaintRequest(
                complaint: Complaint(
                    agreementId: world.agreements[.wso],
                    officerId: world.officers[.wso],
                    source: "detainee",
                    summary: "property not returned"
                )
            )
        )
        h.clock.advance(days: 1)
        _ = try await h.call(
            SupervisionMethods.reviewAction,
            ReviewActionRequest(actionId: action.id, review: .approved, reason: "in order"),
            as: "supervisor:\(world.supervisor)"
        )
        _ = try await h.call(
            SupervisionMethods.suspendAuthorization,
            SuspendAuthorizationRequest(authorizationId: jem, suspend: true, reason: "under inquiry")
        )
        h.clock.advance(days: 10)
        _ = try await h.call(
            SupervisionMethods.revokeAuthorization,
            RevokeAuthorizationRequest(authorizationId: wso, reason: "left the agency")
        )
        _ = try await h.call(
            SupervisionMethods.updateComplaint,
            UpdateComplaintRequest(complaintId: complaint.id, resolvedAtMs: h.clock.now, resolution: "returned")
        )
        _ = try await h.call(
            SupervisionMethods.noticeTermination,
            NoticeTerminationRequest(agreementId: tfmAgreement, reason: "ends the task force")
        )
        h.clock.advance(days: 1)

        func authorizations(
            _ moment: Int64?,
            _ status: AuthorizationStatus? = nil
        ) async throws -> [String: AuthorizationStatus] {
            let listed = try await h.call(
                SupervisionMethods.listAuthorizations,
                ListAuthorizationsRequest(agencyId: "ag_1", status: status, asOfMs: moment)
            ).authorizations
            return Dictionary(uniqueKeysWithValues: listed.map { ($0.id ?? "", $0.status ?? .unspecified) })
        }
        #expect(try await authorizations(start - Self.day).isEmpty, "nothing was authorized yet")
        let early = try await authorizations(start + 5 * Self.day)
        #expect(early.count == 3 && early.values.allSatisfy { $0 == .active }, "\(early)")
        let middle = try await authorizations(start + 15 * Self.day)
        #expect(middle[jem] == .suspended && middle[wso] == .active, "\(middle)")
        let current = try await authorizations(nil)
        #expect(current[jem] == .suspended && current[wso] == .revoked, "\(current)")
        #expect(try await authorizations(start + 5 * Self.day, .suspended).isEmpty)
        #expect(Array(try await authorizations(start + 15 * Self.day, .suspended).keys) == [jem])

        func agreement(_ moment: Int64?) async throws -> AgreementStatus? {
            try await h.call(
                SupervisionMethods.listAgreements,
                ListAgreementsRequest(agencyId: "ag_1", asOfMs: moment)
            ).agreements.first { $0.id == tfmAgreement }?.status
        }
        #expect(try await agreement(start - 400 * Self.day) == nil, "imported as signed a year before the start")
        #expect(try await agreement(start - 100 * Self.day) == .active)
        #expect(try await agreement(nil) == .terminationNoticed)

        func review(_ moment: Int64) async throws -> ReviewStatus? {
            try await h.call(
                SupervisionMethods.listActions,
                ListActionsRequest(agencyId: "ag_1", asOfMs: moment)
            ).actions.first { $0.id == action.id }?.review
        }
        #expect(try await review(start + 10 * Self.day + 3_600_000) == .pending)
        #expect(try await review(start + 12 * Self.day) == .approved)
        let beforeAction = try await h.call(
            SupervisionMethods.listActions,
            ListActionsRequest(agencyId: "ag_1", asOfMs: start + Self.day)
        )
        #expect(beforeAction.actions.isEmpty)

        func openComplaints(_ moment: Int64) async throws -> [Complaint] {
            try await h.call(
                SupervisionMethods.listComplaints,
                ListComplaintsRequest(status: .open, agencyId: "ag_1", asOfMs: moment)
            ).complaints
        }
        let open = try await openComplaints(start + 15 * Self.day)
        #expect(open.map(\.id) == [complaint.id] && open.first?.resolvedAtMs == nil)
        #expect(open.first?.overdue.contains("notice") == true, "48 business hours had passed by then")
        #expect(try await openComplaints(start + 22 * Self.day).isEmpty, "resolved by then")

        let refused = await h.code(
            SupervisionMethods.listAuthorizations,
            ListAuthorizationsRequest(agencyId: "ag_1", asOfMs: h.clock.now + 5 * Self.day)
        )
        #expect(refused?.code == .invalidArgument && refused?.message.contains("later than now") == true)
    }
}
