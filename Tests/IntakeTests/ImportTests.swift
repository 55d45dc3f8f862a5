import AccordMessages
import AccordRPC
import AccordSheets
import Testing

@testable import Intake

@Suite("ICE sheet import on the real published lists", .timeLimit(.minutes(2)))
struct ImportTests {
    @Test("the participating list of 2025-05-16: exact counts, the one bad row named, a second import changes nothing")
    func participating() async throws {
        let intake = try await IntakeHarness.start()
        let rows = try IntakeHarness.sheet("ice-287g-participating-2025-05-16.csv")
        #expect(rows.count == 571)
        let first = try await intake.importSheet(rows, kind: .participating, sheet: "participating-2025-05-16")
        #expect(first.read == 571)
        #expect(first.imported == 570)
        #expect(first.unchanged == 0)
        #expect(first.rejected == 1)
        #expect(first.rejections == [RowRejection(line: 545, reason: "signed date \"05/082025\" is not a date")])
        #expect(try await intake.allAgencies().count == 461)

        var agreements = 0
        var token: String?
        repeat {
            let page = try await intake.client.unary(
                IntakeMethods.listImportedAgreements,
                ListImportedAgreementsRequest(page: PageRequest(pageSize: 1000, pageToken: token))
            )
            agreements += page.agreements.count
            token = page.page?.nextPageToken
        } while token != nil
        #expect(agreements == 570)

        let colbert = try await intake.client.unary(
            IntakeMethods.listAgencies,
            ListAgenciesRequest(state: "AL", namePrefix: "Colbert County")
        ).agencies
        #expect(colbert.count == 1)
        #expect(colbert.first?.county == "Colbert County")
        let colbertAgreements = try await intake.client.unary(
            IntakeMethods.listImportedAgreements,
            ListImportedAgreementsRequest(agencyId: colbert.first?.id)
        ).agreements
        #expect(Set(colbertAgreements.compactMap(\.model)) == [.jem, .wso])
        #expect(colbertAgreements.allSatisfy { $0.signedOn == "2025-05-08" && $0.moaLink == "link pending" })

        let second = try await intake.importSheet(rows, kind: .participating, sheet: "participating-2025-05-16")
        #expect(second.read == 571 && second.imported == 0 && second.unchanged == 570 && second.rejected == 1)
        #expect(try await intake.allAgencies().count == 461)
        await intake.stop()
    }

    @Test("the pending list of 2025-07-18: 26 pending requests, 25 agencies; again, nothing new")
    func pending() async throws {
        let intake = try await IntakeHarness.start()
        let rows = try IntakeHarness.sheet("ice-287g-pending-2025-07-18.csv")
        #expect(rows.count == 26)
        let first = try await intake.importSheet(rows, kind: .pending, sheet: "pending-2025-07-18")
        #expect(first.read == 26 && first.imported == 26 && first.unchanged == 0 && first.rejected == 0)
        #expect(try await intake.allAgencies().count == 25)
        let requests = try await intake.client.unary(
            IntakeMethods.listRequests,
            ListRequestsRequest(page: PageRequest(pageSize: 100))
        )
        #expect(requests.requests.count == 26)
        #expect(
            requests.requests.allSatisfy {
                $0.status == .received && $0.source == "ice-sheet:pending-2025-07-18" && $0.partner == .ice
            }
        )
        let second = try await intake.importSheet(rows, kind: .pending, sheet: "pending-2025-07-18")
        #expect(second.imported == 0 && second.unchanged == 26)
        await intake.stop()
    }

    @Test("both lists: pending agencies that already participate are matched, not duplicated")
    func bothLists() async throws {
        let intake = try await IntakeHarness.start()
        _ = try await intake.importSheet(
            try IntakeHarness.sheet("ice-287g-participating-2025-05-16.csv"),
            kind: .participating,
            sheet: "participating-2025-05-16"
        )
        let pending = try await intake.importSheet(
            try IntakeHarness.sheet("ice-287g-pending-2025-07-18.csv"),
            kind: .pending,
            sheet: "pending-2025-07-18"
        )
        #expect(pending.imported == 26)
        #expect(try await intake.allAgencies().count == 461 + 24)
        await intake.stop()
    }

    @Test("a sheet with broken rows: each named by line and reason, the rest imported")
    func brokenRows() async throws {
        let intake = try await IntakeHarness.start()
        let csv = """
            STATE,LAW ENFORCEMENT AGENCY,TYPE,COUNTY,SUPPORT TYPE,SIGNED,MOA
            TEXAS,Good County Sheriff's Office ,County,Good County,task force model,7/1/2025,link
            TEXAS,,County,X County,Task Force Model,7/1/2025,link
            TEXAS,Bad Date Office,County,#N/A,Task Force Model,7/72025,link
            TEXAS,Future Office,County,#N/A,Task Force Model,1/1/5025,link
            TEXAS,Odd Model Office,County,#N/A,Border Model,7/1/2025,link
            ATLANTIS,Sunk Office,County,#N/A,Task Force Model,7/1/2025,link
            TEXAS,GOOD COUNTY SHERIFFS OFFICE,County,Good County,Jail Enforcement Model,2025-07-02 00:00:00,link pending
            """
        let result = try await intake.importSheet(try ICESheet.rows(csv: csv), kind: .participating, sheet: "broken")
        #expect(result.read == 7 && result.imported == 2 && result.rejected == 5)
        #expect(result.rejections.map(\.line) == [3, 4, 5, 6, 7])
        #expect(result.rejections[0].reason == "agency name is missing")
        #expect(try await intake.allAgencies().map(\.name) == ["Good County Sheriff's Office"])
        await intake.stop()
    }
}
