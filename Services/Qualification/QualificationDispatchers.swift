import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordWire

/// Reports each evaluation to intake (`Intake/RecordDecision`) until intake has recorded it.
/// The evaluations not yet reported are the outbox; intake takes the same decision twice as once.
public typealias DecisionReporter = OutboxDispatcher<PendingDecision>

/// Notifies supervision of every certified officer (`Supervision/NotifyCertified`), which
/// authorizes the officer when the agency holds an active agreement of the model. Certified
/// officers not yet notified are the outbox; supervision takes the same notice twice as once.
public typealias CertificationNotifier = OutboxDispatcher<PendingCertification>

extension OutboxDispatcher where Item == PendingDecision {
    public init(
        service: QualificationService,
        intake: [Endpoint],
        settings: OutboxSettings = .defaults,
        internalCredential: InternalCredentials? = nil,
        tls: ClientTLS? = nil
    ) {
        let store = service.store
        let clock = service.clock
        let logger = service.logger
        self.init(
            name: "decisions to intake",
            endpoints: intake,
            speakingAs: Principal(role: .programOffice, name: "qualification"),
            internalCredential: internalCredential,
            settings: settings,
            tls: tls,
            logger: logger,
            pending: {
                try await store.claimDecisions(limit: $0, now: clock.now(), lease: settings.claimLeaseMilliseconds)
            },
            send: { item, delivery in
                do {
                    _ = try await delivery.unary(IntakeMethods.recordDecision, item.evaluation.decision)
                } catch let error as RPCError where error.code == .failedPrecondition || error.code == .notFound {
                    // The request moved on (amended, withdrawn) or is gone: nothing to record.
                    logger.notice(
                        "Intake did not take a decision",
                        metadata: ["request": "\(item.evaluation.requestId ?? "")", "error": "\(error)"]
                    )
                }
            },
            delivered: { try await store.decisionReported($0, at: clock.now()) },
            release: { try await store.releaseDecisions($0) }
        )
    }
}

extension Evaluation {
    /// The decision intake records for this evaluation.
    var decision: RecordDecisionRequest {
        RecordDecisionRequest(
            requestId: self.requestId,
            revision: self.revision,
            status: self.status,
            deficiencies: self.failed.map { Deficiency(code: $0.code, message: $0.message) },
            rulesVersion: self.rulesVersion
        )
    }
}

extension OutboxDispatcher where Item == PendingCertification {
    public init(
        service: QualificationService,
        supervision: [Endpoint],
        settings: OutboxSettings = .defaults,
        internalCredential: InternalCredentials? = nil,
        tls: ClientTLS? = nil
    ) {
        let store = service.store
        let clock = service.clock
        let logger = service.logger
        self.init(
            name: "certifications to supervision",
            endpoints: supervision,
            speakingAs: Principal(role: .programOffice, name: "qualification"),
            internalCredential: internalCredential,
            settings: settings,
            tls: tls,
            logger: logger,
            pending: {
                try await store.claimCertifications(limit: $0, now: clock.now(), lease: settings.claimLeaseMilliseconds)
            },
            send: { item, delivery in
                let officer = item.officer
                let answer = try await delivery.unary(
                    SupervisionMethods.notifyCertified,
                    NotifyCertifiedRequest(
                        officerId: officer.id,
                        agencyId: officer.agencyId,
                        model: officer.model,
                        name: officer.name,
                        certifiedOn: officer.certifiedOn,
                        rulesVersion: officer.rulesVersion
                    )
                )
                if let authorization = answer.authorizationId {
                    logger.info(
                        "Supervision authorized a certified officer",
                        metadata: ["officer": "\(officer.id ?? "")", "authorization": "\(authorization)"]
                    )
                }
            },
            delivered: { try await store.certificationNotified($0, at: clock.now()) },
            release: { try await store.releaseCertifications($0) }
        )
    }
}
