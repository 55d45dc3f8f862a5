import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Logging
import Testing

@testable import Intake

/// A qualification endpoint for the hand-off tests: it keeps what it was sent and answers the
/// way the contract in qualification.proto says, recording a decision back on intake. It stands
/// in for the qualification service, which is not built yet.
actor EvaluationInbox {
    private(set) var received: [String] = []
    var queuedKeys: Set<String> = []

    func take(_ request: ParticipationRequest) -> Bool {
        let key = "\(request.id!)@\(request.revision!)"
        self.received.append(key)
        return self.queuedKeys.insert(key).inserted
    }

    static func server(inbox: EvaluationInbox, intake: RPCClient, port: Int) async throws -> TestQualification {
        var router = RPCRouter()
        router.register(QualificationMethods.evaluateRequest) { request, _ in
            let queued = await inbox.take(request.request!)
            if queued {
                _ = try await intake.unary(
                    IntakeMethods.recordDecision,
                    RecordDecisionRequest(
                        requestId: request.request!.id,
                        revision: request.request!.revision,
                        status: request.agency?.hasJail == true ? .qualified : .deficient,
                        deficiencies: request.agency?.hasJail == true
                            ? [] : [Deficiency(code: "NO_JAIL", message: "JEM needs a jail")],
                        rulesVersion: "test-rules"
                    )
                )
            }
            return EvaluateRequestResponse(queued: queued)
        }
        var logger = Logger(label: "test.qualification")
        logger.logLevel = .critical
        let server = RPCServer(configuration: ServerConfiguration(port: port), router: router, logger: logger)
        let task = Task { try await server.run() }
        let address = try await server.localAddress
        return TestQualification(server: server, task: task, port: address.port!)
    }
}

struct TestQualification {
    let server: RPCServer
    let task: Task<Void, any Error>
    let port: Int

    func stop() async {
        self.server.beginGracefulShutdown()
        _ = await self.task.result
    }
}

@Suite("Evaluation hand-off through the outbox", .timeLimit(.minutes(1)))
struct HandoffTests {
    @Test("with qualification down the request stays received; once it is up the outbox delivers once")
    func deliversAfterOutage() async throws {
        let intake = try await IntakeHarness.start()
        let inbox = EvaluationInbox()
        // Learn a free port, then leave it closed: qualification is down.
        let probe = try await EvaluationInbox.server(inbox: inbox, intake: intake.client, port: 0)
        let port = probe.port
        await probe.stop()

        let dispatcher = EvaluationDispatcher(
            service: intake.service,
            qualification: [Endpoint(host: "127.0.0.1", port: port)],
            settings: OutboxSettings(pollInterval: .milliseconds(20), maxBackoff: .milliseconds(200))
        )
        let running = Task { try await dispatcher.run() }

        let agency = try await intake.register(IntakeHarness.agency("Handoff County Sheriff's Office"))
        let submitted = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!))
        )
        try await Task.sleep(for: .milliseconds(500))
        let waiting = try await intake.client.unary(
            IntakeMethods.getRequest,
            GetRequestRequest(requestId: submitted.id)
        )
        #expect(waiting.status == .received)
        #expect(await inbox.received.isEmpty)

        let qualification = try await EvaluationInbox.server(inbox: inbox, intake: intake.client, port: port)
        var decided: ParticipationRequest?
        for _ in 0..<200 {
            let current = try await intake.client.unary(
                IntakeMethods.getRequest,
                GetRequestRequest(requestId: submitted.id)
            )
            if current.status == .qualified {
                decided = current
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(decided?.rulesVersion == "test-rules")
        #expect(await inbox.received == ["\(submitted.id!)@1"])

        running.cancel()
        _ = await running.result
        await qualification.stop()
        await intake.stop()
    }

    @Test("an amended request is evaluated at its new revision; the stale revision is not sent")
    func amendedRevision() async throws {
        let intake = try await IntakeHarness.start()
        let inbox = EvaluationInbox()
        let qualification = try await EvaluationInbox.server(inbox: inbox, intake: intake.client, port: 0)
        let agency = try await intake.register(
            IntakeHarness.agency("Jailless Police", type: .municipality, hasJail: false, capacity: nil)
        )
        let submitted = try await intake.client.unary(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(request: IntakeHarness.request(agency: agency.id!))
        )
        let dispatcher = EvaluationDispatcher(
            service: intake.service,
            qualification: [Endpoint(host: "127.0.0.1", port: qualification.port)],
            settings: OutboxSettings(pollInterval: .milliseconds(20))
        )
        #expect(try await dispatcher.deliverPending() == 1)
        let deficient = try await intake.client.unary(
            IntakeMethods.getRequest,
            GetRequestRequest(requestId: submitted.id)
        )
        #expect(deficient.status == .deficient)
        _ = try await intake.client.unary(
            IntakeMethods.amendRequest,
            AmendRequestRequest(
                requestId: submitted.id,
                revision: 1,
                needs: NeedsAssessment(expectedAnnualEncounters: 1, detentionCapacity: 0, officersProposed: 1)
            )
        )
        #expect(try await dispatcher.deliverPending() == 1)
        #expect(try await dispatcher.deliverPending() == 0)
        #expect(await inbox.received == ["\(submitted.id!)@1", "\(submitted.id!)@2"])
        await qualification.stop()
        await intake.stop()
    }
}
