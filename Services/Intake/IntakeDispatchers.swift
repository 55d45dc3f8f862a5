import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordWire

/// Delivers the evaluations queued in intake's outbox to the qualification service.
///
/// A submitted or amended request queues an evaluation in the same transaction. Each is sent
/// (the request at that revision and its agency's facts); once qualification has it, the request
/// moves from RECEIVED to UNDER_REVIEW. While qualification is down the request stays RECEIVED.
/// Qualification treats a revision it already has as done, so a row sent twice is evaluated once.
public typealias EvaluationDispatcher = OutboxDispatcher<PendingEvaluation>

/// Hands the agreements found on participating ICE sheets to the supervision service
/// (`Supervision/ImportAgreement`, idempotent per agency, model and signed date).
public typealias AgreementDispatcher = OutboxDispatcher<PendingAgreement>

extension OutboxDispatcher where Item == PendingEvaluation {
    public init(
        service: IntakeService,
        qualification: [Endpoint],
        settings: OutboxSettings = .defaults,
        internalCredential: InternalCredentials? = nil,
        tls: ClientTLS? = nil
    ) {
        let store = service.store
        let clock = service.clock
        self.init(
            name: "evaluations to qualification",
            endpoints: qualification,
            speakingAs: Principal(role: .programOffice, name: "intake"),
            internalCredential: internalCredential,
            settings: settings,
            tls: tls,
            logger: service.logger,
            pending: {
                try await store.claimEvaluations(limit: $0, now: clock.now(), lease: settings.claimLeaseMilliseconds)
            },
            send: { item, delivery in
                guard item.isCurrent else { return }
                _ = try await delivery.unary(
                    QualificationMethods.evaluateRequest,
                    EvaluateRequestRequest(request: item.request, agency: item.agency)
                )
            },
            delivered: { try await store.evaluationDelivered($0, sent: $0.isCurrent, at: clock.now()) },
            release: { try await store.releaseOutbox($0.map(\.outboxRowid)) }
        )
    }
}

extension PendingEvaluation {
    /// A revision amended since, or a request withdrawn, needs no evaluation.
    var isCurrent: Bool { Int64(self.request.revision ?? 0) == self.revision && self.request.status == .received }
}

extension OutboxDispatcher where Item == PendingAgreement {
    public init(
        service: IntakeService,
        supervision: [Endpoint],
        settings: OutboxSettings = .defaults,
        internalCredential: InternalCredentials? = nil,
        tls: ClientTLS? = nil
    ) {
        let store = service.store
        let clock = service.clock
        self.init(
            name: "agreements to supervision",
            endpoints: supervision,
            speakingAs: Principal(role: .programOffice, name: "intake"),
            internalCredential: internalCredential,
            settings: OutboxSettings(
                callTimeout: settings.callTimeout,
                pollInterval: settings.pollInterval,
                maxBackoff: settings.maxBackoff,
                batchSize: 64,
                claimLease: settings.claimLease
            ),
            tls: tls,
            logger: service.logger,
            pending: {
                try await store.claimAgreements(limit: $0, now: clock.now(), lease: settings.claimLeaseMilliseconds)
            },
            send: { item, delivery in _ = try await delivery.unary(SupervisionMethods.importAgreement, item.request) },
            delivered: { try await store.agreementDelivered($0, at: clock.now()) },
            release: { try await store.releaseOutbox($0.map(\.outboxRowid)) }
        )
    }
}
