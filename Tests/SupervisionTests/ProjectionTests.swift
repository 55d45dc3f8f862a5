import AccordCalendar
import AccordMessages
import AccordRPC
import AccordWire
import Testing

@testable import Supervision

@Suite("The program report ahead of now: a projection of what is on record", .timeLimit(.minutes(1)))
struct ProjectionTests {
    @Test("TFM authority lapses and a termination takes effect by the moment asked; marked as a projection")
    func projection() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let world = try await h.world()
        let jem = try #require(world.agreements[.jem])
        _ = try await h.call(
            SupervisionMethods.noticeTermination,
            NoticeTerminationRequest(agreementId: jem, reason: "the county ends its jail program")
        )
        let now = h.clock.now
        let day: Int64 = 86_400_000
        func report(_ moment: Int64?) async throws -> ProgramReport {
            try await h.call(SupervisionMethods.getProgramReport, ProgramReportRequest(asOfMs: moment))
        }
        let current = try await report(nil)
        #expect(current.projection == nil && current.authorizationsLapsing.isEmpty)
        #expect(current.officersAuthorized == 3)

        // 100 days on: the JEM notice has run out; the TFM authority holds.
        let soon = try await report(now + 100 * day)
        #expect(soon.projection == true && soon.asOfMs == now + 100 * day)
        #expect(soon.terminationsTakingEffect == [jem] && soon.authorizationsLapsing.isEmpty)
        #expect(soon.agreements.contains { $0.model == .jem && $0.status == .terminated })
        // 800 days on: the TFM authority (two years) has lapsed too.
        let later = try await report(now + 800 * day)
        #expect(later.authorizationsLapsing == [try #require(world.authorizations[.tfm])])
        #expect(later.terminationsTakingEffect == [jem])
        #expect(
            later.officersAuthorized == 1,
            "the WSO officer's authority does not lapse; JEM's ended with its agreement"
        )
        #expect(later.agreements.contains { $0.model == .tfm && $0.status == .active })

        // Later today is now; beyond three years is refused, naming the limit.
        let tonight = Day(unixMilliseconds: now).adding(1).startMilliseconds - 1
        let today = try await report(tonight)
        #expect(today.projection == nil && (today.asOfMs ?? 0) <= now)
        do {
            _ = try await report(now + 1200 * day)
            Issue.record("a report 1200 days ahead was made")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("1098 days ahead"), "\(error)")
        }
    }
}
