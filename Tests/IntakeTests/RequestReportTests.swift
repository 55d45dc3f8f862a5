import AccordMessages
import AccordRPC
import AccordServiceKit
import Synchronization
import Testing

/// The request report as of a moment: the statuses requests had then, from their history.
@Suite("request report as of a moment")
struct RequestReportTests {
    @Test("counts the statuses requests had at the moment asked, and only requests submitted by then")
    func asOf() async throws {
        let moment = Mutex<Int64>(IntakeHarness.fixedNow)
        let clock = ServiceClock { moment.withLock { $0 } }
        let intake = try await IntakeHarness.start(clock: clock)
        defer { Task { await intake.stop() } }
        let hour: Int64 = 3_600_000
        let submittedAt = IntakeHarness.fixedNow
        let agency = try await intake.register(IntakeHarness.agency("Hays County Sheriff's Office"))
        let submitted = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!))
        )
        moment.withLock { $0 += 2 * hour }
        _ = try await intake.client.unary(
            IntakeMethods.recordDecision,
            RecordDecisionRequest(
                requestId: submitted.id,
                revision: 1,
                status: .deficient,
                deficiencies: [Deficiency(code: "NO_JAIL", message: "JEM needs a jail")],
                rulesVersion: "rules-1"
            )
        )
        moment.withLock { $0 += hour }
        func report(_ at: Int64?) async throws -> RequestReport {
            try await intake.client.unary(
                IntakeMethods.getRequestReport,
                RequestReportRequest(asOfMs: at),
                options: AccessTests.options("program-office")
            )
        }
        func statuses(_ shown: RequestReport) -> [RequestStatus: UInt32] {
            Dictionary(shown.counts.map { ($0.status ?? .unspecified, $0.count ?? 0) }, uniquingKeysWith: +)
        }
        let before = try await report(submittedAt - hour)
        #expect(before.counts.isEmpty && before.decided == 0 && before.asOfMs == submittedAt - hour)
        let received = try await report(submittedAt + hour)
        #expect(statuses(received) == [.received: 1] && received.decided == 0, "\(received)")
        let decided = try await report(submittedAt + 2 * hour + 1)
        #expect(statuses(decided) == [.deficient: 1] && decided.decided == 1, "\(decided)")
        let now = try await report(nil)
        #expect(statuses(now) == [.deficient: 1] && now.asOfMs == submittedAt + 3 * hour)
        let ahead = try await report(submittedAt + 100 * hour)
        #expect(statuses(ahead) == [.deficient: 1] && ahead.asOfMs == submittedAt + 3 * hour, "later than now is now")
        do {
            _ = try await report(-5)
            Issue.record("a negative moment was taken")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("as_of_ms"), "\(error)")
        }
    }
}
