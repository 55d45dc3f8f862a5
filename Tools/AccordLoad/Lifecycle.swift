import AccordLoadKit
import AccordMessages
import AccordRPC
import Foundation

/// The lifecycle scenario: each worker runs whole agency journeys through the gateway, one after
/// another: register an agency (as the program office), give it a token (as the operator), submit
/// a JEM request (as the agency), wait for qualification's decision,
/// nominate, vet, train (exams, then the course completed) and certify an officer, offer the agreement, both signatures, authorize
/// the officer (unless the certification notice already did), assign a supervisor, record an
/// action. Every step counts as its operation; `Journey` is the whole, from the first call to
/// the recorded action.
enum Lifecycle {
    struct Step: Error {
        let operation: String
        let status: String
    }

    static func journeys(
        concurrency: Int,
        warmup: Duration,
        measure: Duration,
        client: RPCClient,
        options: CallOptions,
        operatorOptions: CallOptions?,
        live: LiveProgress
    ) async throws -> Results {
        let clock = ContinuousClock()
        let measureFrom = clock.now + warmup
        let end = measureFrom + measure
        let run = String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        return try await withThrowingTaskGroup(of: Results.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var results = Results()
                    var journey = 0
                    while clock.now < end {
                        journey += 1
                        let started = clock.now
                        let measured = started >= measureFrom
                        do {
                            try await Self.journey(
                                "\(run)-\(worker)-\(journey)",
                                client: client,
                                options: options,
                                operatorOptions: operatorOptions
                            ) { operation, micros in
                                if measured { results.record(operation, micros: micros) }
                            }
                            if measured {
                                let micros = AccordLoad.micros(clock.now - started)
                                results.record("Journey", micros: micros)
                                live.record(micros: micros, error: false)
                            }
                        } catch let failure as Step {
                            if measured {
                                results.fail(failure.operation, status: failure.status)
                                results.fail("Journey", status: failure.status)
                                live.record(micros: 0, error: true)
                            }
                        }
                    }
                    return results
                }
            }
            var total = Results()
            for try await results in group { total.add(results) }
            return total
        }
    }

    /// One journey; `record` gets each step's latency. The agency's own steps (its request, its
    /// officer's nomination, its signature, the action) run with a token made for it when
    /// `operatorOptions` can make one (through the gateway), else with `options`.
    static func journey(
        _ name: String,
        client: RPCClient,
        options: CallOptions,
        operatorOptions: CallOptions?,
        record: (String, UInt64) -> Void
    ) async throws {
        let clock = ContinuousClock()
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        func step<Request, Response>(
            _ method: RPCMethod<Request, Response>,
            _ request: Request,
            as caller: CallOptions? = nil
        ) async throws -> Response {
            let started = clock.now
            let operation = AccordLoad.operation(method.path)
            do {
                let response = try await client.unary(method, request, options: caller ?? options)
                record(operation, AccordLoad.micros(clock.now - started))
                return response
            } catch {
                throw Step(operation: operation, status: AccordLoad.status(of: error))
            }
        }
        /// Polls until `done` says so (a hand-off between services), for at most 30 s.
        func wait<Response>(
            _ operation: String,
            _ poll: () async throws -> Response,
            until done: (Response) -> Bool
        )
            async throws
        {
            let started = clock.now
            while clock.now - started < .seconds(30) {
                if let response = try? await poll(), done(response) {
                    record(operation, AccordLoad.micros(clock.now - started))
                    return
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw Step(operation: operation, status: "TIMED_OUT")
        }
        let agency = try await step(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(
                agency: Agency(
                    state: "TX",
                    name: "Journey \(name) Sheriff's Office",
                    type: .county,
                    hasJail: true,
                    jailCapacity: 200
                )
            )
        )
        var own = options
        if let operatorOptions {
            let made = try await step(
                GatewayMethods.createToken,
                CreateTokenRequest(
                    role: "agency",
                    scope: agency.id,
                    name: "accord-load \(name)",
                    expiresInSeconds: 3600
                ),
                as: operatorOptions
            )
            own = CallOptions(metadata: [MetadataKey.authorization: "Bearer \(made.token ?? "")"])
        }
        let request = try await step(
            IntakeMethods.submitRequest,
            SubmitRequestRequest(
                request: ParticipationRequest(
                    agencyId: agency.id,
                    model: .jem,
                    partner: .ice,
                    consent: Consent(officialName: "Sheriff", office: "Sheriff", signedOn: today),
                    needs: NeedsAssessment(expectedAnnualEncounters: 300, detentionCapacity: 150, officersProposed: 2)
                )
            ),
            as: own
        )
        try await wait(
            "WaitForDecision",
            {
                try await client.unary(
                    IntakeMethods.getRequest,
                    GetRequestRequest(requestId: request.id),
                    options: options
                )
            },
            until: { $0.status == .qualified || $0.status == .deficient }
        )
        let officer = try await step(
            QualificationMethods.nominateOfficer,
            NominateOfficerRequest(
                officer: Officer(
                    agencyId: agency.id,
                    model: .jem,
                    name: "Officer \(name)",
                    usCitizen: true,
                    swornSince: "2015-01-01"
                )
            ),
            as: own
        )
        _ = try await step(
            QualificationMethods.recordBackground,
            RecordBackgroundRequest(officerId: officer.id, result: .favorable, completedOn: today)
        )
        _ = try await step(QualificationMethods.enrollOfficer, EnrollOfficerRequest(officerId: officer.id))
        for exam in ["module-1", "module-2", "module-3", "final"] {
            _ = try await step(
                QualificationMethods.recordExamAttempt,
                RecordExamAttemptRequest(officerId: officer.id, exam: exam, score: 85, takenOn: today)
            )
        }
        _ = try await step(
            QualificationMethods.completeCourse,
            CompleteCourseRequest(officerId: officer.id, completedOn: today, hours: 160)
        )
        _ = try await step(QualificationMethods.certifyOfficer, CertifyOfficerRequest(officerId: officer.id))
        let agreement = try await step(
            SupervisionMethods.offerAgreement,
            OfferAgreementRequest(requestId: request.id, office: "ERO Load")
        )
        _ = try await step(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: agreement.id, party: .agency, signedBy: "Sheriff"),
            as: own
        )
        _ = try await step(
            SupervisionMethods.signAgreement,
            SignAgreementRequest(agreementId: agreement.id, party: .federal, signedBy: "Field Office Director")
        )
        // Supervision authorizes a certified officer by itself when the certification notice
        // finds the agreement active; usually the notice came first and found none, so the
        // journey authorizes now. When the notice won the race the call answers ALREADY_EXISTS
        // (reason AUTHORIZED): the officer is authorized either way, which is what this step is for.
        let authorizeStarted = clock.now
        do {
            _ = try await client.unary(
                SupervisionMethods.authorizeOfficer,
                AuthorizeOfficerRequest(officerId: officer.id),
                options: options
            )
        } catch let error as RPCError where error.code == .alreadyExists && error.errorDetails?.reason == "AUTHORIZED" {
            // Authorized by the certification notice.
        } catch {
            throw Step(operation: "AuthorizeOfficer", status: AccordLoad.status(of: error))
        }
        record("AuthorizeOfficer", AccordLoad.micros(clock.now - authorizeStarted))
        let supervisor = try await step(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(
                supervisor: Supervisor(name: "Supervisor \(name)", component: .ice, office: "ERO Load")
            )
        )
        _ = try await step(
            SupervisionMethods.assignSupervisor,
            AssignSupervisorRequest(supervisorId: supervisor.id, agreementId: agreement.id)
        )
        _ = try await step(
            SupervisionMethods.recordAction,
            RecordActionRequest(
                action: DelegatedAction(
                    officerId: officer.id,
                    function: .detainer,
                    performedAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                    place: .jail,
                    subjectRef: "J-\(name)"
                )
            ),
            as: own
        )
    }
}
